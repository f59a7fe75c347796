// A bar chart as inline SVG: drawn on the server, styled by the console's stylesheet, no script.

import type { Tally } from "../store/insights.js";
import { type Html, html } from "./html.js";

export function barChart(bars: readonly Tally[], label: string): Html {
  const width = 640;
  const height = 180;
  const pad = 24;
  const max = Math.max(1, ...bars.map((b) => b.count));
  const slot = bars.length ? (width - pad) / bars.length : width;
  const barWidth = Math.max(2, slot * 0.7);
  return html`<svg class="chart" role="img" aria-label="${label}" viewBox="0 0 ${width} ${height + pad}" width="100%">
<title>${label}</title>
${bars.map((b, i) => {
  const h = Math.round((b.count / max) * (height - pad));
  const x = Math.round(pad + i * slot);
  return html`<g><rect class="bar" x="${x}" y="${height - h}" width="${Math.round(barWidth)}" height="${h}"><title>week of ${b.key}: ${b.count}</title></rect>
<text class="value" x="${x}" y="${height - h - 4}">${b.count}</text>
<text class="axis" x="${x}" y="${height + 16}">${b.key.slice(5)}</text></g>`;
})}
<line class="baseline" x1="${pad}" y1="${height}" x2="${width}" y2="${height}"></line>
</svg>`;
}
