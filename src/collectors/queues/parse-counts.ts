/**
 * The per-queue command plan of one scrape and the pure interpretation of its replies. No I/O: the
 * collector sends `queueCommands()` for every queue in one pipeline and hands each queue's slice of
 * the replies to `interpretCounts()`.
 *
 * Only read-only commands (EXISTS, LLEN, ZCARD, HGET, LRANGE), so a Redis ACL user limited to reads works.
 */
import type { QueueLibrary, QueueRef } from './parse-keys.js';

/** State names as each library's own `getJobCounts()` spells them, plus `paused` for every library (see below). */
export const BULLMQ_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'] as const;
export const BULL_STATES = ['waiting', 'active', 'delayed', 'paused', 'completed', 'failed'] as const;

export type Command = readonly [name: string, ...args: string[]];

export interface QueuePlan {
  readonly ref: QueueRef;
  readonly library: QueueLibrary;
  /** Job ids whose timestamps are asked for in the same round trip (the last seen oldest-waiting candidates). */
  readonly cachedIds: readonly string[];
}

const key = (ref: QueueRef, suffix: string): string => `${ref.prefix}:${ref.queue}:${suffix}`;
export const jobKey = (ref: QueueRef, id: string): string => `${ref.prefix}:${ref.queue}:${id}`;

/** Number of fixed commands per queue, before the cached timestamp lookups. */
export const FIXED_COMMANDS = 12;

export function queueCommands(p: QueuePlan): Command[] {
  const r = p.ref;
  const mq = p.library === 'bullmq';
  const cmds: Command[] = [
    ['exists', key(r, 'meta'), key(r, 'id'), key(r, 'wait'), key(r, 'meta-paused')],
    ['llen', key(r, 'wait')],
    ['llen', key(r, 'paused')],
    ['llen', key(r, 'active')],
    ['zcard', key(r, 'delayed')],
    // Bull has no prioritized / waiting-children sets: ZCARD of a missing key is 0 (one shape for both).
    ['zcard', key(r, 'prioritized')],
    ['zcard', key(r, 'waiting-children')],
    ['zcard', key(r, 'completed')],
    ['zcard', key(r, 'failed')],
    mq ? ['hget', key(r, 'meta'), 'paused'] : ['exists', key(r, 'meta-paused')],
    // The tail is the next job to run, i.e. the oldest waiting one; two elements to step over a v5 marker.
    ['lrange', key(r, 'wait'), '-2', '-1'],
    ['lrange', key(r, 'paused'), '-2', '-1'],
  ];
  for (const id of p.cachedIds) cmds.push(['hget', jobKey(r, id), 'timestamp']);
  return cmds;
}

export interface QueueCounts {
  readonly states: ReadonlyMap<string, number>;
  readonly paused: boolean;
  /** Ids at the tail of `wait` and `paused` (after stepping over markers): the oldest waiting job is one of them. */
  readonly oldestCandidates: readonly string[];
  /** Timestamps (ms) of candidates that were asked for in this round trip. */
  readonly knownTimestamps: ReadonlyMap<string, number>;
}

export type Reply = readonly [error: Error | null, result: unknown];

export class QueueGone extends Error {
  constructor(ref: QueueRef) {
    super(`queue ${ref.prefix}:${ref.queue} no longer exists`);
    this.name = 'QueueGone';
  }
}

function int(r: Reply | undefined, what: string): number {
  if (!r) throw new Error(`${what}: no reply`);
  if (r[0]) throw new Error(`${what}: ${r[0].message}`);
  const v = r[1];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw new Error(`${what}: unexpected reply ${JSON.stringify(v)}`);
}

function strList(r: Reply | undefined, what: string): string[] {
  if (!r) throw new Error(`${what}: no reply`);
  if (r[0]) throw new Error(`${what}: ${r[0].message}`);
  const v = r[1];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new Error(`${what}: unexpected reply ${JSON.stringify(v)}`);
}

