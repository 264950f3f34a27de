/**
 * The web inspector's page: opening (drop, file chooser, URL — Hugging Face `blob/` links
 * become `resolve/`), the summary, metadata (long values folded), totals by dtype and by
 * dotted name prefix, the tensor table (glob or regex filter, sortable), per-tensor
 * statistics with a histogram, first values and a heat map, verify, and compare. All file
 * work happens in `worker.ts`; this file only draws. Errors show as `CODE: message`.
 */
import type { FileSummary, InspectorInput, InspectorRequest, InspectorResponse, TensorRow } from './protocol.js';
import type { TensorStatistics } from '../../operations/tensor-stats.js';
import type { DiffReport } from '../../operations/diff.js';
import type { VerifyReport } from '../../model/types.js';
import { heatmapCanvas, histogramChart } from './charts.js';
import { bytesText, element, integer, numberText } from './page-text.js';
import { compareRows, nameMatcher, type SortKey } from './table-rows.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });

/** Values longer than this are folded in the metadata list. */
const FOLD_CHARACTERS = 160;
/** Rows drawn at most (filter to see others). */
const MAX_ROWS = 2000;
/** Histogram bins drawn. */
const BINS = 32;

let nextId = 1;
const pending = new Map<number, { resolve: (response: InspectorResponse) => void; progress?: (done: number, total: number) => void }>();
worker.addEventListener('message', (event: MessageEvent<InspectorResponse>) => {
  const response = event.data;
  const waiting = pending.get(response.id);
  if (!waiting) return;
  if (response.type === 'progress') {
    waiting.progress?.(response.done, response.total);
    return;
  }
  pending.delete(response.id);
  waiting.resolve(response);
});
// A worker that fails outside a request (it cannot answer any more): every waiting
// request ends with that error, so no button waits forever and the page says why.
worker.addEventListener('error', (event) => {
  const message = `the worker failed: ${event.message || 'unknown error'}; reload the page and open the file again`;
  showError(`INTERNAL: ${message}`);
  for (const [id, waiting] of pending) waiting.resolve({ type: 'error', id, code: 'INTERNAL', message });
  pending.clear();
});
// Anything that goes wrong in this page's own code is shown too: never a blank or silent page.
window.addEventListener('error', (event) => showError(`INTERNAL: ${event.message}`));
window.addEventListener('unhandledrejection', (event) => showError(`INTERNAL: ${(event.reason as Error)?.message ?? String(event.reason)}`));

/** A request before it gets its id (`Omit` applied to each member of the union). */
type Unsent = InspectorRequest extends infer R ? (R extends InspectorRequest ? Omit<R, 'id'> : never) : never;

/** Sends a request; resolves with its final answer (an `error` answer included). */
function ask(request: Unsent, progress?: (done: number, total: number) => void): { id: number; answer: Promise<InspectorResponse> } {
  const id = nextId++;
  const answer = new Promise<InspectorResponse>((resolve) => pending.set(id, { resolve, ...(progress ? { progress } : {}) }));
  worker.postMessage({ ...request, id } as InspectorRequest);
  return { id, answer };
}

function errorText(response: InspectorResponse): string | undefined {
  return response.type === 'error' ? `${response.code}: ${response.message}` : undefined;
}

function showError(text: string | undefined): void {
  const box = $('error');
  box.textContent = text ?? '';
  box.hidden = !text;
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

// ---- Opening ---------------------------------------------------------------------------

/** A Hugging Face page link (`/blob/`) as the file link (`/resolve/`). */
export function normalizeUrl(text: string): string {
  const url = new URL(text.trim(), location.href);
  if (/(^|\.)huggingface\.co$|(^|\.)hf\.co$/.test(url.hostname)) url.pathname = url.pathname.replace(/^(\/(?:datasets\/|spaces\/)?[^/]+\/[^/]+)\/blob\//, '$1/resolve/');
  return url.href;
}

let current: FileSummary | undefined;

async function openInput(input: InspectorInput): Promise<void> {
  showError(undefined);
  const label = input.kind === 'url' ? input.url : input.kind === 'file' ? input.file.name : `${input.files.length} files`;
  setStatus(`Opening ${label}…`);
  const started = performance.now();
  const { answer } = ask({ type: 'open', slot: 'a', input });
  const response = await answer;
  if (response.type !== 'opened') {
    setStatus('');
    $('file-view').hidden = true;
    showError(errorText(response) ?? 'INTERNAL: unexpected answer');
    return;
  }
  current = response.summary;
  setStatus(`Opened ${label} in ${Math.round(performance.now() - started)} ms (header only).`);
  render(response.summary);
}

/** One chosen or dropped file, or several: a sharded checkpoint's index with its shards. */
function openChosen(list: FileList): void {
  const files = Array.from(list);
  if (files.length === 1) void openInput({ kind: 'file', file: files[0]! });
  else if (files.length > 1) void openInput({ kind: 'files', files });
}

function setupOpening(): void {
  const drop = $('drop');
  const chooser = $<HTMLInputElement>('file');
  drop.addEventListener('click', () => chooser.click());
  drop.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      chooser.click();
    }
  });
  chooser.addEventListener('change', () => {
    if (chooser.files) openChosen(chooser.files);
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    if (event.dataTransfer) openChosen(event.dataTransfer.files);
  });
  $('url-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $<HTMLInputElement>('url').value;
    if (!text.trim()) return;
    let url: string;
    try {
      url = normalizeUrl(text);
    } catch {
      showError(`INVALID_ARGUMENT: ${JSON.stringify(text)} is not a URL`);
      return;
    }
    void openInput({ kind: 'url', url });
  });
  // ?url=… opens at once (tensio view PATH|URL links here).
  const fromQuery = new URLSearchParams(location.search).get('url');
  if (fromQuery) {
    const url = normalizeUrl(fromQuery);
    $<HTMLInputElement>('url').value = url;
    void openInput({ kind: 'url', url });
  }
}

