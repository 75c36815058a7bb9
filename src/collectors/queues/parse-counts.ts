/**
 * The per-queue command plan of one scrape and the pure interpretation of its replies. No I/O: the
 * pipeline sends `queueCommands()` (built once per queue at discovery) plus `dueCommand()` for every queue
 * in one pipeline, and hands each queue's slice of the replies to `interpretCounts()`.
 *
 * Only read-only commands (EXISTS, LLEN, LINDEX, LRANGE, ZCARD, ZCOUNT, ZRANGE, HGET), so a Redis ACL user
 * limited to reads works. Key layout and scores (bullmq 6.7.0 / 5.81.5 dist/cjs/commands, bull 4.16.5
 * lib/commands): a worker takes the next job from the tail of `wait` with RPOPLPUSH into the head of
 * `active` (moveToActive-11.lua), so the tail of `active` is the job that has been active longest; the
 * `prioritized` zset is scored `priority * 2^32 + pc` (includes/getPriorityScore.lua), so its first member
 * is the next prioritized job to run; `delayed` is scored `timestamp * 0x1000 + counter` in both libraries
 * (includes/getDelayedScore.lua, bull addJob-6.lua), so `ZCOUNT delayed -inf now*0x1000-1` counts the
 * delayed jobs already due.
 */
import type { QueueLibrary, QueueRef } from './parse-keys.js';

/** State names as each library's own `getJobCounts()` spells them, plus `paused` for every library. */
export const BULLMQ_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'] as const;
export const BULL_STATES = ['waiting', 'active', 'delayed', 'paused', 'completed', 'failed'] as const;

export type Command = readonly [name: string, ...args: string[]];

export interface QueuePlan {
  readonly ref: QueueRef;
  readonly library: QueueLibrary;
}

export const queueKey = (ref: QueueRef, suffix: string): string => `${ref.prefix}:${ref.queue}:${suffix}`;
export const jobKey = queueKey;

/** Number of fixed commands per queue of each library (`queueCommands`), followed by `dueCommand`. */
export const FIXED_COMMANDS: Readonly<Record<QueueLibrary, number>> = { bullmq: 14, bull: 11 };

export function queueCommands(p: QueuePlan): Command[] {
  const k = (s: string): string => queueKey(p.ref, s);
  if (p.library === 'bullmq') {
    return [
      ['exists', k('meta'), k('id'), k('wait'), k('events')],
      ['llen', k('wait')],
      ['llen', k('paused')],
      ['llen', k('active')],
      ['zcard', k('delayed')],
      ['zcard', k('prioritized')],
      ['zcard', k('waiting-children')],
      ['zcard', k('completed')],
      ['zcard', k('failed')],
      ['hget', k('meta'), 'paused'],
      // The tail is the next job to run, i.e. the oldest waiting one; two elements to step over a v5 marker.
      ['lrange', k('wait'), '-2', '-1'],
      ['lrange', k('paused'), '-2', '-1'],
      ['lindex', k('active'), '-1'],
      ['zrange', k('prioritized'), '0', '0'],
    ];
  }
  return [
    ['exists', k('id'), k('wait'), k('meta-paused')],
    ['llen', k('wait')],
    ['llen', k('paused')],
    ['llen', k('active')],
    ['zcard', k('delayed')],
    ['zcard', k('completed')],
    ['zcard', k('failed')],
    ['exists', k('meta-paused')],
    ['lrange', k('wait'), '-2', '-1'],
    ['lrange', k('paused'), '-2', '-1'],
    ['lindex', k('active'), '-1'],
  ];
}

/** Delayed jobs whose time has come (score below now * 0x1000): part of the backlog. */
export function dueCommand(ref: QueueRef, nowMs: number): Command {
  return ['zcount', queueKey(ref, 'delayed'), '-inf', String(Math.floor(nowMs) * 0x1000 - 1)];
}

export interface QueueCounts {
  readonly states: ReadonlyMap<string, number>;
  readonly paused: boolean;
  /** Jobs ready to run and not taken: waiting + paused + prioritized + due delayed. */
  readonly backlog: number;
  /** Ids of the next job of `wait`, `paused` and `prioritized`: the oldest waiting job is one of them. */
  readonly waitingCandidates: readonly string[];
  /** Id of the job active longest (tail of `active`), if any. */
  readonly activeCandidate: string | undefined;
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

function optString(r: Reply | undefined, what: string): string | undefined {
  if (!r) throw new Error(`${what}: no reply`);
  if (r[0]) throw new Error(`${what}: ${r[0].message}`);
  if (r[1] === null) return undefined;
  if (typeof r[1] === 'string') return r[1];
  throw new Error(`${what}: unexpected reply ${JSON.stringify(r[1])}`);
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
 * Interprets one queue's replies (`queueCommands` then `dueCommand`). Throws QueueGone when none of the
 * queue's keys exist any more (deleted mid-scrape), or an Error naming the command (a key of the wrong type, …).
 */
export function interpretCounts(p: QueuePlan, replies: readonly Reply[]): QueueCounts {
  const n = FIXED_COMMANDS[p.library] + 1;
  if (replies.length !== n) throw new Error(`expected ${n} replies, got ${replies.length}`);
  const name = `${p.ref.prefix}:${p.ref.queue}`;
  if (int(replies[0], `${name} exists`) === 0) throw new QueueGone(p.ref);
  const waitLen = int(replies[1], `${name}:wait LLEN`);
  const pausedLen = int(replies[2], `${name}:paused LLEN`);
  const active = int(replies[3], `${name}:active LLEN`);
  const delayed = int(replies[4], `${name}:delayed ZCARD`);
  const states = new Map<string, number>();
  let i = 5;
  let prioritized = 0;
  let waitingChildren = 0;
  if (p.library === 'bullmq') {
    prioritized = int(replies[i++], `${name}:prioritized ZCARD`);
    waitingChildren = int(replies[i++], `${name}:waiting-children ZCARD`);
  }
  const completed = int(replies[i++], `${name}:completed ZCARD`);
  const failed = int(replies[i++], `${name}:failed ZCARD`);
  const pausedReply = replies[i++] as Reply;
  if (pausedReply[0]) throw new Error(`${name} paused flag: ${pausedReply[0].message}`);
  const paused = p.library === 'bullmq' ? pausedReply[1] === '1' : pausedReply[1] === 1;
  const wait = listState(waitLen, strList(replies[i++], `${name}:wait LRANGE`), p.library);
  const pausedList = listState(pausedLen, strList(replies[i++], `${name}:paused LRANGE`), p.library);
  const activeCandidate = optString(replies[i++], `${name}:active LINDEX`);
  const candidates = [wait.oldest, pausedList.oldest];
  if (p.library === 'bullmq') candidates.push(strList(replies[i++], `${name}:prioritized ZRANGE`)[0]);
  const due = int(replies[i], `${name}:delayed ZCOUNT`);

  states.set('waiting', wait.count).set('active', active).set('delayed', delayed);
  if (p.library === 'bullmq') states.set('prioritized', prioritized).set('waiting-children', waitingChildren);
  states.set('paused', pausedList.count).set('completed', completed).set('failed', failed);
  return {
    states,
    paused,
    backlog: wait.count + pausedList.count + prioritized + due,
    waitingCandidates: candidates.filter((x): x is string => x !== undefined),
    activeCandidate: activeCandidate !== undefined && !isMarker(activeCandidate) ? activeCandidate : undefined,
  };
}

/** A job hash `timestamp`/`processedOn` field (ms since the epoch, as a decimal string) or undefined when absent or malformed. */
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
