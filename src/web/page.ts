/**
 * The status page at `/`: what is wrong now (the doctor's findings on the latest collection, worst first,
 * each with its evidence, fix and runbook), the last hour of a few figures, and every collector's health.
 * One self-contained HTML document: inline CSS, inline SVG, no script, no external asset (works offline),
 * refreshed by a meta refresh, readable on a phone. Every value that comes from outside is escaped.
 */
import type { Finding, Severity } from '../doctor/findings.js';
import type { CollectorState } from '../runner.js';
import { RUNBOOK_BASE_URL } from '../thresholds/index.js';
import { VERSION } from '../version.js';
import { HISTORY_SERIES, type HistoryPoint } from './history.js';
import { escapeHtml as esc } from './html.js';
import type { StatusSnapshot } from './status.js';

/** Seconds between automatic reloads. */
export const REFRESH_SECONDS = 30;
/** More findings than this are counted, not listed (the API has them all): keeps the page small. */
export const MAX_FINDINGS_SHOWN = 30;

export interface PageOptions {
  readonly telemetryPath: string;
  readonly now?: number;
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1b;--mute:#666;--line:#d8d8d8;--crit:#b3261e;--warn:#8a5a00;--info:#245fa8;--ok:#1e7a34;--card:#f7f7f7}
@media(prefers-color-scheme:dark){:root{--bg:#141414;--fg:#e8e8e8;--mute:#9a9a9a;--line:#333;--crit:#ff8a80;--warn:#ffc65c;--info:#8ab4f8;--ok:#7ed491;--card:#1e1e1e}}
*{box-sizing:border-box}body{margin:0 auto;max-width:60rem;padding:1rem;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
h1{font-size:1.4rem;margin:0}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line)}h3{font-size:1rem;margin:.2rem 0 .4rem}
a{color:var(--info)}small,.mute{color:var(--mute)}code{font-size:.9em;overflow-wrap:anywhere}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.3rem 1rem}
.summary{margin:1rem 0;padding:.8rem 1rem;border-radius:6px;border-left:6px solid var(--ok);background:var(--card);font-weight:600}
.summary.critical{border-color:var(--crit)}.summary.warning{border-color:var(--warn)}.summary.info{border-color:var(--info)}
.finding{margin:.7rem 0;padding:.7rem 1rem;border-radius:6px;background:var(--card);border-left:6px solid var(--info);overflow-wrap:anywhere}
.finding.critical{border-color:var(--crit)}.finding.warning{border-color:var(--warn)}
.sev{font-size:.75rem;font-weight:700;letter-spacing:.05em}.critical .sev{color:var(--crit)}.warning .sev{color:var(--warn)}.info .sev{color:var(--info)}
.finding ul{margin:.2rem 0 .4rem;padding-left:1.2rem}.fix{margin:.3rem 0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.8rem}
.chart{background:var(--card);border-radius:6px;padding:.5rem .7rem}.chart svg{width:100%;height:3rem;display:block}
.chart polyline{fill:none;stroke:var(--info);stroke-width:2;vector-effect:non-scaling-stroke}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:.4rem .5rem;vertical-align:top;text-align:left;overflow-wrap:break-word}td:nth-child(2){min-width:8rem}
.ok{color:var(--ok)}.bad{color:var(--crit)}.off{color:var(--mute)}
@media(max-width:40rem){body{padding:.6rem}table,tbody,tr,td{display:block;width:100%}thead{display:none}tr{border-bottom:1px solid var(--line);padding:.3rem 0}td{border:0;padding:.15rem 0}}
footer{margin-top:2rem;font-size:.9rem}
`.trim();

const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

const GiB = 2 ** 30;
function formatValue(v: number, unit: 'count' | 'bytes'): string {
  if (unit === 'count') return Number.isInteger(v) ? String(v) : v.toFixed(1);
  return v >= GiB ? `${(v / GiB).toFixed(1)} GiB` : `${(v / 2 ** 20).toFixed(0)} MiB`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function runbookUrl(runbook: string): string {
  return runbook.startsWith('docs/runbooks/') ? `${RUNBOOK_BASE_URL}/${runbook.slice('docs/runbooks/'.length)}` : runbook;
}

function summary(findings: readonly Finding[], passed: number, skipped: number): string {
  const checks = `${passed} check${passed === 1 ? '' : 's'} passed, ${skipped} skipped for lack of data`;
  if (findings.length === 0) return `<section class="summary" id="summary">No problems found. ${checks}.</section>`;
  const worst = SEVERITIES.find((s) => findings.some((f) => f.severity === s)) ?? 'info';
  const counts = SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(' · ');
  return `<section class="summary ${worst}" id="summary">${counts}. ${checks}.</section>`;
}

function findingHtml(f: Finding): string {
  const evidence = f.evidence.map((e) => `<li>${esc(e)}</li>`).join('');
  const runbook = f.runbook ? `<p><a href="${esc(runbookUrl(f.runbook))}">Runbook</a> <small>${esc(f.check)}</small></p>` : `<p><small>${esc(f.check)}</small></p>`;
  return `<article class="finding ${f.severity}" data-check="${esc(f.check)}"><div class="sev">${f.severity.toUpperCase()}</div><h3>${esc(f.title)}</h3><ul>${evidence}</ul><p class="fix"><b>Fix:</b> ${esc(f.fix)}</p>${runbook}</article>`;
}

function sparkline(points: readonly HistoryPoint[], index: number): { svg: string; values: number[] } {
  const xs: Array<[number, number]> = [];
  for (const p of points) {
    const v = p.values[index];
    if (v !== null && v !== undefined) xs.push([p.at, v]);
  }
  const values = xs.map(([, v]) => v);
  if (xs.length < 2) return { svg: '', values };
  const t0 = xs[0]![0];
  const span = Math.max(1, xs.at(-1)![0] - t0);
  const lo = Math.min(...values);
  const range = Math.max(...values) - lo || 1;
  const pts = xs.map(([t, v]) => `${(((t - t0) / span) * 100).toFixed(1)},${(28 - ((v - lo) / range) * 26).toFixed(1)}`).join(' ');
  return { svg: `<svg viewBox="0 0 100 30" preserveAspectRatio="none" role="img" aria-hidden="true"><polyline points="${pts}"/></svg>`, values };
}

function historyHtml(snapshot: StatusSnapshot, now: number): string {
  const points = snapshot.history.points();
  const since = points[0] ? ago(now - points[0].at) : '';
  const charts = HISTORY_SERIES.map((h, i) => {
    const { svg, values } = sparkline(points, i);
    if (values.length === 0) return `<div class="chart" data-series="${h.key}"><b>${esc(h.title)}</b><br><small>no data on this host</small></div>`;
    const last = values.at(-1)!;
    const line =
      h.kind === 'counter'
        ? `+${formatValue(last - values[0]!, h.unit)} since ${since} (total ${formatValue(last, h.unit)})`
        : `now ${formatValue(last, h.unit)} · low ${formatValue(Math.min(...values), h.unit)} · high ${formatValue(Math.max(...values), h.unit)}`;
    return `<div class="chart" data-series="${h.key}"><b>${esc(h.title)}</b><br><small>${line}</small>${svg}</div>`;
  });
  const span = Math.round((snapshot.history.stepMs * snapshot.history.capacity) / 60_000);
  return `<h2>Recent history</h2><p class="mute"><small>${points.length} point(s), one per ${Math.round(snapshot.history.stepMs / 1000)} s, the last ${span} min at most, kept in memory only.</small></p><div class="charts">${charts.join('')}</div>`;
}

function collectorRow(s: CollectorState, now: number): string {
  let health: string;
  if (s.status !== 'active') health = `<td class="off">${esc(s.status)}</td>`;
  else if (!s.last) health = '<td>not collected yet</td>';
  else health = s.last.success ? '<td class="ok">ok</td>' : `<td class="bad">failed: ${esc(s.last.error ?? '')}</td>`;
  const last = s.last ? `${(s.last.durationSeconds * 1000).toFixed(1)} ms, ${s.last.samples} series, ${ago(now - s.last.at.getTime())}${s.failures ? `; ${s.failures} failed collection(s) since start` : ''}` : '';
  const details = Object.entries(s.details ?? {})
    .map(([k, v]) => `${esc(k)}: ${esc(v)}`)
    .join('<br>');
  return `<tr><td><b>${esc(s.name)}</b><br><small>${esc(s.description)}</small></td>${health}<td>${esc(s.reason)}</td><td>${last}</td><td>${details}</td></tr>`;
}

export function renderStatusPage(snapshot: StatusSnapshot, opts: PageOptions): string {
  const now = opts.now ?? Date.now();
  const { findings, passed, skipped } = snapshot.report;
  const shown = findings.slice(0, MAX_FINDINGS_SHOWN);
  const more = findings.length - shown.length;
  const when = snapshot.collectedAt === undefined ? 'no collection yet' : `collected ${ago(now - snapshot.collectedAt)} (${new Date(snapshot.collectedAt).toISOString().slice(0, 19)}Z)`;
  const title = findings.length === 0 ? 'silentwatch: no problems found' : `silentwatch: ${findings.length} finding${findings.length === 1 ? '' : 's'}`;
  const skippedList = skipped.map((s) => `<li><b>${esc(s.check)}</b>: ${esc(s.reason)}</li>`).join('');
  const metrics = esc(opts.telemetryPath);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>silentwatch</h1><span class="mute">${esc(VERSION)} · ${esc(when)} · reloads every ${REFRESH_SECONDS} s</span></header>
${summary(findings, passed.length, skipped.length)}
<h2>Findings</h2>
${shown.length ? shown.map(findingHtml).join('\n') : '<p>Nothing wrong in the latest collection.</p>'}
${more > 0 ? `<p>${more} more finding(s): see <a href="/api/v1/findings">/api/v1/findings</a>.</p>` : ''}
${historyHtml(snapshot, now)}
<h2>Collectors</h2>
<table><thead><tr><th>collector</th><th>health</th><th>why active / inactive</th><th>cost</th><th>details</th></tr></thead><tbody>
${snapshot.states.map((s) => collectorRow(s, now)).join('\n')}
</tbody></table>
${skipped.length ? `<details><summary>Checks skipped (${skipped.length})</summary><ul>${skippedList}</ul></details>` : ''}
<footer class="mute">Metrics: <a href="${metrics}">${metrics}</a> · findings as JSON: <a href="/api/v1/findings">/api/v1/findings</a> · health: <a href="/healthz">/healthz</a></footer>
</body></html>
`;
}
