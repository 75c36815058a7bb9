import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

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
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly durationMs: number;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'too-large' | 'aborted',
    /** The HTTP status that had arrived before the failure (the body then stalled, broke off or was too large). */
    readonly status?: number,
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

/**
 * node:http rather than fetch: fetch loads undici on first use (~13 MB RSS and its own timers) for what is a
 * plain GET here. Node's default agent keeps connections alive, so repeated polls reuse one socket.
 */
export function httpGet(url: string, opts: HttpGetOptions): Promise<HttpResponse> {
  const started = performance.now();
  const max = opts.maxBytes ?? 4 * 1024 * 1024;
  const shown = redactUrl(url);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new HttpError(`${shown}: invalid URL`, 'network'));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.reject(new HttpError(`${shown}: only http and https are supported`, 'network'));
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    /** Set once the status line and headers are in: a later failure still reports the code that arrived. */
    let status: number | undefined;
    const fail = (e: HttpError): void =>
      finish(() => {
        req.destroy();
        reject(status === undefined || e.status !== undefined ? e : new HttpError(e.message, e.kind, status));
      });
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: 'GET', headers: { ...opts.headers } }, (res) => {
      status = res.statusCode;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) fail(new HttpError(`${shown}: body larger than ${max} bytes`, 'too-large'));
        else chunks.push(chunk);
      });
      res.on('end', () =>
        finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), durationMs: performance.now() - started })),
      );
      res.on('error', (e: NodeJS.ErrnoException) => fail(new HttpError(`${shown}: ${e.code ?? e.message}`, 'network')));
      res.on('aborted', () => fail(new HttpError(`${shown}: connection closed mid-body`, 'network')));
    });
    req.on('error', (e: NodeJS.ErrnoException) => fail(new HttpError(`${shown}: ${e.code ?? e.message}`, 'network')));
    const timer = setTimeout(() => fail(new HttpError(`${shown}: timed out after ${opts.timeoutMs} ms`, 'timeout')), opts.timeoutMs);
    const onAbort = (): void => fail(new HttpError(`${shown}: aborted`, 'aborted'));
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
