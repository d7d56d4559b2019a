/**
 * Goal: the live status page works in a real browser (Debian chromium driven by
 * playwright-core, no download): it loads `/` with AGGRESSIVE highlighted in the statechart,
 * and after a fail-safe shutdown shows SHUTDOWN, its trigger and the alert without a reload,
 * pushed over server-sent events. The screenshot is kept in test-artifacts/status-page.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe.skipIf(!existsSync(CHROMIUM))('the status page in chromium', () => {
  let current: ApiHarness;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    current = await apiIn('AGGRESSIVE');
    profile = mkdtempSync(join(tmpdir(), 'governor-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    await current?.cleanup();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('highlights AGGRESSIVE, then SHUTDOWN after a fail-safe trigger, without a reload', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));

    await page.goto(current.api.url);
    const highlighted = page.locator('#chart g.node.current');
    await expect.poll(() => highlighted.getAttribute('data-state')).toBe('AGGRESSIVE');
    expect(await highlighted.count()).toBe(1);
    expect(await page.locator('#mode').textContent()).toBe('AGGRESSIVE');
    expect(await page.locator('#chart g.node[data-state]').count()).toBe(5);
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');

    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    current.h.gov.failSafeManager.triggerShutdown(
      'MARKET_DATA_STALL',
      'browser test: feed stalled',
    );

    await expect.poll(() => highlighted.getAttribute('data-state')).toBe('SHUTDOWN');
    expect(await highlighted.count()).toBe(1);
    expect(await page.locator('#mode').textContent()).toBe('SHUTDOWN');
    expect(await page.locator('#cause').textContent()).toBe('MARKET_DATA_STALL');
    expect(await page.locator('#alert-count').textContent()).toBe('1');
    expect(await page.locator('#alerts li[data-severity="CRITICAL"]').count()).toBe(1);
    expect(navigations).toBe(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
    expect(errors).toEqual([]);
    const origin = new URL(current.api.url).origin;
    expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
    await page.close();
  });
});