// ---- The file view ---------------------------------------------------------------------

function render(summary: FileSummary): void {
  $('file-view').hidden = false;
  $('detail').hidden = true;
  $('verify-result').textContent = '';
  $('diff-result').replaceChildren();
  $('file-name').textContent = summary.name;
  const parameters = summary.tensors.reduce((sum, row) => sum + row.parameters, 0);
  const bytes = summary.tensors.reduce((sum, row) => sum + row.bytes, 0);
  $('file-facts').textContent = `${summary.format} · ${integer.format(summary.tensors.length)} tensors · ${integer.format(parameters)} parameters · ${bytesText(bytes)} of tensor data${summary.size !== undefined ? ` · file ${bytesText(summary.size)}` : ''}`;
  renderMetadata(summary);
  renderDtypeTotals(summary.tensors);
  renderPrefixTree(summary.tensors);
  $<HTMLInputElement>('filter').value = '';
  renderTable();
}

function renderMetadata(summary: FileSummary): void {
  const list = $('metadata');
  list.replaceChildren();
  if (summary.metadata.length === 0) list.append(element('dt', {}, '(none)'), element('dd'));
  for (const [key, text] of summary.metadata) {
    const value = text.length > FOLD_CHARACTERS
      ? element('details', {}, element('summary', {}, `${text.slice(0, FOLD_CHARACTERS)}… (${integer.format(text.length)} characters)`), text)
      : text;
    list.append(element('dt', {}, key), element('dd', {}, value));
  }
}

function renderDtypeTotals(rows: readonly TensorRow[]): void {
  const totals = new Map<string, { tensors: number; parameters: number; bytes: number }>();
  for (const row of rows) {
    const total = totals.get(row.dtype) ?? { tensors: 0, parameters: 0, bytes: 0 };
    total.tensors += 1;
    total.parameters += row.parameters;
    total.bytes += row.bytes;
    totals.set(row.dtype, total);
  }
  const body = $('dtype-totals').querySelector('tbody')!;
  body.replaceChildren(...[...totals].sort((a, b) => b[1].bytes - a[1].bytes).map(([dtype, total]) => element('tr', {},
    element('td', {}, dtype), element('td', { class: 'num' }, integer.format(total.tensors)),
    element('td', { class: 'num' }, integer.format(total.parameters)), element('td', { class: 'num' }, bytesText(total.bytes)))));
}

interface PrefixNode {
  readonly children: Map<string, PrefixNode>;
  tensors: number;
  parameters: number;
  bytes: number;
}

/** Totals by dotted prefix; a level is drawn when opened, so thousands of layers stay cheap. */
function renderPrefixTree(rows: readonly TensorRow[]): void {
  const root: PrefixNode = { children: new Map(), tensors: 0, parameters: 0, bytes: 0 };
  for (const row of rows) {
    let node = root;
    const parts = row.name.split('.');
    for (const part of parts.slice(0, -1)) {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = { children: new Map(), tensors: 0, parameters: 0, bytes: 0 }));
      child.tensors += 1;
      child.parameters += row.parameters;
      child.bytes += row.bytes;
      node = child;
    }
  }
  const level = (node: PrefixNode, path: string): HTMLElement[] => [...node.children].map(([part, child]) => {
    const prefix = path ? `${path}.${part}` : part;
    const details = element('details', {}, element('summary', {}, `${prefix}. `, element('span', { class: 'facts' }, `${integer.format(child.tensors)} tensors · ${integer.format(child.parameters)} parameters · ${bytesText(child.bytes)}`)));
    details.dataset.prefix = prefix;
    details.addEventListener('toggle', () => {
      if (details.open && details.childElementCount === 1) details.append(...level(child, prefix));
    });
    return details;
  });
  const tree = $('prefix-tree');
  tree.replaceChildren(...level(root, ''));
  if (root.children.size === 0) tree.textContent = 'No dotted names.';
}

