/**
 * The llama-swap server poller (version detection, activity reader, event stream) in-process against the
 * stand-in in every released mode (≤ v217, v218–v235, v236–v250, HEAD): a storm with load failures
 * counted exactly and staying exact through 60 idle polls (5 minutes at the default 5 s), restarts and a
 * full store under a burst keeping counted + missed = served, hung generations in flight with a growing
 * age, swaps, the model label cap, requests rejected before routing. Polls are called directly (the
 * background timer is set to 1 h), so the tests do not wait for time to pass.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { options } from '../../../src/collectors/llamaswap/options.js';
import { ServerPoller } from '../../../src/collectors/llamaswap/poller.js';
import { silentLogger } from '../../../src/logger.js';
import { waitFor } from '../../helpers/daemon.js';
import { chat, LlamaSwapStandIn, RELEASED_MODES, type Mode, type StandInOptions } from '../../helpers/llamaswap.js';

const open: Array<{ s: LlamaSwapStandIn; p: ServerPoller }> = [];

afterEach(async () => {
  for (const { s, p } of open.splice(0)) {
    await p.close();
    // Read-only: the poller sent only GETs and never touched /upstream/.
    const own = s.received.filter((r) => !r.startsWith('POST /v1/'));
    expect(own.filter((r) => !r.startsWith('GET ') || r.includes('/upstream'))).toEqual([]);
    await s.close();
  }
});

/** Starts a poller on `s` (background timer at 1 h) and waits for detection and, unless told not to, the event stream. */
async function watch(s: LlamaSwapStandIn, extra: Record<string, unknown> = {}, events = true): Promise<ServerPoller> {
  const o = options.parse({ servers: `a=${s.url}`, poll_interval: '1h', request_timeout: '5s', ...extra });
  const p = new ServerPoller(o.servers[0] as (typeof o.servers)[number], o, silentLogger());
  open.push({ s, p });
  p.start();
  await waitFor(() => p.source !== undefined && (!events || p.events.connected), 'detected and event stream connected', 10_000);
  await p.poll(); // baseline (the background timer's first poll may already have set it)
  return p;
}

async function setup(opts: StandInOptions, extra: Record<string, unknown> = {}): Promise<{ s: LlamaSwapStandIn; p: ServerPoller }> {
  const s = await LlamaSwapStandIn.start(opts);
  return { s, p: await watch(s, extra) };
}

const counted = (p: ServerPoller): number => p.tally.totalRequests();
const codeCount = (p: ServerPoller, model: string, code: string): number => p.tally.requests.get(model)?.get(code) ?? 0;

/** Polls until nothing new arrives (rows land after the response is sent). */
async function settle(p: ServerPoller, expected: (p: ServerPoller) => boolean): Promise<void> {
  await waitFor(async () => {
    await p.poll();
    return expected(p);
  }, 'counts settled', 10_000, 20);
}

const failCode = (mode: Mode): string => (mode === 'v217' ? '502' : '500');
const SOURCE: Record<Mode, string> = { v150: 'log', v217: 'metrics', v235: 'metrics', v250: 'activity', head: 'activity' };

