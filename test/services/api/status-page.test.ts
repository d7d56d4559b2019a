/**
 * Goal: the live status page works at a glance in a real browser (Debian chromium driven by
 * playwright-core, no download). The current state is highlighted in its own colour (green
 * AGGRESSIVE, amber OBSERVE_ONLY, red SHUTDOWN) and follows the server-sent events without a
 * reload; a resolved alert is marked resolved; the diagram speaks an operator's words, not the
 * machine's (`entry / onEnterShutdown`); when the stream drops, or stays open but silent, the
 * page turns visibly stale instead of staying green; it is usable 390 px wide. Screenshots are
 * kept in test-artifacts/status-page-*.png (and status-page.png, the SHUTDOWN view).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  fallbackSvg,
  PAGE_STALE_AFTER_MS,
  STATUS_PAGE_CSP,
  statusPageRenderer,
} from '../../../services/api/status-page.js';
import { type ApiHarness, apiIn } from './api-support.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The fill and stroke of the highlighted state's box, as the browser computed them. */
const COLOURS = {
  AGGRESSIVE: { fill: 'rgb(200, 230, 201)', stroke: 'rgb(46, 125, 50)' },
  OBSERVE_ONLY: { fill: 'rgb(255, 224, 178)', stroke: 'rgb(230, 81, 0)' },
  SHUTDOWN: { fill: 'rgb(255, 205, 210)', stroke: 'rgb(198, 40, 40)' },
} as const;

interface Box {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
  readonly width: number;
}

/** The page's layout at 390 px, measured in the browser. */
interface Layout {
  readonly scrollWidth: number;
  readonly chart: Box;
  readonly chartScrolls: boolean;
  readonly svgWidth: number;
  readonly details: Box;
  readonly gate: Box;
}

// The functions evaluated in the page are strings: this project's TypeScript has no DOM types.
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

async function highlight(
  page: Page,
): Promise<{ state: string | null; fill: string; stroke: string }> {
  return page.evaluate<{ state: string | null; fill: string; stroke: string }>(`(() => {
    const node = document.querySelector('#chart g.node.current');
    const box = node && node.querySelector(':scope > path, :scope > rect');
    const style = box ? getComputedStyle(box) : null;
    return {
      state: node ? node.getAttribute('data-state') : null,
      fill: style ? style.fill : '',
      stroke: style ? style.stroke : '',
    };
  })()`);
}

