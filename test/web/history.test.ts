/** The status page's in-memory history: one point per step, a fixed number of points, figures read from real family names. */
import { describe, expect, it } from 'vitest';
import { ALL_COLLECTORS } from '../../src/collectors/index.js';
import { defineMetric, type Sample } from '../../src/metrics.js';
import { History, HISTORY_FAMILIES, HISTORY_SERIES } from '../../src/web/history.js';

const def = (name: string) => defineMetric({ name, type: 'gauge', help: 'h', labels: ['x'] });
const sample = (name: string, value: number, labels: Record<string, string> = {}): Sample => ({ def: def(name), labels, value });

describe('status page history', () => {
  it('reads families the exporter really emits', () => {
    const families = new Set(ALL_COLLECTORS.flatMap((c) => c.metrics.map((m) => m.name)));
    for (const name of Object.values(HISTORY_FAMILIES)) expect(families).toContain(name);
  });

  it('sums OOM kills and the backlog (waiting + paused), takes the lowest free VRAM, null where absent', () => {
    const h = new History();
    h.record(
      [
        sample(HISTORY_FAMILIES.oomKills, 2, { container: 'a' }),
        sample(HISTORY_FAMILIES.oomKills, 1, { container: 'b' }),
        sample(HISTORY_FAMILIES.queueJobs, 25, { queue: 'q', state: 'waiting' }),
        sample(HISTORY_FAMILIES.queueJobs, 4, { queue: 'p', state: 'paused' }),
        sample(HISTORY_FAMILIES.queueJobs, 7, { queue: 'q', state: 'active' }),
        sample(HISTORY_FAMILIES.queueJobs, 900, { queue: 'q', state: 'completed' }),
      ],
      0,
    );
    const [p] = h.points();
    const at = (key: string) => p!.values[HISTORY_SERIES.findIndex((s) => s.key === key)];
    expect(at('oom_kills')).toBe(3);
    expect(at('queue_backlog')).toBe(29);
    expect(at('gpu_free_vram')).toBeNull();
    h.record([sample(HISTORY_FAMILIES.gpuFree, 5e9, { gpu: '0' }), sample(HISTORY_FAMILIES.gpuFree, 1.2e9, { gpu: '1' })], 60_000);
    expect(h.points()[1]!.values[HISTORY_SERIES.findIndex((s) => s.key === 'gpu_free_vram')]).toBe(1.2e9);
  });

  it('keeps one point per step and at most `capacity` points, oldest first', () => {
    const h = new History({ stepMs: 1000, capacity: 5 });
    for (let t = 0; t < 20_000; t += 250) h.record([sample(HISTORY_FAMILIES.oomKills, t)], t);
    const pts = h.points();
    expect(pts).toHaveLength(5);
    expect(pts.map((p) => p.at)).toEqual([15_000, 16_000, 17_000, 18_000, 19_000]);
    expect(h.size).toBe(5);
  });
});
