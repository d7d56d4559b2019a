/**
 * Goal: no request can hurt the API or the governor. Property (fast-check, 10,000 requests):
 * random methods, paths, query strings, headers and bodies never get a 5xx, the server keeps
 * answering, and afterwards the mode is unchanged and every table of the database is
 * byte-for-byte what it was (a checksum over all rows).
 */
import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PATHS, type ApiHarness, apiIn, request, tablesChecksum } from './api-support.js';

const RUNS = 200;
const REQUESTS_PER_RUN = 50;
const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'PURGE',
  'LINK',
  'SEARCH',
  'REPORT',
  'QUERY',
  'FOO',
  'get',
];
/** Headers the client must control itself for the request to be well formed. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
]);

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | null;
}

const pathArbitrary = fc.oneof(
  fc.constantFrom(...API_PATHS),
  fc.tuple(fc.constantFrom(...API_PATHS), fc.webQueryParameters()).map(([p, q]) => `${p}?${q}`),
  fc.tuple(fc.constantFrom(...API_PATHS), fc.webSegment()).map(([p, s]) => `${p}/${s}`),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  fc.stringMatching(/^\/[A-Za-z0-9%._~:@!$&'()*+,;=/-]{0,300}$/),
);

const headersArbitrary = fc
  .dictionary(
    fc.oneof(
      fc.constantFrom(
        'authorization',
        'accept',
        'content-type',
        'cookie',
        'x-forwarded-for',
        'origin',
        'range',
        'if-none-match',
        'accept-encoding',
      ),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
    ),
    fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,200}[\x21-\x7e])?$/),
    { maxKeys: 8 },
  )
  .map((headers) =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !RESERVED_HEADERS.has(name))),
  );

const requestArbitrary: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.oneof(fc.constantFrom(...METHODS), fc.stringMatching(/^[A-Z]{1,12}$/)),
  path: pathArbitrary,
  headers: headersArbitrary,
  body: fc.option(fc.oneof(fc.string({ maxLength: 2_000 }), fc.uint8Array({ maxLength: 4_000 })), {
    nil: null,
  }),
});

/** Sends one request; resolves with its status (0 when the server refused the connection's bytes). */
function send(base: URL, agent: Agent, fuzz: FuzzRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: fuzz.method,
        path: fuzz.path,
        headers: fuzz.headers,
        agent,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (String(response.headers['content-type']).startsWith('text/event-stream')) {
          response.destroy();
          resolve(status);
          return;
        }
        response.resume();
        response.on('end', () => resolve(status));
        response.on('error', reject);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close a connection whose request it could not parse (Node answers 400).
      if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_CONSTANT') resolve(0);
      else reject(error);
    });
    if (fuzz.body !== null) req.end(fuzz.body);
    else req.end();
  });
}

describe('fuzzing the health API', () => {
  let current: ApiHarness;
  beforeAll(async () => {
    current = await apiIn('AGGRESSIVE');
    current.h.gov.engine.snapshots.write({ date: '2025-12-17', data: { equityMinor: 100 } });
  });
  afterAll(async () => {
    await current?.cleanup();
  });

  it(`${RUNS * REQUESTS_PER_RUN} random requests: never a 5xx, still answering, nothing changed`, async () => {
    const base = new URL(current.api.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const modeBefore = current.h.gov.getState();
    const checksumBefore = tablesChecksum(current.h.dbPath);
    const statuses = new Map<number, number>();
    let sent = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(requestArbitrary, { minLength: REQUESTS_PER_RUN, maxLength: REQUESTS_PER_RUN }),
          async (batch) => {
            const results = await Promise.all(batch.map((fuzz) => send(base, agent, fuzz)));
            sent += results.length;
            for (const status of results) statuses.set(status, (statuses.get(status) ?? 0) + 1);
            expect(results.filter((status) => status >= 500)).toEqual([]);
            expect((await request(current.api.url, '/livez')).status).toBe(200);
          },
        ),
        { numRuns: RUNS },
      );
    } finally {
      agent.destroy();
    }
    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(current.h.gov.getState()).toBe(modeBefore);
    expect(current.h.gov.canDeployCapital()).toBe(true);
    expect(tablesChecksum(current.h.dbPath)).toBe(checksumBefore);
    // Sanity: the fuzz reached the routes, the 404s and the 405s.
    for (const status of [200, 404, 405]) expect(statuses.get(status) ?? 0).toBeGreaterThan(100);
  });
});
