/**
 * Queue label values that stay distinct. The exporter cleans every label value (control characters become
 * spaces, values are cut at 256 characters), so two queue names can become the same label: then each of
 * them gets a short, stable suffix from a hash of its real name instead of one being dropped. Pure.
 */
import { createHash } from 'node:crypto';
import { MAX_LABEL_VALUE_LENGTH, sanitizeLabelValue } from '../../metrics.js';
import type { QueueRef } from './parse-keys.js';

const suffix = (raw: string): string => `~${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;

/** The `queue` label of every ref (same order), unique per prefix; `renamed` says which ones differ from the raw name. */
export function queueLabels(refs: readonly QueueRef[]): Array<{ label: string; renamed: boolean }> {
  const clean = refs.map((r) => sanitizeLabelValue(r.queue));
  const seen = new Map<string, number>();
  refs.forEach((r, i) => {
    const k = `${sanitizeLabelValue(r.prefix)}\u0000${clean[i] as string}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  });
  return refs.map((r, i) => {
    const c = clean[i] as string;
    const collides = (seen.get(`${sanitizeLabelValue(r.prefix)}\u0000${c}`) ?? 0) > 1;
    if (!collides) return { label: c, renamed: c !== r.queue };
    const s = suffix(r.queue);
    // Leave room for the suffix so the sink's own length cut cannot remove it again.
    const base = c.length + s.length > MAX_LABEL_VALUE_LENGTH ? c.slice(0, MAX_LABEL_VALUE_LENGTH - s.length - 1) : c;
    return { label: base + s, renamed: true };
  });
}
