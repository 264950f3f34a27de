/**
 * Printing: one table per benchmark group (`operation | tensio | baseline | ratio | goal |
 * met?`), notes under it, and a compact summary of every goal at the end.
 */
import type { BenchRow } from './types.js';

function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const digits = unit === 'MiB' ? 1 : unit === 'ms' ? 3 : unit === 'requests' ? 0 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}x`;
}

function formatMet(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'yes' : 'NO';
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/**
 * Builds a GB/s comparison row from two medians; `goalRatio` (if given) is the minimum ratio.
 *
 * @example
 * ```ts
 * compareRow('npy', 'write vs np.save', 3.1, 4.9, 'np.save', 1.0);
 * ```
 */
export function compareRow(format: string, operation: string, tensio: number | undefined, baseline: number | undefined, baselineName: string, goalRatio?: number, note?: string): BenchRow {
  const ratio = tensio !== undefined && baseline !== undefined ? tensio / baseline : undefined;
  return {
    format,
    operation,
    unit: 'GB/s',
    ...(tensio !== undefined ? { tensio } : {}),
    ...(baseline !== undefined ? { baseline } : {}),
    baselineName,
    ...(ratio !== undefined ? { ratio } : {}),
    ...(goalRatio !== undefined ? { goal: `>= ${goalRatio.toFixed(Number.isInteger(goalRatio * 10) ? 1 : 2)}x` } : {}),
    ...(goalRatio !== undefined && ratio !== undefined ? { met: ratio >= goalRatio } : {}),
    ...(note ? { note } : {}),
  };
}

/**
 * The table for one group as text lines.
 *
 * @example
 * ```ts
 * console.log(formatTable('safetensors', rows).join('\n'));
 * ```
 */
export function formatTable(title: string, rows: readonly BenchRow[]): string[] {
  if (rows.length > 0 && rows.every((row) => row.operation === 'all' && row.tensio === undefined)) {
    return [`== ${title} ==`, ...rows.map((row) => `  ${row.note ?? 'no figures'}`)];
  }
  const header = ['operation', 'tensio', 'baseline', 'ratio', 'goal', 'met?'];
  const cells = rows.map((row) => [
    row.operation,
    formatValue(row.tensio, row.unit),
    formatValue(row.baseline, row.unit),
    formatRatio(row.ratio),
    row.goal ?? '',
    formatMet(row.met),
  ]);
  const widths = header.map((name, column) => Math.max(name.length, ...cells.map((line) => line[column]!.length)));
  const render = (line: string[]): string => line.map((cell, column) => pad(cell, widths[column]!, column > 0 && column < 4)).join(' | ');
  const lines = [`== ${title} ==`, render(header), widths.map((width) => '-'.repeat(width)).join('-|-')];
  for (const line of cells) lines.push(render(line));
  const notes = rows.filter((row) => row.note);
  for (const row of notes) lines.push(`  note (${row.operation}): ${row.note}`);
  return lines;
}

/**
 * The closing summary: every row with a goal, one line each, and the count met.
 *
 * @example
 * ```ts
 * console.log(formatSummary(allRows).join('\n'));
 * ```
 */
export function formatSummary(rows: readonly BenchRow[]): string[] {
  const withGoal = rows.filter((row) => row.goal);
  const met = withGoal.filter((row) => row.met === true).length;
  const measured = withGoal.filter((row) => row.met !== undefined).length;
  const lines = [`== summary: ${met} of ${measured} measured goals met (${withGoal.length - measured} not measured) ==`];
  for (const row of withGoal) {
    const figure = row.ratio !== undefined ? `${formatRatio(row.ratio)} (${formatValue(row.tensio, row.unit)} vs ${formatValue(row.baseline, row.unit)})` : formatValue(row.tensio, row.unit);
    lines.push(`  ${formatMet(row.met) || 'n/a'}\t${row.format}: ${row.operation}: ${figure} (goal ${row.goal})`);
  }
  return lines;
}