// ---- The tensor table ------------------------------------------------------------------

let sortKey: SortKey | undefined;
let sortDescending = false;

function renderTable(): void {
  if (!current) return;
  const input = $<HTMLInputElement>('filter');
  let matches: (name: string) => boolean;
  try {
    matches = nameMatcher(input.value);
    input.removeAttribute('aria-invalid');
  } catch (error) {
    input.setAttribute('aria-invalid', 'true');
    $('filter-count').textContent = `INVALID_ARGUMENT: ${(error as Error).message}`;
    return;
  }
  let rows = current.tensors.filter((row) => matches(row.name));
  if (sortKey) {
    const key = sortKey;
    rows = [...rows].sort((a, b) => (sortDescending ? -1 : 1) * compareRows(a, b, key));
  }
  const parameters = rows.reduce((sum, row) => sum + row.parameters, 0);
  $('filter-count').textContent = `${integer.format(rows.length)} of ${integer.format(current.tensors.length)} tensors · ${integer.format(parameters)} parameters${rows.length > MAX_ROWS ? ` · showing the first ${MAX_ROWS}` : ''}`;
  const body = $('tensor-table').querySelector('tbody')!;
  const shown = rows.slice(0, MAX_ROWS);
  const active = shown.some((row) => row.name === activeRow) ? activeRow : shown[0]?.name;
  body.replaceChildren(...shown.map((row) => {
    // The row is the keyboard stop (Enter or Space: statistics); its button is for the mouse.
    const button = element('button', { type: 'button', tabindex: '-1', 'aria-label': `Statistics of ${row.name}` }, 'Stats');
    button.addEventListener('click', () => void showStatistics(row));
    const tr = element('tr', {},
      element('td', { class: 'name' }, row.name),
      element('td', {}, row.formatDtype ? `${row.dtype} (${row.formatDtype})` : row.dtype),
      element('td', {}, `[${row.shape.join(', ')}]`),
      element('td', { class: 'num' }, integer.format(row.parameters)),
      element('td', { class: 'num' }, bytesText(row.bytes)),
      element('td', {}, row.shard ?? ''),
      element('td', {}, button));
    tr.dataset.name = row.name;
    tr.tabIndex = row.name === active ? 0 : -1;
    tr.setAttribute('aria-label', `${row.name}, ${row.dtype} [${row.shape.join(', ')}]`);
    rowOf.set(tr, row);
    return tr;
  }));
}

/** The row that holds the table's one tab stop (kept across filtering and sorting). */
let activeRow: string | undefined;
const rowOf = new WeakMap<HTMLTableRowElement, TensorRow>();

/** Arrow keys, Home and End move between rows (one tab stop for the table); Enter or Space shows statistics. */
function onRowKey(event: KeyboardEvent): void {
  const tr = (event.target as HTMLElement).closest('tr');
  const row = tr ? rowOf.get(tr) : undefined;
  if (!tr || !row) return;
  const rows = Array.from(tr.parentElement!.children) as HTMLTableRowElement[];
  const at = rows.indexOf(tr);
  const target = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1, PageDown: at + 10, PageUp: at - 10 }[event.key];
  if (target !== undefined) {
    event.preventDefault();
    const next = rows[Math.max(0, Math.min(rows.length - 1, target))]!;
    tr.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
    activeRow = rowOf.get(next)?.name;
  } else if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    activeRow = row.name;
    void showStatistics(row);
  }
}

function setupTable(): void {
  $('filter').addEventListener('input', () => renderTable());
  $('tensor-table').querySelector('tbody')!.addEventListener('keydown', onRowKey);
  $('tensor-table').querySelector('tbody')!.addEventListener('focusin', (event) => {
    const tr = (event.target as HTMLElement).closest('tr');
    if (tr && rowOf.has(tr)) activeRow = rowOf.get(tr)!.name;
  });
  for (const th of $('tensor-table').querySelectorAll<HTMLTableCellElement>('th[data-key]')) {
    th.querySelector('button')!.addEventListener('click', () => {
      const key = th.dataset.key as SortKey;
      sortDescending = sortKey === key ? !sortDescending : key === 'parameters' || key === 'bytes';
      sortKey = key;
      for (const other of $('tensor-table').querySelectorAll('th[data-key]')) other.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', sortDescending ? 'descending' : 'ascending');
      renderTable();
    });
  }
}

