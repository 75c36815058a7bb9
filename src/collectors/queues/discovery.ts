/**
 * Finding the queues of one Redis database: SCAN (never KEYS) for the keys that name a queue, then a cheap
 * check that the other keys have the shapes Bull/BullMQ write, so foreign keys (`app:thing:id`, a string
 * named `<x>:<y>:meta`) never become queues. Verdicts are cached: a queue found once is not checked again
 * while its keys remain, a rejected name is checked again only after REJECT_TTL_MS. At most `max_queues`
 * queues are kept (the rest reported by a metric and one log line).
 *
 * Shapes (bullmq 6.7.0 / 5.81.5 dist/cjs/classes/queue.js and commands/*.lua; bull 4.16.5 lib/commands):
 * BullMQ creates `<p>:<q>:meta` as a hash with `opts.maxLenEvents` (and `version` = `bullmq:<ver>` since
 * v5) and keeps `<p>:<q>:events` as a stream; Bull 3/4 keeps `<p>:<q>:id` as a decimal counter beside its
 * state lists/zsets (`wait`, `active`, `paused`, `delayed`, `completed`, `failed`, `priority`).
 */
import type { Redis } from 'ioredis';
import { raceSignal } from '../../lib/async.js';
import type { Logger } from '../../logger.js';
import { queueLabels } from './labels.js';
import { classify, queuesFromKeys, refKey, scanPattern, selectQueue, type Classification, type QueueFilter, type QueueRef } from './parse-keys.js';
import { queueCommands, queueKey, type Command, type Reply } from './parse-counts.js';

export interface KnownQueue {
  readonly ref: QueueRef;
  readonly key: string;
  readonly cls: Classification;
  /** The `queue` label (the name, unless cleaning it would collide with another queue's). */
  readonly label: string;
  /** The raw name when `label` differs from it, else ''. */
  readonly renamed: string;
  /** This queue's fixed commands of the scrape pipeline, built once at discovery. */
  readonly fixed: readonly Command[];
}

/** Rejected names are checked again after this long (a queue that had no job left may be used again). */
export const REJECT_TTL_MS = 10 * 60_000;
/** Candidates checked per pipeline, so thousands of foreign keys never make one huge reply. */
const CHECK_CHUNK = 1000;
const BULL_STATE_KEYS = ['wait', 'active', 'paused', 'delayed', 'completed', 'failed', 'priority'];

/** The commands that check one candidate's key shapes (4 per candidate). */
export function shapeCommands(r: QueueRef): Command[] {
  const k = (s: string): string => queueKey(r, s);
  return [['hmget', k('meta'), 'version', 'opts.maxLenEvents'], ['type', k('events')], ['get', k('id')], ['exists', ...BULL_STATE_KEYS.map(k)]];
}

/** The verdict on one candidate from its `shapeCommands` replies: a classification, or undefined for a foreign key. */
export function judgeShape(replies: readonly Reply[]): Classification | undefined {
  const [meta, events, id, states] = replies;
  const metaFields = meta && !meta[0] && Array.isArray(meta[1]) ? (meta[1] as Array<string | null>) : undefined; // error = not a hash
  const version = metaFields?.[0] ?? null;
  const eventsType = events && !events[0] ? (events[1] as string) : null;
  if ((typeof version === 'string' && version.startsWith('bullmq')) || eventsType === 'stream') return classify(version, eventsType);
  // A BullMQ queue whose stream was trimmed to nothing still has its meta hash (written by Queue's constructor).
  if (typeof metaFields?.[1] === 'string' && /^\d+$/.test(metaFields[1])) return { library: 'bullmq', version: '' };
  const idValue = id && !id[0] ? id[1] : undefined;
  const stateKeys = states && !states[0] && typeof states[1] === 'number' ? states[1] : 0;
  if (typeof idValue === 'string' && /^\d{1,16}$/.test(idValue) && stateKeys > 0) return { library: 'bull', version: '' };
  return undefined;
}

export interface DiscoveryResult {
  readonly queues: KnownQueue[];
  /** Queues found before the cap. */
  readonly found: number;
  readonly capped: boolean;
  readonly note: string;
}

export class Discovery {
  private readonly accepted = new Map<string, Classification>();
  private readonly rejected = new Map<string, number>();
  private wasCapped = false;

  constructor(
    private readonly filter: QueueFilter,
    private readonly maxQueues: number,
    private readonly log: Logger,
    private readonly where: string,
  ) {}

  async run(client: Redis, signal: AbortSignal, exec: (cmds: readonly Command[]) => Promise<Reply[]>): Promise<DiscoveryResult> {
    const patterns = this.filter.prefixes.length > 0 ? this.filter.prefixes.map((p) => scanPattern(p)) : [scanPattern()];
    const keys: string[] = [];
    let scans = 0;
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, batch] = await raceSignal(client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000), signal);
        scans += 1;
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
    }
    const now = Date.now();
    const refs = queuesFromKeys(keys).filter((r) => selectQueue(r, this.filter));
    const present = new Set(refs.map(refKey));
    for (const k of this.accepted.keys()) if (!present.has(k)) this.accepted.delete(k);
    for (const [k, t] of this.rejected) if (!present.has(k) || now - t >= REJECT_TTL_MS) this.rejected.delete(k);

    const unknown = refs.filter((r) => !this.accepted.has(refKey(r)) && !this.rejected.has(refKey(r)));
    for (let i = 0; i < unknown.length; i += CHECK_CHUNK) {
      const chunk = unknown.slice(i, i + CHECK_CHUNK);
      const replies = await exec(chunk.flatMap(shapeCommands));
      chunk.forEach((r, j) => {
        const cls = judgeShape(replies.slice(4 * j, 4 * j + 4));
        if (cls) this.accepted.set(refKey(r), cls);
        else this.rejected.set(refKey(r), now);
      });
    }
    const real = refs.filter((r) => this.accepted.has(refKey(r)));
    const capped = real.length > this.maxQueues;
    if (capped && !this.wasCapped) {
      this.log.warn(`queues: ${real.length} queues found in ${this.where}, more than max_queues=${this.maxQueues}; watching the first ${this.maxQueues} (raise max_queues or narrow prefixes/queues_include)`);
    }
    this.wasCapped = capped;
    const kept = capped ? real.slice(0, this.maxQueues) : real;
    const labels = queueLabels(kept);
    const queues = kept.map((ref, i) => {
      const cls = this.accepted.get(refKey(ref)) as Classification;
      const l = labels[i] as { label: string; renamed: boolean };
      return { ref, key: refKey(ref), cls, label: l.label, renamed: l.renamed ? JSON.stringify(ref.queue) : '', fixed: queueCommands({ ref, library: cls.library }) };
    });
    const foreign = refs.length - real.length;
    return {
      queues,
      found: real.length,
      capped,
      note: `${real.length} queues at ${new Date().toISOString()} (${scans} SCAN calls${foreign > 0 ? `, ${foreign} look-alike key sets that are not queues left out` : ''}${capped ? `, capped at ${this.maxQueues}` : ''})`,
    };
  }
}
