/**
 * The web inspector's Web Worker: opens files (a `File` read by range, a sharded
 * checkpoint's index chosen with its shards, or a URL read by Range requests), and runs statistics, verify and diff off the page's thread, with the
 * library's limits, progress messages and cancellation. A hostile file can make a run
 * fail with its `CODE: message`, never freeze the page. See `protocol.ts`.
 */
import { openTensorFile, verifyTensorFile } from '../../operations/index.js';
import { openShardedCheckpointWith } from '../../formats/sharded/reader.js';
import { parseShardIndex } from '../../formats/sharded/index-file.js';
import { SHARDED_INDEX_MAX_BYTES } from '../../core/limits.js';
import { TensioError } from '../../core/errors.js';
import type { VerifyReport } from '../../model/types.js';
import { diffTensorReaders } from '../../operations/diff.js';
import { tensorStatistics } from '../../operations/tensor-stats.js';
import { blobSource } from '../../storage/blob-source.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { elementCount } from '../../core/sizes.js';
import type { TensorReader } from '../../model/types.js';
import type { FileSummary, InspectorInput, InspectorRequest, InspectorResponse, NamedBlob, Slot } from './protocol.js';

/** The worker global, typed here so this file needs no DOM/WebWorker lib. */
const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (event: { data: InspectorRequest }) => void): void;
  postMessage(message: InspectorResponse): void;
};

interface OpenFile {
  readonly reader: TensorReader;
  /** Verifies what was opened (the file, or each shard of a chosen set). */
  verify(signal: AbortSignal): Promise<VerifyReport>;
}

const open = new Map<Slot, OpenFile>();
const running = new Map<number, AbortController>();
/** Longest metadata text sent to the page (the page folds anything long anyway). */
const MAX_METADATA_TEXT = 64 * 1024;
/** Least time between two progress messages. */
const PROGRESS_INTERVAL_MS = 100;

function post(message: InspectorResponse): void {
  scope.postMessage(message);
}

function fail(id: number, error: unknown): void {
  const code = (error as { code?: unknown })?.code;
  post({ type: 'error', id, code: typeof code === 'string' ? code : 'INTERNAL', message: (error as Error)?.message ?? String(error) });
}

function metadataText(value: unknown): string {
  if (typeof value === 'string') return value.length > MAX_METADATA_TEXT ? `${value.slice(0, MAX_METADATA_TEXT)}… (${value.length} characters)` : value;
  let text: string;
  try {
    text = JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'bigint') return item.toString();
      if (ArrayBuffer.isView(item)) {
        const list = Array.from(item as unknown as ArrayLike<number>).slice(0, 64);
        return `${item.constructor.name}(${(item as unknown as ArrayLike<number>).length}) [${list.join(', ')}${(item as unknown as ArrayLike<number>).length > 64 ? ', …' : ''}]`;
      }
      return item;
    }) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_METADATA_TEXT ? `${text.slice(0, MAX_METADATA_TEXT)}… (${text.length} characters)` : text;
}

function summarize(reader: TensorReader, name: string, size: number | undefined): FileSummary {
  return {
    name,
    format: reader.format,
    ...(size !== undefined ? { size } : {}),
    metadata: Object.entries(reader.metadata).map(([key, value]) => [key, metadataText(value)] as const),
    tensors: reader.tensors.map((info) => {
      const shard = info.extras?.shard;
      return {
        name: info.name,
        dtype: info.dtype,
        ...(info.formatDtype && info.formatDtype !== info.dtype ? { formatDtype: info.formatDtype } : {}),
        shape: info.shape,
        parameters: elementCount(info.shape),
        bytes: info.byteLength,
        ...(typeof shard === 'string' ? { shard } : {}),
      };
    }),
  };
}

/** Opens what the page asked for: a File (read by range), a URL (Range requests), or an index with its shards. */
async function openInput(input: InspectorInput, signal: AbortSignal): Promise<OpenFile & { name: string; size?: number }> {
  if (input.kind === 'url') {
    const reader = await openTensorFile(input.url, { signal });
    return { reader, name: input.url, verify: (abort) => verifyTensorFile(input.url, { signal: abort }) };
  }
  const files = input.kind === 'file' ? [input.file] : input.files;
  if (files.length === 1) {
    const source = blobSource(files[0]!, files[0]!.name);
    const reader = await openTensorFile(source, { signal });
    return { reader, name: files[0]!.name, size: files[0]!.size, verify: (abort) => verifyTensorFile(source, { signal: abort }) };
  }
  return openChosenShards(files, signal);
}

/**
 * A sharded checkpoint from several chosen files: the one `*.index.json` among them
 * and every shard it names (by file name), opened and checked as `openTensorFile`
 * opens an index beside its shards.
 */