/** A BullMQ v5 marker (`0:<delay>`) at the tail of a wait/paused list: not a job, and not counted by getJobCounts. */
const isMarker = (id: string): boolean => id.startsWith('0:');

/** Length of a list and its oldest job id, stepping over a trailing marker the way BullMQ's getCounts does. */
function listState(len: number, tail: string[], library: QueueLibrary): { count: number; oldest?: string } {
  const last = tail.at(-1);
  if (library === 'bullmq' && last !== undefined && isMarker(last)) {
    const before = tail.length > 1 ? tail[0] : undefined;
    return { count: len > 1 ? len - 1 : 0, oldest: before !== undefined && !isMarker(before) ? before : undefined };
  }
  return { count: len, oldest: last };
}

/**
 * Interprets one queue's replies (in `queueCommands` order). Throws QueueGone when none of the queue's keys
 * exist any more (deleted mid-scrape), or an Error naming the command (a key of the wrong type, …).
 */
export function interpretCounts(p: QueuePlan, replies: readonly Reply[]): QueueCounts {
  if (replies.length !== FIXED_COMMANDS + p.cachedIds.length) throw new Error(`expected ${FIXED_COMMANDS + p.cachedIds.length} replies, got ${replies.length}`);
  const name = `${p.ref.prefix}:${p.ref.queue}`;
  if (int(replies[0], `${name} exists`) === 0) throw new QueueGone(p.ref);
  const waitLen = int(replies[1], `${name}:wait LLEN`);
  const pausedLen = int(replies[2], `${name}:paused LLEN`);
  const active = int(replies[3], `${name}:active LLEN`);
  const delayed = int(replies[4], `${name}:delayed ZCARD`);
  const prioritized = int(replies[5], `${name}:prioritized ZCARD`);
  const waitingChildren = int(replies[6], `${name}:waiting-children ZCARD`);
  const completed = int(replies[7], `${name}:completed ZCARD`);
  const failed = int(replies[8], `${name}:failed ZCARD`);
  const pausedReply = replies[9] as Reply;
  if (pausedReply[0]) throw new Error(`${name} paused flag: ${pausedReply[0].message}`);
  const paused = p.library === 'bullmq' ? pausedReply[1] === '1' : pausedReply[1] === 1;
  const wait = listState(waitLen, strList(replies[10], `${name}:wait LRANGE`), p.library);
  const pausedList = listState(pausedLen, strList(replies[11], `${name}:paused LRANGE`), p.library);

  const states = new Map<string, number>();
  if (p.library === 'bullmq') {
    states.set('waiting', wait.count).set('active', active).set('delayed', delayed).set('prioritized', prioritized);
    states.set('waiting-children', waitingChildren).set('paused', pausedList.count).set('completed', completed).set('failed', failed);
  } else {
    states.set('waiting', wait.count).set('active', active).set('delayed', delayed).set('paused', pausedList.count);
    states.set('completed', completed).set('failed', failed);
  }
  const oldestCandidates = [wait.oldest, pausedList.oldest].filter((x): x is string => x !== undefined);
  const knownTimestamps = new Map<string, number>();
  p.cachedIds.forEach((id, i) => {
    const r = replies[FIXED_COMMANDS + i] as Reply;
    const ts = r[0] ? undefined : parseTimestamp(r[1]);
    if (ts !== undefined) knownTimestamps.set(id, ts);
  });
  return { states, paused, oldestCandidates, knownTimestamps };
}

/** A job hash `timestamp` field (ms since the epoch, as a decimal string) or undefined when absent or malformed. */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Age in seconds of the oldest of the candidates whose timestamp is known; undefined when none is. */
export function oldestAgeSeconds(candidates: readonly string[], timestamps: ReadonlyMap<string, number>, nowMs: number): number | undefined {
  let oldest: number | undefined;
  for (const id of candidates) {
    const ts = timestamps.get(id);
    if (ts !== undefined && (oldest === undefined || ts < oldest)) oldest = ts;
  }
  return oldest === undefined ? undefined : Math.max(0, (nowMs - oldest) / 1000);
}
