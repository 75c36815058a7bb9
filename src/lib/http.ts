/**
 * HTTP GET with a hard time-out and a body size cap, for everything silentwatch polls (llama-swap, probes).
 * Never follows the caller past its deadline: the request and the body read are both aborted.
 */

export interface HttpGetOptions {
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Bodies beyond this are cut off with an error (a 10 MB garbage answer must not be buffered whole). */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly durationMs: number;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'too-large' | 'aborted',
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Strips credentials and query strings so a URL can be logged or shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    u.search = u.search ? '?…' : '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

export async function httpGet(url: string, opts: HttpGetOptions): Promise<HttpResponse> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const max = opts.maxBytes ?? 4 * 1024 * 1024;
  try {
    const res = await fetch(url, { headers: opts.headers, signal, redirect: 'manual' });
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > max) {
          await res.body.cancel().catch(() => undefined);
          throw new HttpError(`${redactUrl(url)}: body larger than ${max} bytes`, 'too-large');
        }
        chunks.push(chunk);
      }
    }
    const body = Buffer.concat(chunks).toString('utf8');
    return { status: res.status, headers: res.headers, body, durationMs: performance.now() - started };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (timeout.aborted) throw new HttpError(`${redactUrl(url)}: timed out after ${opts.timeoutMs} ms`, 'timeout');
    if (opts.signal?.aborted) throw new HttpError(`${redactUrl(url)}: aborted`, 'aborted');
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new HttpError(`${redactUrl(url)}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, 'network');
  }
}
