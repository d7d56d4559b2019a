/**
 * The live status page served at `/`: one self-contained HTML document (inline CSS and script,
 * the statechart SVG from visualizations/ inlined) that highlights the current state and
 * follows the server-sent events of `/api/health/stream`. No external asset, no framework.
 * Every text of the view is escaped with `displayText` on the server, and the script only
 * ever assigns it to `textContent` and `dataset`: no HTML is built from it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LIFECYCLE_STATES } from '../../machines/types.js';
import { displayText } from '../display-text.js';

/** Where the generated SVG lives, from the source tree and from the built package (dist/). */
const SVG_CANDIDATES = [
  new URL('../../visualizations/governor.svg', import.meta.url),
  new URL('../../../visualizations/governor.svg', import.meta.url),
];

/** The SVG file is at most this large; anything bigger is not ours. */
const SVG_BYTES_MAX = 1_048_576;

/** Reads the Graphviz statechart and tags each state's node with `data-state`; null if absent. */
export function loadStatechartSvg(): string | null {
  for (const url of SVG_CANDIDATES) {
    let text: string;
    try {
      text = readFileSync(url, 'utf8');
    } catch {
      continue;
    }
    if (text.length > SVG_BYTES_MAX || !text.includes('<svg')) continue;
    return prepareSvg(text);
  }
  return null;
}

/** Drops the XML prologue and comments, makes it scale, and marks each state node. */
export function prepareSvg(text: string): string {
  const states = new Set<string>(LIFECYCLE_STATES);
  return text
    .slice(text.indexOf('<svg'))
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(
      /<svg width="[^"]*" height="[^"]*"/,
      '<svg role="img" aria-label="governor statechart"',
    )
    .replace(
      /<g id="(node\d+)" class="node">\s*<title>([A-Z_]+)<\/title>/g,
      (whole, id: string, name: string) =>
        states.has(name)
          ? `<g id="${id}" class="node" data-state="${name}"><title>${name}</title>`
          : whole,
    );
}

/** A plain diagram of the five states, used when the generated SVG cannot be found. */
export function fallbackSvg(): string {
  const width = 150;
  const nodes = LIFECYCLE_STATES.map((state, index) => {
    const x = 10 + index * (width + 20);
    return `<g class="node" data-state="${state}"><title>${state}</title><rect x="${x}" y="10" width="${width}" height="40" rx="6" fill="none" stroke="black"/><text x="${x + width / 2}" y="35" text-anchor="middle" font-size="12">${state}</text></g>`;
  });
  const total = 10 + LIFECYCLE_STATES.length * (width + 20);
  return `<svg role="img" aria-label="governor states" viewBox="0 0 ${total} 60" xmlns="http://www.w3.org/2000/svg">${nodes.join('')}</svg>`;
}

const STYLE = `
:root { color-scheme: light; font-family: system-ui, sans-serif; }
body { margin: 0; padding: 1rem 1.5rem; background: #fafafa; color: #222; }
header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
h1 { font-size: 1.2rem; margin: 0; }
#mode { font-weight: 700; padding: .15rem .6rem; border-radius: .3rem; background: #ddd; }
body[data-mode="AGGRESSIVE"] #mode { background: #2e7d32; color: #fff; }
body[data-mode="OBSERVE_ONLY"] #mode { background: #f9a825; color: #000; }
body[data-mode="SHUTDOWN"] #mode { background: #c62828; color: #fff; }
#connection { font-size: .85rem; color: #666; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(16rem, 2fr); gap: 1.5rem; }
#chart svg { width: 100%; height: auto; max-height: 80vh; }
#chart g.node.current > path, #chart g.node.current > rect, #chart g.node.current > polygon,
#chart g.node.current > ellipse { fill: #fff59d; stroke: #c62828; stroke-width: 3; }
#chart g.node.current > text { font-weight: 700; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dt { color: #555; } dd { margin: 0; font-variant-numeric: tabular-nums; word-break: break-word; }
h2 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
ul#alerts { list-style: none; padding: 0; margin: 0; }
ul#alerts li { border-left: 4px solid #999; padding: .3rem .6rem; margin-bottom: .5rem; background: #fff; }
ul#alerts li[data-severity="CRITICAL"] { border-color: #c62828; }
ul#alerts li[data-severity="WARNING"] { border-color: #f9a825; }
ul#alerts .title { font-weight: 600; } ul#alerts .meta { font-size: .8rem; color: #666; }
`;