// ---- Statistics ------------------------------------------------------------------------

let runningStats: number | undefined;

async function showStatistics(row: TensorRow): Promise<void> {
  if (runningStats !== undefined) worker.postMessage({ type: 'cancel', id: runningStats } satisfies InspectorRequest);
  const detail = $('detail');
  detail.hidden = false;
  $('detail-title').textContent = `Statistics of ${row.name}`;
  const body = $('detail-body');
  body.replaceChildren(element('p', {}, `Reading ${bytesText(row.bytes)} in the worker…`));
  const progress = $<HTMLProgressElement>('progress');
  progress.value = 0;
  progress.hidden = false;
  const cancel = $<HTMLButtonElement>('cancel');
  cancel.hidden = false;
  const chunkBytes = Number(new URLSearchParams(location.search).get('chunkBytes')) || undefined;
  const { id, answer } = ask({ type: 'stats', slot: 'a', name: row.name, bins: BINS, ...(chunkBytes ? { chunkBytes } : {}) }, (done, total) => {
    progress.value = total > 0 ? done / total : 1;
  });
  runningStats = id;
  cancel.onclick = () => worker.postMessage({ type: 'cancel', id } satisfies InspectorRequest);
  cancel.focus();
  const response = await answer;
  if (runningStats !== id) return; // another tensor's run replaced this one
  runningStats = undefined;
  const hadFocus = document.activeElement === cancel;
  cancel.hidden = true;
  progress.hidden = true;
  if (response.type !== 'stats') {
    const text = errorText(response) ?? 'INTERNAL: unexpected answer';
    body.replaceChildren(element('p', { class: 'inline-error', role: 'alert' }, response.type === 'error' && response.code === 'ABORTED' ? `ABORTED: statistics of ${row.name} cancelled` : text));
  } else {
    lastStatistics = response.stats;
    renderStatistics(response.stats);
  }
  // The Cancel button had the focus and is gone: keyboard users land on the results.
  if (hadFocus) $('detail-title').focus();
}

/** Escape cancels what runs (statistics, compare). */
function setupEscape(): void {
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    if (runningStats !== undefined) worker.postMessage({ type: 'cancel', id: runningStats } satisfies InspectorRequest);
    if (runningCompare !== undefined) worker.postMessage({ type: 'cancel', id: runningCompare } satisfies InspectorRequest);
  });
}

let lastStatistics: TensorStatistics | undefined;

function renderStatistics(stats: TensorStatistics): void {
  const facts: Array<[string, string]> = [
    ['elements', integer.format(stats.count)], ['finite', integer.format(stats.finite)],
    ['min', numberText(stats.min)], ['max', numberText(stats.max)], ['mean', numberText(stats.mean)], ['std', numberText(stats.std)],
    ['zeros', integer.format(stats.zeros)], ['NaN', integer.format(stats.nan)], ['+Inf', integer.format(stats.positiveInfinity)], ['-Inf', integer.format(stats.negativeInfinity)],
  ];
  const grid = element('div', { class: 'stats-grid', id: 'stats-grid' }, ...facts.map(([label, value]) => {
    const cell = element('div', {}, element('span', {}, label), element('span', {}, value));
    cell.dataset.stat = label;
    return cell;
  }));
  const charts = element('div', { class: 'charts' });
  if (stats.histogram) charts.append(histogramChart(stats.histogram));
  if (stats.heatmap) charts.append(heatmapCanvas(stats.heatmap, stats.name));
  const first = element('p', { class: 'first-values' }, `First values: ${stats.first.map(numberText).join(', ')}${stats.count > stats.first.length ? ', …' : ''}`);
  $('detail-body').replaceChildren(grid, charts, first);
}

// ---- Verify and compare ----------------------------------------------------------------

