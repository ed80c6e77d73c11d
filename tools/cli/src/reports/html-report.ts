import { writeFileSync } from 'node:fs';
import { CliError } from '../cli-context';

// A self-contained HTML report: inline CSS and SVG charts drawn here, no script, no external
// reference (it opens offline and can be mailed as one file).

export interface Table {
  columns: string[];
  rows: Array<Array<string | number>>;
}

export interface Section {
  heading: string;
  note?: string;
  chart?: string;
  table?: Table;
}

const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '0';
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return String(Math.round(v * 100) / 100);
}

// Horizontal bars, largest first as given.
export function barChart(items: Array<{ label: string; value: number }>, unit: string): string {
  if (items.length === 0) return '';
  const rowH = 22;
  const labelW = 220;
  const barW = 420;
  const max = Math.max(...items.map((i) => i.value), 0) || 1;
  const h = items.length * rowH + 10;
  const bars = items
    .map((item, i) => {
      const w = Math.max(1, (item.value / max) * barW);
      const y = 5 + i * rowH;
      return (
        `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(item.label.slice(0, 40))}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${PALETTE[0]}"/>` +
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}">${escapeHtml(`${fmt(item.value)} ${unit}`.trim())}</text>`
      );
    })
    .join('');
  return `<svg width="${labelW + barW + 140}" height="${h}" role="img" font-size="12" font-family="sans-serif">${bars}</svg>`;
}

// Stacked columns per day, one colour per series, with a legend.
export function dayChart(days: Array<{ day: string; values: number[] }>, series: string[], unit: string): string {
  if (days.length === 0) return '';
  const w = 700;
  const h = 220;
  const left = 60;
  const bottom = 40;
  const plotH = h - bottom - 30;
  const max = Math.max(...days.map((d) => d.values.reduce((a, b) => a + b, 0)), 0) || 1;
  const colW = (w - left - 10) / days.length;
  let out = '';
  days.forEach((d, i) => {
    let y = h - bottom;
    d.values.forEach((v, s) => {
      const bh = (v / max) * plotH;
      y -= bh;
      if (bh > 0)
        out += `<rect x="${(left + i * colW + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(colW - 2, 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"><title>${escapeHtml(`${d.day} ${series[s]}: ${fmt(v)} ${unit}`)}</title></rect>`;
    });
    if (days.length <= 12 || i % Math.ceil(days.length / 10) === 0) {
      out += `<text x="${(left + i * colW + colW / 2).toFixed(1)}" y="${h - bottom + 14}" text-anchor="middle">${escapeHtml(d.day.slice(5))}</text>`;
    }
  });
  out += `<line x1="${left}" y1="${h - bottom}" x2="${w - 10}" y2="${h - bottom}" stroke="#888"/>`;
  out += `<text x="${left - 6}" y="${30}" text-anchor="end">${escapeHtml(fmt(max))}</text><text x="${left - 6}" y="${h - bottom}" text-anchor="end">0</text>`;
  out += series
    .map(
      (name, s) =>
        `<rect x="${left + s * 150}" y="${h - 16}" width="10" height="10" fill="${PALETTE[s % PALETTE.length]}"/><text x="${left + s * 150 + 14}" y="${h - 7}">${escapeHtml(name)}</text>`,
    )
    .join('');
  return `<svg width="${w}" height="${h}" role="img" font-size="11" font-family="sans-serif">${out}</svg>`;
}

export function renderHtml(title: string, subtitle: string, sections: Section[]): string {
  const body = sections
    .map((s) => {
      const table = s.table
        ? `<table><thead><tr>${s.table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${s.table.rows
            .map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(typeof v === 'number' ? fmt(v) : v)}</td>`).join('')}</tr>`)
            .join('')}</tbody></table>`
        : '';
      return `<section><h2>${escapeHtml(s.heading)}</h2>${s.note ? `<p class="note">${escapeHtml(s.note)}</p>` : ''}${s.chart ?? ''}${table}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:2rem;color:#222;max-width:1000px}h1{margin-bottom:0}.sub{color:#666;margin-top:.25rem}
section{margin:2rem 0}table{border-collapse:collapse;margin-top:.5rem}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.note{color:#555}</style></head>
<body><h1>${escapeHtml(title)}</h1><p class="sub">${escapeHtml(subtitle)}</p>
${body}
</body></html>
`;
}

export function writeHtmlReport(file: string, html: string, name: string): void {
  try {
    writeFileSync(file, html, { mode: 0o640 });
  } catch (err) {
    throw new CliError(`${name}: cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
