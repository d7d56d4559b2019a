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

/** What each state means to an operator, shown under its name instead of its entry actions. */
export const STATE_CAPTIONS: Readonly<Record<string, string>> = {
  STARTING: 'not started: no capital',
  CHECKING: 'startup checks running: no capital',
  AGGRESSIVE: 'trading: capital may be deployed',
  OBSERVE_ONLY: 'observing: no new capital',
  SHUTDOWN: 'stopped: needs restart',
};

/** What each state means, beside the state's name in the page's header. */
export const STATE_HEADLINES: Readonly<Record<string, string>> = {
  STARTING: 'not started: no capital',
  CHECKING: 'running the startup checks: no capital',
  AGGRESSIVE: 'trading: capital may be deployed',
  OBSERVE_ONLY: 'observing: no new capital',
  SHUTDOWN: 'stopped: an operator must restart',
};

/** The statechart's transition labels (events and guards) in an operator's words. */
export const TRANSITION_LABELS: Readonly<Record<string, string>> = {
  'lifecycle.start': 'start',
  'operator.observe': 'operator: observe',
  'operator.resume': 'operator: resume',
  'operator.shutdown': 'kill switch',
  'failsafe.triggered': 'fail-safe trigger',
  'heartbeat.lost': 'heartbeat lost',
  'integrity.violated': 'integrity violation',
  'always [latchRecorded]': 'shutdown still latched',
  'after startupChecksTimeout': 'checks timed out',
  'error startupChecks': 'checks could not run',
  'done startupChecks [reportPassedThisVisit and mayTrade]': 'checks passed',
  'done startupChecks [reportPassedThisVisit and failureHeld]': 'checks passed, failure still held',
  'done startupChecks [reportPassedThisVisit]': 'checks passed, observe only desired',
  'done startupChecks [else]': 'checks failed',
  'done startupChecks [capitalInconsistent]': 'capital inconsistent',
};