async function openChosenShards(files: readonly NamedBlob[], signal: AbortSignal): Promise<OpenFile & { name: string; size?: number }> {
  const indexes = files.filter((file) => file.name.endsWith('.index.json'));
  if (indexes.length !== 1) {
    throw new TensioError('INVALID_ARGUMENT', `${files.length} files chosen and ${indexes.length === 0 ? 'none is' : `${indexes.length} are`} a sharded checkpoint index (*.index.json): choose one file, or one index together with the shards it names`);
  }
  const indexFile = indexes[0]!;
  if (indexFile.size > SHARDED_INDEX_MAX_BYTES) throw new TensioError('HEADER_TOO_LARGE', `sharded: index ${indexFile.name} has ${indexFile.size} bytes, over the limit ${SHARDED_INDEX_MAX_BYTES}`);
  const index = parseShardIndex(new Uint8Array(await indexFile.arrayBuffer()));
  const byName = new Map(files.map((file) => [file.name, file]));
  const missing = index.shards.filter((shard) => !byName.has(shard));
  if (missing.length > 0) {
    throw new TensioError('NOT_FOUND', `sharded: ${indexFile.name} names ${index.shards.length} shards; ${missing.length} of them were not chosen (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): choose the index together with all its shards`);
  }
  const extension = /(\.[^.]+)\.index\.json$/.exec(indexFile.name)?.[1] ?? '';
  const format = extension === '.bin' ? 'pytorch' : extension.slice(1) || 'sharded';
  const sources = new Map(index.shards.map((shard) => [shard, blobSource(byName.get(shard)!, shard)]));
  const reader = await openShardedCheckpointWith(indexFile.name, index, format, async (shard, abort) => {
    try {
      return await openTensorFile(sources.get(shard)!, abort ? { signal: abort } : {});
    } catch (cause) {
      if (cause instanceof TensioError) throw new TensioError(cause.code, `${cause.message} (shard ${shard})`, { format: cause.format, cause });
      throw cause;
    }
  }, signal);
  const size = files.reduce((sum, file) => sum + file.size, 0);
  return { reader, name: `${indexFile.name} + ${index.shards.length} shards`, size, verify: (abort) => verifyShardSources(indexFile.name, format, sources, abort) };
}

/** Verifies each chosen shard alone and sums the reports (the index was checked against the shards when they opened). */
async function verifyShardSources(indexName: string, format: string, sources: ReadonlyMap<string, ByteSource>, signal: AbortSignal): Promise<VerifyReport> {
  const reports: VerifyReport[] = [];
  for (const [shard, source] of sources) {
    const report = await verifyTensorFile(source, { signal });
    reports.push({ ...report, problems: report.problems.map((problem) => ({ ...problem, message: `${shard}: ${problem.message}` })) });
  }
  return {
    ok: reports.every((report) => report.ok),
    format,
    path: indexName,
    tensors: reports.reduce((sum, report) => sum + report.tensors, 0),
    checksumsVerified: reports.reduce((sum, report) => sum + report.checksumsVerified, 0),
    withoutChecksum: reports.reduce((sum, report) => sum + report.withoutChecksum, 0),
    problems: reports.flatMap((report) => report.problems),
  };
}

/** Progress messages for run `id`, at most one per {@link PROGRESS_INTERVAL_MS}. */
function progressOf(id: number): (progress: { done: number; total: number }) => void {
  let last = 0;
  return ({ done, total }) => {
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS && done < total) return;
    last = now;
    post({ type: 'progress', id, done, total });
  };
}

function readerOf(slot: Slot): OpenFile {
  const file = open.get(slot);
  if (!file) throw Object.assign(new Error(`no file is open in slot ${slot}; open one first`), { code: 'INVALID_ARGUMENT' });
  return file;
}

async function handle(request: InspectorRequest): Promise<void> {
  if (request.type === 'cancel') {
    running.get(request.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(request.id, controller);
  const { signal } = controller;
  try {
    switch (request.type) {
      case 'open': {
        const { name, size, ...opened } = await openInput(request.input, signal);
        await open.get(request.slot)?.reader.close?.();
        open.set(request.slot, opened);
        post({ type: 'opened', id: request.id, slot: request.slot, summary: summarize(opened.reader, name, size) });
        break;
      }
      case 'stats': {
        const { reader } = readerOf(request.slot);
        const stats = await tensorStatistics(reader, request.name, { bins: request.bins, signal, onProgress: progressOf(request.id), ...(request.chunkBytes ? { chunkBytes: request.chunkBytes } : {}) });
        post({ type: 'stats', id: request.id, stats });
        break;
      }
      case 'verify': {
        const report = await readerOf(request.slot).verify(signal);
        post({ type: 'verified', id: request.id, report });
        break;
      }
      case 'diff': {
        const report = await diffTensorReaders(readerOf('a').reader, readerOf('b').reader, { signal, onProgress: progressOf(request.id), ...(request.chunkBytes ? { chunkBytes: request.chunkBytes } : {}) });
        post({ type: 'diffed', id: request.id, report });
        break;
      }
    }
  } catch (error) {
    fail(request.id, error);
  } finally {
    running.delete(request.id);
  }
}

scope.addEventListener('message', (event) => {
  void handle(event.data);
});