describe.skipIf(!existsSync(CHROMIUM))('the status page in chromium', () => {
  let current: ApiHarness | undefined;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  let errors: string[];
  const servers: Server[] = [];

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'governor-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
  });

  afterEach(async () => {
    expect(errors).toEqual([]);
    await page?.close();
    await current?.cleanup();
    current = undefined;
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    page = await context.newPage();
    errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      // A stream the test cut on purpose is reported by the browser as a failed resource.
      if (message.type() === 'error' && !message.text().includes('ERR_CONNECTION_REFUSED')) {
        errors.push(message.text());
      }
    });
    await page.goto(url);
    return page;
  }

  it('highlights each state in its colour, follows mode changes without a reload, marks a resolved alert resolved', async () => {
    current = await apiIn('AGGRESSIVE');
    const gov = current.h.gov;
    await open(current.api.url);
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    let navigations = 0;
    page.on('framenavigated', () => navigations++);

    await expect
      .poll(() => highlight(page))
      .toEqual({ state: 'AGGRESSIVE', ...COLOURS.AGGRESSIVE });
    expect(await page.locator('#chart g.node.current').count()).toBe(1);
    expect(await page.locator('#chart g.node[data-state]').count()).toBe(5);
    expect(await page.locator('#mode').textContent()).toBe('AGGRESSIVE');
    expect(await page.locator('#mode-label').textContent()).toBe(
      'trading: capital may be deployed',
    );
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');
    expect(await page.locator('body').getAttribute('data-stale')).toBe('false');
    await screenshot(page, 'status-page-aggressive.png');

    gov.failSafeManager.triggerShutdown('MARKET_DATA_STALL', 'browser test: feed stalled');
    await expect.poll(() => highlight(page)).toEqual({ state: 'SHUTDOWN', ...COLOURS.SHUTDOWN });
    expect(await page.locator('#mode').textContent()).toBe('SHUTDOWN');
    expect(await page.locator('#cause').textContent()).toBe('MARKET_DATA_STALL');
    expect(await page.locator('#reason').textContent()).toBe('browser test: feed stalled');
    expect(await page.locator('#alert-count').textContent()).toBe('1');
    const alert = page.locator('#alerts li[data-severity="CRITICAL"]');
    expect(await alert.count()).toBe(1);
    expect(await alert.getAttribute('data-resolved')).toBe('false');
    expect(await alert.locator('.state').textContent()).toBe('OPEN');
    await screenshot(page, 'status-page-shutdown.png');
    await screenshot(page, 'status-page.png');

    gov.healthMonitor.updateMarketDataTimestamp();
    gov.operatorRestart({ operator: 'ann', reason: 'feed reconnected, verified' });
    await gov.runStartupChecks();
    await expect
      .poll(() => highlight(page))
      .toEqual({ state: 'AGGRESSIVE', ...COLOURS.AGGRESSIVE });
    await expect.poll(() => alert.getAttribute('data-resolved')).toBe('true');
    expect(await alert.locator('.state').textContent()).toBe('RESOLVED');
    expect(await alert.locator('.meta').textContent()).toMatch(/resolved \d{4}-/);
    await screenshot(page, 'status-page-resolved.png');

    gov.operatorObserve({ operator: 'ann', reason: 'exchange maintenance window' });
    await expect
      .poll(() => highlight(page))
      .toEqual({
        state: 'OBSERVE_ONLY',
        ...COLOURS.OBSERVE_ONLY,
      });
    expect(await page.locator('#cause').textContent()).toBe('OPERATOR');
    expect(await page.locator('#reason').textContent()).toBe(
      'operator ann: exchange maintenance window',
    );
    await screenshot(page, 'status-page-observe-only.png');

    expect(navigations).toBe(0);
    const origin = new URL(current.api.url).origin;
    expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
  });

  it('labels the diagram for operators: a caption per state, transitions by what happens, no machine names', async () => {
    current = await apiIn('SHUTDOWN');
    await open(current.api.url);
    const texts = await page.locator('#chart text').allTextContents();
    expect(texts).toContain('stopped: needs restart');
    expect(texts).toContain('kill switch');
    expect(texts).toContain('fail-safe trigger');
    expect(texts).toContain('checks passed');
    for (const text of texts) {
      expect(text).not.toMatch(/entry \/|invoke|onEnter|openGate|\[|\b[a-z]+\.[a-z]+\b/);
    }
  });

  it('turns visibly stale at once when the event stream drops, instead of staying green', async () => {
    current = await apiIn('AGGRESSIVE');
    await open(current.api.url);
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');
    await current.api.close();
    await expect.poll(() => page.locator('body').getAttribute('data-stale')).toBe('true');
    expect(await page.locator('#stale').isVisible()).toBe(true);
    expect(await page.locator('#stale').textContent()).toMatch(
      /^NOT LIVE: the connection to governor is lost for .+\. What you see is from \d{4}-.+ and may be out of date\.$/,
    );
    // The badge is no longer green: grey and struck through.
    const badge = await page.evaluate(`(() => {
      const style = getComputedStyle(document.getElementById('mode'));
      return { background: style.backgroundColor, line: style.textDecorationLine };
    })()`);
    expect(badge).toEqual({ background: 'rgb(189, 189, 189)', line: 'line-through' });
    await screenshot(page, 'status-page-stale.png');
  });

  it(`turns stale when the stream stays open but silent for more than ${PAGE_STALE_AFTER_MS} ms`, async () => {
    // A server whose stream sends one view and then nothing (a stalled governor, a proxy that
    // buffers): the connection never errors. The page's clock is driven by the test.
    const view = {
      mode: 'AGGRESSIVE',
      gateOpen: true,
      authorization: 'AGGRESSIVE with a fresh heartbeat lease',
      cause: null,
      trigger: null,
      reason: null,
      lifecycleId: 'l-1',
      heartbeatAgeMs: 100,
      heartbeatLossMs: 60_000,
      inputAgesMs: { marketData: 1, eventLogWrite: 1, snapshotWrite: 1 },
      healthReasons: [],
      uptime: '1m',
      unacknowledgedAlerts: 0,
      alerts: [],
      db: '/var/lib/governor/governor.db',
      time: '2026-01-01T00:00:00.000Z',
    };
    const render = statusPageRenderer(fallbackSvg());
    const server = createServer((request, response) => {
      if (request.url === '/api/health/stream') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`event: status\ndata: ${JSON.stringify(view)}\n\n`);
        return; // and never another
      }
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': STATUS_PAGE_CSP,
      });
      response.end(render(view));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    page = await context.newPage();
    errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.clock.install();
    await page.goto(`http://127.0.0.1:${port}/`);
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');
    expect(await page.locator('body').getAttribute('data-stale')).toBe('false');
    await page.clock.fastForward(PAGE_STALE_AFTER_MS - 1_000);
    expect(await page.locator('body').getAttribute('data-stale')).toBe('false');
    await page.clock.fastForward(2_000);
    expect(await page.locator('body').getAttribute('data-stale')).toBe('true');
    expect(await page.locator('#stale').textContent()).toMatch(/^NOT LIVE: no update for \d+ s\./);
    expect(await page.locator('#connection').textContent()).toBe('no update');
  });

  it('is usable 390 px wide: one column, the details first, the diagram scrolls within its own box', async () => {
    current = await apiIn('SHUTDOWN');
    page = await context.newPage();
    errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(current.api.url);
    await expect.poll(() => highlight(page)).toEqual({ state: 'SHUTDOWN', ...COLOURS.SHUTDOWN });
    const layout = await page.evaluate<Layout>(`(() => {
      const rect = (selector) => document.querySelector(selector).getBoundingClientRect().toJSON();
      const chart = document.getElementById('chart');
      return {
        scrollWidth: document.documentElement.scrollWidth,
        chart: rect('#chart'),
        chartScrolls: chart.scrollWidth > chart.clientWidth,
        svgWidth: rect('#chart svg').width,
        details: rect('main > section:nth-child(2)'),
        gate: rect('#gate'),
      };
    })()`);
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    expect(layout.chart.right).toBeLessThanOrEqual(390);
    expect(layout.details.right).toBeLessThanOrEqual(390);
    // The gate and the details come first, above the fold; the diagram keeps a legible size.
    expect(layout.details.bottom).toBeLessThanOrEqual(layout.chart.top);
    expect(layout.gate.bottom).toBeLessThan(844);
    expect(layout.svgWidth).toBeGreaterThanOrEqual(640);
    expect(layout.chartScrolls).toBe(true);
    // Scrolled so that the highlighted state is in view.
    const shown = await page.evaluate(`(() => {
      const node = document.querySelector('#chart g.node.current').getBoundingClientRect();
      const chart = document.getElementById('chart').getBoundingClientRect();
      return node.left >= chart.left && node.right <= chart.right;
    })()`);
    expect(shown).toBe(true);
    expect(await page.locator('#alerts li[data-severity="CRITICAL"]').isVisible()).toBe(true);
    await screenshot(page, 'status-page-390px.png');
  });
});
