/**
 * What every HTTP sink shares: configuration checks made up front (a clear GOV_INVALID_CONFIG),
 * and one JSON POST with a timeout that never puts a URL path, query or header in an error,
 * since webhook URLs and headers carry secrets.
 */
import { describeError, GovernorError } from '../../errors.js';

/** The default time one POST may take, connection included. */
export const HTTP_TIMEOUT_MS_DEFAULT = 5_000;
export const HTTP_TIMEOUT_MS_MAX = 120_000;
/** The largest JSON body a sink sends; bigger alerts are refused rather than sent truncated. */
export const HTTP_BODY_BYTES_MAX = 256 * 1024;

export interface HttpTarget {
  readonly url: URL;
  /** `scheme://host:port` only: what logs and errors may show. */
  readonly origin: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

function configError(sink: string, field: string, message: string): GovernorError {
  return new GovernorError('GOV_INVALID_CONFIG', `${sink} sink: ${field} ${message}`, {
    sink,
    field,
  });
}

/** An http(s) URL without credentials (put them in `headers`), or GOV_INVALID_CONFIG. */
export function checkUrl(sink: string, field: string, value: unknown): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw configError(sink, field, 'must be a non-empty URL string');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(sink, field, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configError(sink, field, `must use http or https, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw configError(sink, field, 'must not hold credentials; pass an Authorization header');
  }
  return url;
}

export function checkTimeoutMs(sink: string, value: unknown): number {
  if (value === undefined) return HTTP_TIMEOUT_MS_DEFAULT;
  if (
    !Number.isSafeInteger(value) ||
    (value as number) < 1 ||
    (value as number) > HTTP_TIMEOUT_MS_MAX
  ) {
    throw configError(sink, 'timeoutMs', `must be an integer from 1 to ${HTTP_TIMEOUT_MS_MAX}`);
  }
  return value as number;
}

export function checkHeaders(sink: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(sink, 'headers', 'must be an object of header names to string values');
  }
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(value)) {
    if (
      !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) ||
      typeof header !== 'string' ||
      /[\r\n]/.test(header)
    ) {
      throw configError(sink, 'headers', `has an invalid header ${JSON.stringify(name)}`);
    }
    headers[name] = header;
  }
  return headers;
}

/** A sink's name: 1 to 128 printable characters; it keys the outbox rows across restarts. */
export function checkSinkName(kind: string, value: unknown, fallback: string): string {
  const name = value ?? fallback;
  if (typeof name !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(name)) {
    throw configError(kind, 'name', 'must be 1 to 128 printable ASCII characters without spaces');
  }
  return name;
}

export function httpTarget(
  sink: string,
  url: URL,
  options: { headers?: unknown; timeoutMs?: unknown },
): HttpTarget {
  return {
    url,
    origin: url.origin,
    headers: checkHeaders(sink, options.headers),
    timeoutMs: checkTimeoutMs(sink, options.timeoutMs),
  };
}

/**
 * Why a fetch failed, without the URL's path or query: `timed out after 5000 ms`, or undici's
 * cause (`connect ECONNREFUSED 127.0.0.1:9093`, `getaddrinfo ENOTFOUND …`, a TLS error, `bad
 * port`), which `describeError` reads from `error.cause` under undici's `fetch failed`.
 */
function describeFetchFailure(error: unknown, target: HttpTarget): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${target.timeoutMs} ms`;
  }
  let text = describeError(error).replace(/^fetch failed: /, '');
  const secrets = [target.url.href, `${target.url.pathname}${target.url.search}`];
  for (const secret of secrets) {
    if (secret.length > 1) text = text.split(secret).join('…');
  }
  return text;
}

/** HTTP statuses a retry may cure; every other 4xx is a permanent refusal. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429 || status < 400;
}

/**
 * POSTs `body` as JSON; resolves on a 2xx answer, otherwise throws GOV_ALERT_DELIVERY_FAILED
 * (`details.retryable` false for a 4xx a retry cannot fix). Redirects are not followed.
 */
export async function postJson(sink: string, target: HttpTarget, body: unknown): Promise<void> {
  const text = JSON.stringify(body);
  if (Buffer.byteLength(text, 'utf8') > HTTP_BODY_BYTES_MAX) {
    throw new GovernorError(
      'GOV_ALERT_DELIVERY_FAILED',
      `${sink}: payload larger than ${HTTP_BODY_BYTES_MAX} bytes`,
      { sink, retryable: false },
    );
  }
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...target.headers },
      body: text,
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    throw new GovernorError(
      'GOV_ALERT_DELIVERY_FAILED',
      `${sink}: POST to ${target.origin} failed: ${describeFetchFailure(error, target)}`,
      { sink, origin: target.origin, retryable: true },
    );
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status < 200 || response.status > 299) {
    throw new GovernorError(
      'GOV_ALERT_DELIVERY_FAILED',
      `${sink}: ${target.origin} answered HTTP ${response.status}`,
      {
        sink,
        origin: target.origin,
        status: response.status,
        retryable: isRetryableStatus(response.status),
      },
    );
  }
}

/** An ISO-8601 UTC string for a Date (or null). */
export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