/** A label the table does not know, in words: no guard, no dotted event name. */
function transitionLabel(label: string): string {
  const known = TRANSITION_LABELS[label];
  if (known !== undefined) return known;
  return label
    .replace(/\s*\[[^\]]*\]/g, '')
    .replace(/[._]/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/** Each state's node: its name, then its caption in place of its entry and invoke lines. */
function relabelNode(name: string, body: string): string {
  let line = 0;
  return body.replace(/<text([^>]*)>([^<]*)<\/text>\n?/g, (whole, attributes: string) => {
    line++;
    if (line === 1) return whole;
    if (line === 2)
      return `<text${attributes} class="caption">${STATE_CAPTIONS[name] ?? ''}</text>\n`;
    return '';
  });
}

/**
 * Drops the XML prologue and comments, makes it scale, marks each state node, and puts the
 * labels in an operator's words (a caption per state, transitions by what happens).
 */
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
      /<g id="(node\d+)" class="node">\s*<title>([A-Z_]+)<\/title>([\s\S]*?)<\/g>/g,
      (whole, id: string, name: string, body: string) =>
        states.has(name)
          ? `<g id="${id}" class="node" data-state="${name}"><title>${name}</title>${relabelNode(name, body)}</g>`
          : whole,
    )
    .replace(/(<g id="edge\d+" class="edge">[\s\S]*?<\/g>)/g, (edge: string) =>
      edge.replace(
        /(<text[^>]*>)([^<]*)(<\/text>)/g,
        (_whole, open: string, label: string, close: string) =>
          `${open}${transitionLabel(label)}${close}`,
      ),
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

/**
 * The page turns stale when no view arrived for this long: the server pushes one every 2 s
 * (status-stream.ts), so two missed pushes and a margin. A dropped stream turns it stale at once.
 */
export const PAGE_STALE_AFTER_MS = 5_000;

const STYLE = `
:root { color-scheme: light; font-family: system-ui, sans-serif;
  --green: #2e7d32; --green-bg: #c8e6c9; --amber: #e65100; --amber-badge: #f9a825; --amber-bg: #ffe0b2;
  --red: #c62828; --red-bg: #ffcdd2; --blue: #1565c0; --blue-bg: #e3f2fd; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem 1.5rem; background: #fafafa; color: #222; }
header { display: flex; align-items: center; gap: .5rem 1rem; flex-wrap: wrap; }
h1 { font-size: 1.2rem; margin: 0; }
#mode { font-weight: 700; padding: .15rem .6rem; border-radius: .3rem; background: #ddd; }
#mode-label { font-weight: 600; }
body[data-mode="STARTING"] #mode, body[data-mode="CHECKING"] #mode { background: var(--blue); color: #fff; }
body[data-mode="AGGRESSIVE"] #mode { background: var(--green); color: #fff; }
body[data-mode="OBSERVE_ONLY"] #mode { background: var(--amber-badge); color: #000; }
body[data-mode="SHUTDOWN"] #mode { background: var(--red); color: #fff; }
#connection { font-size: .85rem; color: #666; }
#stale { display: none; margin: .8rem 0 0; padding: .6rem .8rem; border: 2px solid var(--red);
  background: #fff; color: var(--red); font-weight: 700; }
body[data-stale="true"] #stale { display: block; }
body[data-stale="true"] #mode { background: #bdbdbd; color: #333; text-decoration: line-through; }
body[data-stale="true"] main { filter: grayscale(1); opacity: .55; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(16rem, 2fr); gap: 1.5rem; margin-top: 1rem; }
#chart svg { width: 100%; height: auto; max-height: 80vh; }
#chart g.node > text.caption { font-style: italic; fill: #555; }
#chart g.node.current > path, #chart g.node.current > rect { stroke-width: 4; }
#chart g.node.current > text { font-weight: 700; }
#chart g.node.current[data-state="STARTING"] > path, #chart g.node.current[data-state="STARTING"] > rect,
#chart g.node.current[data-state="CHECKING"] > path, #chart g.node.current[data-state="CHECKING"] > rect
{ fill: var(--blue-bg); stroke: var(--blue); }
#chart g.node.current[data-state="AGGRESSIVE"] > path, #chart g.node.current[data-state="AGGRESSIVE"] > rect
{ fill: var(--green-bg); stroke: var(--green); }
#chart g.node.current[data-state="OBSERVE_ONLY"] > path, #chart g.node.current[data-state="OBSERVE_ONLY"] > rect
{ fill: var(--amber-bg); stroke: var(--amber); }
#chart g.node.current[data-state="SHUTDOWN"] > path, #chart g.node.current[data-state="SHUTDOWN"] > rect
{ fill: var(--red-bg); stroke: var(--red); }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .3rem 1rem; margin: 0; }
dt { color: #555; } dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
h2 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
ul#alerts { list-style: none; padding: 0; margin: 0; }
ul#alerts li { border-left: 4px solid #999; padding: .3rem .6rem; margin-bottom: .5rem; background: #fff;
  overflow-wrap: anywhere; }
ul#alerts li[data-severity="CRITICAL"] { border-color: var(--red); }
ul#alerts li[data-severity="WARNING"] { border-color: var(--amber-badge); }
ul#alerts li[data-resolved="true"] { border-color: var(--green); color: #555; }
ul#alerts .state { font-size: .75rem; font-weight: 700; padding: 0 .35rem; margin-right: .4rem;
  border-radius: .2rem; color: #fff; background: var(--red); }
ul#alerts li[data-resolved="true"] .state { background: var(--green); }
ul#alerts .title { font-weight: 600; } ul#alerts .meta { font-size: .8rem; color: #666; }
ul#venues { list-style: none; padding: 0; margin: 0; }
ul#venues li { border-left: 4px solid #999; padding: .3rem .6rem; margin-bottom: .5rem; background: #fff; }
ul#venues li[data-flat="false"] { border-color: var(--red); }
ul#venues li[data-flat="true"] { border-color: var(--green); }
@media (max-width: 760px) {
  body { padding: .75rem; }
  main { grid-template-columns: minmax(0, 1fr); gap: 1rem; }
  main > section:nth-child(2) { order: -1; }
  #chart { overflow-x: auto; }
  #chart svg { min-width: 640px; max-height: none; }
  dl { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dd { margin-bottom: .5rem; }
}
`;

const SCRIPT = `
(() => {
  const STALE_AFTER_MS = ${PAGE_STALE_AFTER_MS};
  const HEADLINES = ${JSON.stringify(STATE_HEADLINES)};
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
      const resolved = alert.resolvedAt !== null && alert.resolvedAt !== undefined;
      const item = document.createElement('li');
      item.dataset.severity = alert.severity;
      item.dataset.resolved = String(resolved);
      const title = document.createElement('div');
      title.className = 'title';
      const state = document.createElement('span');
      state.className = 'state';
      state.textContent = resolved ? 'RESOLVED' : 'OPEN';
      const name = document.createElement('span');
      name.textContent = alert.severity + ': ' + alert.title;
      title.append(state, name);
      const message = document.createElement('div');
      message.textContent = alert.message;
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = resolved
        ? 'raised ' + alert.timestamp + ' · resolved ' + alert.resolvedAt + ' · acknowledge it once handled'
        : 'raised ' + alert.timestamp + ' · ' + alert.recommendedAction;
      item.append(title, message, meta);
      list.append(item);
    }
    if (alerts.length === 0) {
      const none = document.createElement('li');
      none.textContent = 'none';
      list.append(none);
    }
  }
  function renderVenues(venues) {
    const list = byId('venues');
    list.replaceChildren();
    for (const venue of venues) {
      const item = document.createElement('li');
      item.dataset.flat = String(venue.flat);
      const flat = venue.flat === null ? 'no SHUTDOWN yet' : venue.flat ? 'flat'
        : venue.cancelling ? 'NOT FLAT (still cancelling)' : 'NOT FLAT';
      const open = venue.openOrders === null ? 'open orders unknown' : venue.openOrders + ' open';
      const cancel = venue.lastCancelLatencyMs === null ? '' : ' · last cancel ' + venue.lastCancelLatencyMs + ' ms';
      const dms = venue.deadMansSwitchExpiresAt === null ? "dead man's switch not armed"
        : "dead man's switch expires " + venue.deadMansSwitchExpiresAt;
      item.textContent = venue.name + ': ' + flat + ' · ' + open + cancel + ' · ' + dms;
      list.append(item);
    }
    byId('venues-section').hidden = venues.length === 0;
  }
  function apply(view) {
    const modeChanged = document.body.dataset.mode !== view.mode;
    document.body.dataset.mode = view.mode;
    for (const node of document.querySelectorAll('#chart g.node[data-state]')) {
      node.classList.toggle('current', node.dataset.state === view.mode);
    }
    const chart = byId('chart');
    const current = chart.querySelector('g.node.current');
    if (modeChanged && current && chart.scrollWidth > chart.clientWidth) {
      // A narrow screen scrolls the diagram: bring the current state into view.
      const box = current.getBoundingClientRect();
      const frame = chart.getBoundingClientRect();
      chart.scrollLeft += box.left + box.width / 2 - (frame.left + frame.width / 2);
    }
    text('mode', view.mode);
    text('mode-label', HEADLINES[view.mode] || '');
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
    text('db', view.db);
    text('alert-count', String(view.unacknowledgedAlerts));
    text('updated', view.time);
    renderAlerts(view.alerts);
    renderVenues(view.venues || []);
  }
  let lastViewAt = Date.now();
  let lastViewTime = '';
  let dropped = false;
  function showStale() {
    const silentMs = Date.now() - lastViewAt;
    const stale = dropped || silentMs > STALE_AFTER_MS;
    document.body.dataset.stale = String(stale);
    if (!stale) return;
    text('stale', 'NOT LIVE: ' + (dropped ? 'the connection to governor is lost' : 'no update')
      + ' for ' + age(silentMs) + '. What you see is from ' + lastViewTime + ' and may be out of date.');
    text('connection', dropped ? 'reconnecting…' : 'no update');
  }
  function received(view) {
    lastViewAt = Date.now();
    lastViewTime = view.time;
    dropped = false;
    apply(view);
    showStale();
  }
  received(JSON.parse(byId('initial-view').textContent));
  const stream = new EventSource('/api/health/stream');
  stream.addEventListener('status', (event) => {
    received(JSON.parse(event.data));
    text('connection', 'live');
  });
  stream.addEventListener('open', () => text('connection', 'live'));
  stream.addEventListener('error', () => { dropped = true; showStale(); });
  setInterval(showStale, 1000);
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
<body data-mode="" data-stale="false">
<header><h1>governor</h1><span id="mode">…</span><span id="mode-label"></span><span id="connection">connecting…</span></header>
<p id="stale" role="alert"></p>
<main><section id="chart">${svg}</section>
<section><dl>
<dt>gate</dt><dd id="gate"></dd><dt>cause / trigger</dt><dd id="cause"></dd>
<dt>reason</dt><dd id="reason"></dd><dt>heartbeat</dt><dd id="heartbeat"></dd>
<dt>market data</dt><dd id="market-data"></dd><dt>event-log write</dt><dd id="event-log"></dd>
<dt>snapshot write</dt><dd id="snapshot"></dd><dt>health</dt><dd id="health"></dd>
<dt>uptime</dt><dd id="uptime"></dd><dt>lifecycle</dt><dd id="lifecycle"></dd>
<dt>database</dt><dd id="db"></dd><dt>updated</dt><dd id="updated"></dd></dl>
<h2>Unacknowledged alerts (<span id="alert-count">0</span>)</h2><ul id="alerts"></ul>
<div id="venues-section" hidden><h2>Venues</h2><ul id="venues"></ul></div>
</section></main>
<script type="application/json" id="initial-view">`;
  const tail = `</script>\n<script>${SCRIPT}</script>\n</body></html>\n`;
  return (view) => `${head}${embeddableJson(displayView(view))}${tail}`;
}
