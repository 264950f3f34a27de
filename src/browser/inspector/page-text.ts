/**
 * Text and element helpers shared by the inspector page's views (numbers, byte sizes, DOM
 * elements). Page code: it needs the DOM library (type-checked by this folder's tsconfig).
 */
/** Whole numbers with thousands separators. */
export const integer = new Intl.NumberFormat('en-US');
/** A byte count in B, KiB, MiB, GiB or TiB. */
export function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}
/** A value as the page shows it: NaN, ±Inf, integers whole, others to 7 significant digits. */
export function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Inf' : '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? value.toPrecision(7).replace(/\.?0+$/, '') : value.toExponential(4);
}

/** A DOM element with attributes and children. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
