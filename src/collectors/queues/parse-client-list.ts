/**
 * Pure parser for Redis `CLIENT LIST` output and the worker matching rules of each library. No I/O.
 *
 * One line per connection, `key=value` fields separated by spaces (`id=7 addr=… name=bull:c21hcnRTZWFyY2g= …`).
 * BullMQ names a worker's blocking connection `<prefix>:<base64(queue)>` or `<prefix>:<base64(queue)>:w:<name>`
 * (QueueBase.clientName, Queue.getWorkers); Bull 3/4 names it `<prefix>:<base64(queue)>` and counts every
 * name that starts with that (Queue.getWorkers in bull/lib/worker.js).
 */
import type { QueueLibrary, QueueRef } from './parse-keys.js';

/** The `name=` field of every connection that has one. Lines without one, or malformed, are skipped. */
export function clientNames(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('id=')) continue;
    const m = / name=(\S+)/.exec(` ${line}`);
    if (m && m[1] !== undefined) names.push(m[1]);
  }
  return names;
}

export function workerClientName(ref: QueueRef): string {
  return `${ref.prefix}:${Buffer.from(ref.queue).toString('base64')}`;
}

/** Counts connections per queue name with a precomputed index, so 200 queues × 1000 clients stays cheap. */
export function countWorkers(names: readonly string[], refs: readonly { ref: QueueRef; library: QueueLibrary }[]): number[] {
  const byName = new Map<string, number>();
  for (const n of names) byName.set(n, (byName.get(n) ?? 0) + 1);
  return refs.map(({ ref, library }) => {
    const base = workerClientName(ref);
    let count = 0;
    for (const [name, c] of byName) {
      if (library === 'bullmq' ? name === base || name.startsWith(`${base}:w:`) : name.startsWith(base)) count += c;
    }
    return count;
  });
}