function setupVerifyAndCompare(): void {
  $('verify').addEventListener('click', async () => {
    const out = $('verify-result');
    out.textContent = 'Verifying…';
    const response = await ask({ type: 'verify', slot: 'a' }).answer;
    if (response.type !== 'verified') {
      out.textContent = errorText(response) ?? 'INTERNAL: unexpected answer';
      out.className = 'inline-error';
      return;
    }
    out.className = '';
    out.textContent = verifyText(response.report);
  });
  $('compare-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const out = $('diff-result');
    const file = $<HTMLInputElement>('compare-file').files?.[0];
    const text = $<HTMLInputElement>('compare-url').value.trim();
    if (!file && !text) return;
    if (runningCompare !== undefined) return;
    let input: InspectorInput;
    try {
      input = file ? { kind: 'file', file } : { kind: 'url', url: normalizeUrl(text) };
    } catch {
      out.replaceChildren(element('p', { class: 'inline-error', role: 'alert' }, `INVALID_ARGUMENT: ${JSON.stringify(text)} is not a URL`));
      return;
    }
    out.replaceChildren(element('p', {}, 'Comparing…'));
    const run = $('compare-run');
    const progress = $<HTMLProgressElement>('compare-progress');
    const cancel = $<HTMLButtonElement>('compare-cancel');
    progress.value = 0;
    run.hidden = false;
    cancel.onclick = () => {
      if (runningCompare !== undefined) worker.postMessage({ type: 'cancel', id: runningCompare } satisfies InspectorRequest);
    };
    const finish = (view: HTMLElement): void => {
      const hadFocus = document.activeElement === cancel;
      runningCompare = undefined;
      run.hidden = true;
      out.replaceChildren(view);
      if (hadFocus) $('compare-title').focus();
    };
    const failure = (response: InspectorResponse): HTMLElement => element('p', { class: 'inline-error', role: 'alert' },
      response.type === 'error' && response.code === 'ABORTED' ? 'ABORTED: compare cancelled' : errorText(response) ?? 'INTERNAL: unexpected answer');
    const openRequest = ask({ type: 'open', slot: 'b', input });
    runningCompare = openRequest.id;
    const opened = await openRequest.answer;
    if (opened.type !== 'opened') return finish(failure(opened));
    const chunkBytes = Number(new URLSearchParams(location.search).get('chunkBytes')) || undefined;
    const diffRequest = ask({ type: 'diff', ...(chunkBytes ? { chunkBytes } : {}) }, (done, total) => {
      progress.value = total > 0 ? done / total : 1;
    });
    runningCompare = diffRequest.id;
    const response = await diffRequest.answer;
    if (response.type !== 'diffed') return finish(failure(response));
    finish(diffView(response.report, opened.summary));
  });
}

/** The open or diff request of the compare that runs, if one does. */
let runningCompare: number | undefined;

function verifyText(report: VerifyReport): string {
  const head = report.ok ? 'OK' : 'FAILED';
  const problems = report.problems.map((problem) => `${problem.code}: ${problem.message}`).join('; ');
  return `${head}: ${report.tensors} tensors, ${report.checksumsVerified} checksums verified, ${report.withoutChecksum} without checksum${report.checksumNote ? ` (${report.checksumNote})` : ''}${problems ? ` — ${problems}` : ''}`;
}

function diffView(report: DiffReport, other: FileSummary): HTMLElement {
  const side = (title: string, summary: { path: string; format: string; tensors: number }, lines: string[]): HTMLElement =>
    element('section', {}, element('h4', {}, title), element('p', {}, `${summary.path} · ${summary.format} · ${summary.tensors} tensors`), element('ul', {}, ...lines.map((line) => element('li', {}, line))));
  const changed = [
    ...report.changedSpec.map((c) => `${c.name}: ${c.a.dtype}[${c.a.shape.join(', ')}] → ${c.b.dtype}[${c.b.shape.join(', ')}]`),
    ...report.changedContent.map((c) => `${c.name}: ${integer.format(c.elementsDiffering)} of ${integer.format(c.elements)} elements differ${c.maxAbsDiff !== undefined ? `, max |a − b| ${numberText(c.maxAbsDiff)}` : ''}`),
  ];
  return element('div', {},
    element('p', { id: 'diff-verdict' }, report.identical ? 'Identical tensors (metadata not compared).' : `${report.same} equal, ${changed.length} changed, ${report.removed.length} only in A, ${report.added.length} only in B.`),
    element('div', { class: 'side-by-side' },
      side('A (this file)', report.a, report.removed.map((t) => `only here: ${t.name} ${t.dtype}[${t.shape.join(', ')}]`).concat(changed)),
      side(`B (${other.name})`, report.b, report.added.map((t) => `only here: ${t.name} ${t.dtype}[${t.shape.join(', ')}]`).concat(changed))));
}

setupOpening();
setupTable();
setupVerifyAndCompare();
setupEscape();
// For tests and scripts: what is open now.
(window as unknown as { tensioInspector: unknown }).tensioInspector = { current: () => current, statistics: () => lastStatistics };
