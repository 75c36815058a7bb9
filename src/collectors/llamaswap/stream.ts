/**
 * A long-lived, read-only GET that is reconnected with back-off (1 s doubling to 30 s; 5 min while the
 * route does not exist): the request log of old versions and the event stream of newer ones. One
 * connection per use and server; resolves when closed, never rejects.
 */
import { errorMessage } from '../../lib/async.js';

export interface StreamHooks {
  /** The answer was 200: a new connection (the Date header gives llama-swap's clock). */
  onOpen(res: Response): void;
  onText(text: string): void;
  /** The connection ended (cleanly or not); `cut` = there was data. */
  onClose(): void;
}

export interface StreamState {
  connected: boolean;
  /** 404 on the last attempt: this version has no such route. */
  missing: boolean;
  lastError: string | undefined;
  downSince: number | undefined;
}

export async function followStream(
  url: string,
  headers: Record<string, string>,
  connectTimeoutMs: number,
  closeSignal: AbortSignal,
  hooks: StreamHooks,
  state: StreamState,
): Promise<void> {
  let backoffMs = 1000;
  state.downSince = Date.now();
  while (!closeSignal.aborted) {
    let gotData = false;
    try {
      const connectAc = new AbortController();
      const timer = setTimeout(() => connectAc.abort(), connectTimeoutMs);
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: AbortSignal.any([closeSignal, connectAc.signal]), redirect: 'manual' });
      } finally {
        clearTimeout(timer);
      }
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        state.missing = res.status === 404;
        throw new Error(`GET ${new URL(url).pathname} answered ${res.status}`);
      }
      state.missing = false;
      state.connected = true;
      state.downSince = undefined;
      state.lastError = undefined;
      backoffMs = 1000;
      hooks.onOpen(res);
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        gotData = true;
        hooks.onText(decoder.decode(chunk, { stream: true }));
        if (closeSignal.aborted) break;
      }
      hooks.onText(decoder.decode());
    } catch (e) {
      if (!closeSignal.aborted) state.lastError = errorMessage(e);
    }
    if (state.connected) hooks.onClose();
    state.connected = false;
    state.downSince ??= Date.now();
    if (closeSignal.aborted) break;
    await sleepUnlessAborted(gotData ? 100 : state.missing ? Math.max(backoffMs, 300_000) : backoffMs, closeSignal);
    if (!gotData) backoffMs = Math.min(backoffMs * 2, 30_000);
  }
}

export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