const SCRIPT = `
(() => {
  const byId = (id) => document.getElementById(id);
  const age = (ms) => {
    if (ms === null || ms === undefined) return 'never';
    if (ms < 1000) return ms + ' ms';
    const s = Math.floor(ms / 1000);
    if (s < 120) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 120) return m + ' min';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  };
  const text = (id, value) => { byId(id).textContent = value; };
  function renderAlerts(alerts) {
    const list = byId('alerts');
    list.replaceChildren();
    for (const alert of alerts) {
      const item = document.createElement('li');
      item.dataset.severity = alert.severity;
      const title = document.createElement('div');
      title.className = 'title';
      title.textContent = alert.severity + ': ' + alert.title;
      const message = document.createElement('div');
      message.textContent = alert.message;
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = alert.timestamp + ' · ' + alert.recommendedAction;
      item.append(title, message, meta);
      list.append(item);
    }
    if (alerts.length === 0) {
      const none = document.createElement('li');
      none.textContent = 'none';
      list.append(none);
    }
  }
  function apply(view) {
    document.body.dataset.mode = view.mode;
    for (const node of document.querySelectorAll('#chart g.node[data-state]')) {
      node.classList.toggle('current', node.dataset.state === view.mode);
    }
    text('mode', view.mode);
    text('gate', view.gateOpen ? 'open: capital may be deployed' : 'closed: ' + view.authorization);
    text('cause', view.trigger || view.cause || '-');
    text('reason', view.reason || '-');
    text('heartbeat', age(view.heartbeatAgeMs) + ' ago (lost after ' + age(view.heartbeatLossMs) + ')');
    text('market-data', age(view.inputAgesMs.marketData));
    text('event-log', age(view.inputAgesMs.eventLogWrite));
    text('snapshot', age(view.inputAgesMs.snapshotWrite));
    text('health', view.healthReasons.length === 0 ? 'healthy' : view.healthReasons.join('; '));
    text('uptime', view.uptime);
    text('lifecycle', view.lifecycleId || '-');
    text('alert-count', String(view.unacknowledgedAlerts));
    text('updated', view.time);
    renderAlerts(view.alerts);
  }
  apply(JSON.parse(byId('initial-view').textContent));
  const stream = new EventSource('/api/health/stream');
  stream.addEventListener('status', (event) => apply(JSON.parse(event.data)));
  stream.addEventListener('open', () => text('connection', 'live'));
  stream.addEventListener('error', () => text('connection', 'reconnecting…'));
})();
`;

function sha256Base64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/** The page's Content-Security-Policy: only its own inline style and script, only same-origin. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${sha256Base64(STYLE)}'`,
  `script-src 'sha256-${sha256Base64(SCRIPT)}'`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON safe to embed in a <script> element: no `<`, so no `</script>`. */
function embeddableJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The view with every string (reasons, alert texts, health reasons) through `displayText`, so
 * bidi, zero-width and control characters show as visible escapes on the page; the initial
 * view and every push of the event stream go through it.
 */
export function displayView(view: unknown): unknown {
  if (typeof view === 'string') return displayText(view);
  if (Array.isArray(view)) return view.map(displayView);
  if (typeof view === 'object' && view !== null) {
    return Object.fromEntries(
      Object.entries(view).map(([key, value]) => [key, displayView(value)]),
    );
  }
  return view;
}

/** A renderer with the SVG and the static parts prepared once. */
export function statusPageRenderer(svg: string): (view: unknown) => string {
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>governor status</title><style>${STYLE}</style></head>
<body data-mode="">
<header><h1>governor</h1><span id="mode">…</span><span id="connection">connecting…</span></header>
<main><section id="chart">${svg}</section>
<section><dl>
<dt>gate</dt><dd id="gate"></dd><dt>cause / trigger</dt><dd id="cause"></dd>
<dt>reason</dt><dd id="reason"></dd><dt>heartbeat</dt><dd id="heartbeat"></dd>
<dt>market data</dt><dd id="market-data"></dd><dt>event-log write</dt><dd id="event-log"></dd>
<dt>snapshot write</dt><dd id="snapshot"></dd><dt>health</dt><dd id="health"></dd>
<dt>uptime</dt><dd id="uptime"></dd><dt>lifecycle</dt><dd id="lifecycle"></dd>
<dt>updated</dt><dd id="updated"></dd></dl>
<h2>Unacknowledged alerts (<span id="alert-count">0</span>)</h2><ul id="alerts"></ul>
</section></main>
<script type="application/json" id="initial-view">`;
  const tail = `</script>\n<script>${SCRIPT}</script>\n</body></html>\n`;
  return (view) => `${head}${embeddableJson(displayView(view))}${tail}`;
}