describe.each(RELEASED_MODES)('llama-swap mode %s', (mode) => {
  it('a 60-request storm (10 × 200, 50 × load failure) is counted exactly and stays exact through 60 idle polls', async () => {
    const { s, p } = await setup({ mode, models: ['qwen3-8b', 'small'], failing: ['qwen3-8b'] });
    expect(p.source).toBe(SOURCE[mode]);
    expect(p.minIdHonoured).toBe(false); // head: the store was empty at detection, so not yet probed; correct without it
    await Promise.all([chat(s.url, 'small', 10, 4), chat(s.url, 'qwen3-8b', 50, 8)]);
    await settle(p, (x) => counted(x) === 60);
    for (let i = 0; i < 60; i++) await p.poll();
    expect(codeCount(p, 'small', '200')).toBe(10);
    expect(codeCount(p, 'qwen3-8b', failCode(mode))).toBe(50);
    expect(counted(p)).toBe(60);
    expect([p.tally.missed, p.tally.restarts, p.tally.malformed]).toEqual([0, 0, 0]);
    expect(p.lastError).toBeUndefined(); // no false collector failure
    // error_msg exists from v229: ≤ v217 shows the failures only as 502s…
    expect(p.tally.loadFailures.get('qwen3-8b') ?? 0).toBe(mode === 'v217' ? 0 : 50);
    // …but the state transitions show every failed load, in every mode.
    await waitFor(() => (p.live.failedLoads.get('qwen3-8b') ?? 0) === 50, 'failed loads from transitions');
    expect(p.live.transitions.get('qwen3-8b')?.get('starting')).toBe(50);
  });

  it('a restart (ids begin again) keeps counted + missed = served; a full store under a burst too', async () => {
    const { s, p } = await setup({ mode, models: ['m'], maxInMemory: 100 });
    await chat(s.url, 'm', 30);
    await settle(p, (x) => counted(x) === 30);
    s.restart();
    await chat(s.url, 'm', 12); // new ids stay below the watermark
    await p.poll();
    expect([counted(p), p.tally.missed, p.tally.restarts]).toEqual([42, 0, 1]);
    s.restart();
    await chat(s.url, 'm', 50); // new ids pass the old watermark; its row is now another request
    await p.poll();
    expect([counted(p), p.tally.missed, p.tally.restarts]).toEqual([92, 0, 2]);

    // 350 requests into a 100-row store between two polls: 250 evicted unread.
    await chat(s.url, 'm', 350, 16);
    await p.poll();
    expect(counted(p) + p.tally.missed).toBe(442);
    expect(p.tally.missed).toBe(250);
    // A burst while the poller reads every few ms: whatever it reads or misses adds up to what was served.
    let stop = false;
    const polling = (async () => {
      while (!stop) await p.poll();
    })();
    await Promise.all([chat(s.url, 'm', 400, 16), chat(s.url, 'm', 200, 8)]);
    stop = true;
    await polling;
    await p.poll();
    expect(counted(p) + p.tally.missed).toBe(1042);
    expect(p.tally.restarts).toBe(2);
    expect(p.lastError).toBeUndefined();
  }, 60_000);

  it('a hung generation is in flight with a growing age; 20 swaps are counted; a rejected request is in the log counts', async () => {
    const { s, p } = await setup({ mode, models: ['a', 'b', 'stuck'], hanging: ['stuck'] });
    const hung = [chat(s.url, 'stuck', 1), chat(s.url, 'stuck', 1)];
    await waitFor(() => [...p.live.inFlightByModel().values()].reduce((n, v) => n + v.count, 0) === 2, 'two in flight');
    const first = p.live.inFlightByModel();
    if (mode === 'v217') {
      expect(first.get('unknown')).toEqual({ count: 2, oldestSeconds: undefined }); // only a total before v218
    } else {
      expect(first.get('stuck')?.count).toBe(2);
      await new Promise((r) => setTimeout(r, 1200));
      expect(p.live.inFlightByModel().get('stuck')?.oldestSeconds).toBeGreaterThan(1);
    }
    expect(counted(p)).toBe(0); // nothing recorded: the requests never finished
    s.releaseHung();
    await Promise.all(hung);
    await waitFor(() => [...p.live.inFlightByModel().values()].every((v) => v.count === 0), 'none in flight');

    const before = p.live.swaps;
    for (let i = 0; i < 10; i++) {
      await chat(s.url, 'a', 1);
      await chat(s.url, 'b', 1);
    }
    await waitFor(() => p.live.swaps - before === 20, '20 swaps');

    await chat(s.url, '', 3); // no model: rejected before routing, only in the request log
    await waitFor(() => p.live.logClasses.get('4xx') === 3, 'rejections in the log counts');
    expect(p.live.logClasses.get('2xx')).toBe(22);
  });

  it('unknown model names are capped at max_models, the rest folded and counted', async () => {
    const { s, p } = await setup({ mode, models: ['m'] }, { max_models: 3 });
    await chat(s.url, 'm', 2);
    for (let i = 0; i < 6; i++) await chat(s.url, `typo-${i}`, 1);
    await settle(p, (x) => counted(x) === (mode === 'v217' ? 2 : 8));
    if (mode === 'v217') {
      expect(p.tally.folded).toBe(0); // ≤ v217 does not record unknown models
    } else {
      expect([...p.tally.requests.keys()]).toEqual(['m', 'typo-0', 'typo-1', 'other']);
      expect(p.tally.folded).toBe(4);
      expect(codeCount(p, 'other', '404')).toBe(4);
    }
  });
});

describe('llama-swap stores that outlive a restart, and servers that honour min_id', () => {
  it.each(['v250', 'head'] as const)('%s file store: ids survive a restart, nothing is re-counted', async (mode) => {
    const { s, p } = await setup({ mode, models: ['m'], fileStore: true });
    await chat(s.url, 'm', 20);
    await settle(p, (x) => counted(x) === 20);
    s.restart();
    await chat(s.url, 'm', 5);
    await settle(p, (x) => counted(x) === 25);
    for (let i = 0; i < 10; i++) await p.poll();
    expect([counted(p), p.tally.missed, p.tally.restarts]).toEqual([25, 0, 0]);
  });

  it('head: min_id is probed and used; a restart is still found when the filtered page comes back empty', async () => {
    const s = await LlamaSwapStandIn.start({ mode: 'head', models: ['m'], maxInMemory: 100 });
    await chat(s.url, 'm', 5); // rows before detection: the probe has something to filter
    const p = await watch(s, {}, false);
    expect(p.minIdHonoured).toBe(true);
    await chat(s.url, 'm', 40);
    await settle(p, (x) => counted(x) === 40);
    expect(s.received.some((r) => r.includes('min_id='))).toBe(true);
    s.restart();
    await chat(s.url, 'm', 7);
    await p.poll();
    expect([counted(p), p.tally.missed, p.tally.restarts]).toEqual([47, 0, 1]);
  });

  it('v250 ignores min_id: the probe says so and the reader never relies on it', async () => {
    const s = await LlamaSwapStandIn.start({ mode: 'v250', models: ['m'] });
    await chat(s.url, 'm', 3);
    const p = await watch(s, {}, false);
    expect(p.minIdHonoured).toBe(false);
    await chat(s.url, 'm', 9);
    for (let i = 0; i < 20; i++) await p.poll();
    expect(counted(p)).toBe(9);
    expect(s.received.some((r) => r.includes('min_id='))).toBe(false);
  });
});
