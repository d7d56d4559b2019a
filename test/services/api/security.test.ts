/**
 * Goal: the API's security and resource rules hold. It binds loopback unless given a bearer
 * token; with a token every request must carry it; its database connection is read-only; at
 * most STREAM_CLIENTS_MAX event streams are open at once; a mode change is pushed to open
 * streams; and close() ends streams and connections so the process can exit.
 */
import { spawn } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../../services/api/options.js';
import { startApiServer } from '../../../services/api/server.js';
import { STREAM_CLIENTS_MAX } from '../../../services/api/status-stream.js';
import { isGovernorError } from '../../../services/errors.js';
import { tempDir } from '../../support/harness.js';
import { type ApiHarness, apiIn, governorIn, request } from './api-support.js';

const TOKEN = 'test-token-0123456789abcdef';
let current: ApiHarness | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return isGovernorError(error) ? error.code : `not a GovernorError: ${String(error)}`;
  }
  return 'no error';
}

describe('binding and the bearer token', () => {
  it('knows which hosts are loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });

  it('refuses a non-loopback host without a token (GOV_INVALID_CONFIG), and bad tokens or ports', async () => {
    const h = await governorIn('AGGRESSIVE');
    try {
      const governance = h.gov;
      expect(await refusal(() => startApiServer({ governance, host: '0.0.0.0' }))).toBe(
        'GOV_INVALID_CONFIG',
      );
      expect(await refusal(() => startApiServer({ governance, host: '::' }))).toBe(
        'GOV_INVALID_CONFIG',
      );
      expect(await refusal(() => startApiServer({ governance, bearerToken: 'short' }))).toBe(
        'GOV_INVALID_CONFIG',
      );
      expect(
        await refusal(() => startApiServer({ governance, bearerToken: 'has spaces in it 0123' })),
      ).toBe('GOV_INVALID_CONFIG');
      expect(await refusal(() => startApiServer({ governance, port: 70_000 }))).toBe(
        'GOV_INVALID_CONFIG',
      );
      expect(await refusal(() => startApiServer({ governance, port: 1.5 }))).toBe(
        'GOV_INVALID_CONFIG',
      );
    } finally {
      h.cleanup();
    }
  });

  it('with a token on 0.0.0.0, demands Authorization: Bearer on every endpoint', async () => {
    current = await apiIn('AGGRESSIVE', { host: '0.0.0.0', bearerToken: TOKEN });
    const base = current.api.url.replace('0.0.0.0', '127.0.0.1');
    for (const path of ['/', '/api/health', '/metrics', '/livez', '/readyz', '/nope']) {
      const missing = await request(base, path);
      expect(missing.status, path).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="governor"');
      for (const authorization of [`Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
        const wrong = await request(base, path, { headers: { authorization } });
        expect(wrong.status, `${path} ${authorization}`).toBe(401);
      }
      const post = await request(base, path, { method: 'POST' });
      expect(post.status, 'authentication comes before the method check').toBe(401);
    }
    const ok = await request(base, '/api/health', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
    const lower = await request(base, '/livez', { headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.status).toBe(200);
  });

  it('enforces a token given on loopback too', async () => {
    current = await apiIn('AGGRESSIVE', { bearerToken: TOKEN });
    expect((await request(current.api.url, '/livez')).status).toBe(401);
    const ok = await request(current.api.url, '/livez', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
  });

  it('binds 127.0.0.1 by default', async () => {
    current = await apiIn('AGGRESSIVE');
    expect(current.api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('read only', () => {
  it('reads through a connection SQLite opened read-only: a write through it is refused', async () => {
    const h = await governorIn('AGGRESSIVE');
    try {
      const store = h.gov.openReadOnlyStore();
      expect(store).not.toBeNull();
      expect(store?.readonly).toBe(true);
      let code = 'no error';
      try {
        store?.events.append({ eventType: 'X', reason: 'must not be written' });
      } catch (error) {
        code = isGovernorError(error) ? error.code : String(error);
      }
      expect(code).toBe('GOV_STORAGE_FAILURE');
      store?.close();
    } finally {
      h.cleanup();
    }
  });
});

interface OpenStream {
  readonly status: number;
  readonly response: IncomingMessage;
  next(): Promise<Record<string, unknown>>;
}

function openStream(url: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    get(`${url}/api/health/stream`, (response) => {
      let buffer = '';
      const events: Record<string, unknown>[] = [];
      const waiters: Array<(view: Record<string, unknown>) => void> = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data === undefined) continue;
          const view = JSON.parse(data.slice(6)) as Record<string, unknown>;
          const waiter = waiters.shift();
          if (waiter) waiter(view);
          else events.push(view);
        }
      });
      resolve({
        status: response.statusCode ?? 0,
        response,
        next: () => {
          const ready = events.shift();
          return ready ? Promise.resolve(ready) : new Promise((r) => waiters.push(r));
        },
      });
    }).on('error', reject);
  });
}

describe('the status stream', () => {
  it('sends the view on connect and pushes a mode change without waiting for the periodic push', async () => {
    current = await apiIn('AGGRESSIVE');
    const stream = await openStream(current.api.url);
    expect(stream.status).toBe(200);
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const first = await stream.next();
    expect(first.mode, JSON.stringify(first)).toBe('AGGRESSIVE');
    current.h.gov.failSafeManager.triggerShutdown('OPERATOR_KILL', 'stream test');
    let view = await stream.next();
    while (view.mode !== 'SHUTDOWN') view = await stream.next();
    expect(view.trigger).toBe('OPERATOR_KILL');
    expect((view.alerts as unknown[]).length).toBe(1);
    stream.response.destroy();
  });

  it(`holds at most ${STREAM_CLIENTS_MAX} streams; the next gets 503 with Retry-After; a freed slot is reusable`, async () => {
    current = await apiIn('AGGRESSIVE');
    const streams: OpenStream[] = [];
    for (let i = 0; i < STREAM_CLIENTS_MAX; i++) {
      const stream = await openStream(current.api.url);
      expect(stream.status).toBe(200);
      await stream.next();
      streams.push(stream);
    }
    const refused = await request(current.api.url, '/api/health/stream');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect((await request(current.api.url, '/api/health')).status).toBe(200);
    const first = streams.shift();
    first?.response.destroy();
    await new Promise<void>((resolve) => first?.response.once('close', () => resolve()));
    let again = await openStream(current.api.url);
    while (again.status === 503) {
      again.response.destroy();
      await new Promise<void>((resolve) => setImmediate(resolve));
      again = await openStream(current.api.url);
    }
    expect(again.status).toBe(200);
    streams.push(again);
    for (const stream of streams) stream.response.destroy();
  });

  it('close() ends open streams', async () => {
    current = await apiIn('AGGRESSIVE');
    const stream = await openStream(current.api.url);
    await stream.next();
    const ended = new Promise<void>((resolve) => stream.response.once('close', () => resolve()));
    await current.api.close();
    await ended;
    await expect(fetch(`${current.api.url}/livez`)).rejects.toThrow();
  });

  it('close() leaves nothing that keeps the process alive (a real process exits by itself)', async () => {
    const dir = tempDir('governor-api-exit-');
    const fixture = join(import.meta.dirname, 'fixtures', 'serve-then-close.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, join(dir, 'governor.db')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(stdout).toBe('closed\n');
    expect(code).toBe(0);
  });
});
