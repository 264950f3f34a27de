/**
 * The inspector's charts for a tensor's statistics: the histogram (SVG) and the 2-D heat map
 * (canvas). Page code: it needs the DOM library (type-checked by this folder's tsconfig).
 */
import type { TensorStatistics } from '../../operations/tensor-stats.js';
import { element, integer, numberText } from './page-text.js';

/** The histogram as an SVG bar chart; each bar carries its count (`data-count`) and a title with its bin. */
export function histogramChart(histogram: NonNullable<TensorStatistics['histogram']>): SVGSVGElement {
  const svgNs = 'http://www.w3.org/2000/svg';
  const width = 480;
  const height = 160;
  const bottom = 18;
  const top = Math.max(1, ...histogram.counts);
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('class', 'histogram');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Histogram, ${histogram.counts.length} bins from ${numberText(histogram.edges[0]!)} to ${numberText(histogram.edges[histogram.edges.length - 1]!)}`);
  const barWidth = width / histogram.counts.length;
  histogram.counts.forEach((count, i) => {
    const barHeight = ((height - bottom) * count) / top;
    const rect = document.createElementNS(svgNs, 'rect');
    rect.setAttribute('x', String(i * barWidth + 0.5));
    rect.setAttribute('y', String(height - bottom - barHeight));
    rect.setAttribute('width', String(Math.max(1, barWidth - 1)));
    rect.setAttribute('height', String(barHeight));
    rect.setAttribute('data-count', String(count));
    const title = document.createElementNS(svgNs, 'title');
    title.textContent = `[${numberText(histogram.edges[i]!)}, ${numberText(histogram.edges[i + 1]!)}${i === histogram.counts.length - 1 ? ']' : ')'}: ${integer.format(count)}`;
    rect.append(title);
    svg.append(rect);
  });
  for (const [x, anchor, value] of [[2, 'start', histogram.edges[0]!], [width - 2, 'end', histogram.edges[histogram.edges.length - 1]!]] as const) {
    const label = document.createElementNS(svgNs, 'text');
    label.setAttribute('x', String(x));
    label.setAttribute('y', String(height - 4));
    label.setAttribute('text-anchor', anchor);
    label.textContent = numberText(value);
    svg.append(label);
  }
  return svg;
}

/** A 2-D tensor's heat map (cell means, blue → white → red) drawn on a canvas, one pixel a cell. */
export function heatmapCanvas(heatmap: NonNullable<TensorStatistics['heatmap']>, name: string): HTMLCanvasElement {
  const canvas = element('canvas', { class: 'heatmap', width: String(heatmap.cols), height: String(heatmap.rows), role: 'img', 'aria-label': `Heat map of ${name}: ${heatmap.rows} × ${heatmap.cols} cells from ${numberText(heatmap.min)} (blue) to ${numberText(heatmap.max)} (red)` });
  const context = canvas.getContext('2d');
  if (!context) return canvas;
  const image = context.createImageData(heatmap.cols, heatmap.rows);
  const span = heatmap.max - heatmap.min || 1;
  heatmap.values.forEach((value, i) => {
    const t = Number.isNaN(value) ? 0.5 : (value - heatmap.min) / span;
    // Blue → white → red.
    const [r, g, b] = t < 0.5 ? [255 * 2 * t, 255 * 2 * t, 255] : [255, 255 * 2 * (1 - t), 255 * 2 * (1 - t)];
    image.data.set([r, g, b, Number.isNaN(value) ? 60 : 255], i * 4);
  });
  context.putImageData(image, 0, 0);
  return canvas;
}
