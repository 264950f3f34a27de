/**
 * The web inspector's Web Worker: opens files (a `File` read by range, or a URL read by
 * Range requests), and runs statistics, verify and diff off the page's thread, with the
 * library's limits, progress messages and cancellation. A hostile file can make a run
 * fail with its `CODE: message`, never freeze the page. See `protocol.ts`.
 */
import { openTensorFile, verifyTensorFile } from '../../operations/index.js';
import { diffTensorReaders } from '../../operations/diff.js';
import { tensorStatistics } from '../../operations/tensor-stats.js';
import { blobSource } from '../../storage/blob-source.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { elementCount } from '../../core/sizes.js';
import type { TensorReader } from '../../model/types.js';
import type { FileSummary, InspectorInput, InspectorRequest, InspectorResponse, Slot } from './protocol.js';

/** The worker global, typed here so this file needs no DOM/WebWorker lib. */
const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (event: { data: InspectorRequest }) => void): void;
  postMessage(message: InspectorResponse): void;
};

interface OpenFile {
  readonly reader: TensorReader;
  readonly input: string | ByteSource;
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

function sourceOf(input: InspectorInput): { input: string | ByteSource; name: string; size?: number } {
  if (input.kind === 'url') return { input: input.url, name: input.url };
  return { input: blobSource(input.file, input.file.name), name: input.file.name, size: input.file.size };
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
        const { input, name, size } = sourceOf(request.input);
        const reader = await openTensorFile(input, { signal });
        await open.get(request.slot)?.reader.close?.();
        open.set(request.slot, { reader, input });
        post({ type: 'opened', id: request.id, slot: request.slot, summary: summarize(reader, name, size ?? (typeof input === 'string' ? undefined : input.size)) });
        break;
      }
      case 'stats': {
        const { reader } = readerOf(request.slot);
        const stats = await tensorStatistics(reader, request.name, { bins: request.bins, signal, onProgress: progressOf(request.id), ...(request.chunkBytes ? { chunkBytes: request.chunkBytes } : {}) });
        post({ type: 'stats', id: request.id, stats });
        break;
      }
      case 'verify': {
        const { input } = readerOf(request.slot);
        const report = await verifyTensorFile(input, { signal });
        post({ type: 'verified', id: request.id, report });
        break;
      }
      case 'diff': {
        const report = await diffTensorReaders(readerOf('a').reader, readerOf('b').reader, { signal, onProgress: progressOf(request.id) });
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
