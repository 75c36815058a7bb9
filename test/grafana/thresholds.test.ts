/**
 * One threshold, three readers. The rendered alert rules (rules/*.yml), the generated dashboards
 * (grafana/dashboards/*.json) and `silentwatch doctor` must fire, draw and warn at the same values: this reads the
 * committed files as a user gets them (not the constants they came from), and replays doctor on both sides of each
 * value. The second part changes thresholds in their one home (src/thresholds/<area>.ts) and shows that the rule,
 * the dashboard line and doctor all move with it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { gpuMemoryFree, gpuMemoryTotal } from '../../src/collectors/nvidia/index.js';
import { queueJobs, queueOldest, queueWorkers } from '../../src/collectors/queues/metrics.js';
import type { DoctorInput, DoctorReport } from '../../src/doctor/findings.js';
import type { MetricDef, Sample } from '../../src/metrics.js';
import { allPanels, type DashboardJson } from './queries.js';

type Diagnose = (input: DoctorInput) => DoctorReport;
interface Rule {
  alert: string;
  expr: string;
}

const GiB = 2 ** 30;
const num = (re: RegExp, text: string, what: string): number => {
  const m = re.exec(text);
  if (!m?.[1]) throw new Error(`${what}: ${re} not found in ${text}`);
  return Number(m[1]);
};

/** The alert's rendered expression, from the rule-file texts. */
function ruleExpr(ruleFiles: ReadonlyMap<string, string>, alert: string): string {
  for (const text of ruleFiles.values()) {
    const doc = parse(text) as { groups: Array<{ rules: Rule[] }> };
    const r = doc.groups.flatMap((g) => g.rules).find((x) => x.alert === alert);
    if (r) return r.expr;
  }
  throw new Error(`no rule ${alert}`);
}

/** Every panel (of every dashboard) with a query matching `re`. */
function panelsOf(dashboards: ReadonlyMap<string, string>, re: RegExp): ReturnType<typeof allPanels> {
  const hits = [...dashboards.values()].flatMap((t) => allPanels(JSON.parse(t) as DashboardJson)).filter((p) => (p.targets ?? []).some((t) => re.test(t.expr ?? '')));
  expect(hits.length, `panels matching ${re}`).toBeGreaterThan(0);
  return hits;
}
const steps = (p: ReturnType<typeof allPanels>[number]): Array<number | null> => (p.fieldConfig?.defaults?.thresholds?.steps ?? []).map((s) => s.value);

const sample = (def: MetricDef, labels: Record<string, string>, value: number): Sample => ({ def, labels, value });
const base: DoctorInput = { samples: [], containers: [], mounts: [], hostPidNamespace: true, collectors: [] };

/** doctor's low-VRAM finding for a 16 GiB GPU with `free` bytes free. */
function vramFinding(diagnose: Diagnose, free: number): boolean {
  const gpu = { vendor: 'nvidia', gpu: '0', uuid: 'GPU-x' };
  const r = diagnose({ ...base, samples: [sample(gpuMemoryTotal, gpu, 16 * GiB), sample(gpuMemoryFree, gpu, free)] });
  return r.findings.some((f) => f.check === 'low-vram');
}

/** doctor's stuck-queue finding for a queue with a worker, nothing active and its oldest job `age` seconds old. */
function queueFinding(diagnose: Diagnose, age: number): boolean {
  const q = { prefix: 'bull', queue: 'q' };
  const samples = [sample(queueJobs, { ...q, state: 'waiting' }, 5), sample(queueJobs, { ...q, state: 'active' }, 0), sample(queueWorkers, q, 1), sample(queueOldest, q, age)];
  return diagnose({ ...base, samples }).findings.some((f) => f.check === 'stuck-queue');
}

/** The values every reader uses, read back from what was rendered; asserts they agree and returns them. */
function agreedValues(ruleFiles: ReadonlyMap<string, string>, dashboards: ReadonlyMap<string, string>, diagnose: Diagnose): Record<string, number | string> {
  // Free VRAM: the alert fires below N bytes AND below a fraction of the total.
  const vram = ruleExpr(ruleFiles, 'GpuFreeVramLow');
  const minBytes = num(/silentwatch_gpu_memory_free_bytes < ([\d.e+]+)/, vram, 'free bytes');
  const minRatio = num(/silentwatch_gpu_memory_total_bytes > 0\) < ([\d.]+)/, vram, 'free ratio');
  for (const p of panelsOf(dashboards, /gpu_memory_free_bytes\{[^}]*\} \/ silentwatch_gpu_memory_total_bytes/)) {
    expect(steps(p), p.title).toContain(minRatio);
    expect(p.description, p.title).toContain(`Below ${minRatio * 100}% (dashed line) and below ${minBytes / GiB} GiB free`);
  }
  // doctor on a 16 GiB GPU: below both → warns; below only one of them → silent, like the alert.
  const total = 16 * GiB;
  const both = Math.min(minBytes, minRatio * total) - 2 ** 20;
  expect(vramFinding(diagnose, both), 'doctor: below both').toBe(true);
  if (minRatio * total < minBytes) expect(vramFinding(diagnose, minRatio * total + 2 ** 20), 'doctor: below the bytes only').toBe(false);
  else expect(vramFinding(diagnose, minBytes + 2 ** 20), 'doctor: below the ratio only').toBe(false);

  // Container memory near its limit.
  const near = num(/silentwatch_container_memory_limit_bytes > 0\) > ([\d.]+)/, ruleExpr(ruleFiles, 'ContainerMemoryNearLimit'), 'near limit');
  for (const p of panelsOf(dashboards, /working_set_bytes\{[^}]*\} \/ silentwatch_container_memory_limit_bytes/)) {
    expect(steps(p), p.title).toContain(near);
    expect(p.description, p.title).toContain(`${near * 100}%`);
  }

  // A stalled queue: the oldest waiting job older than N seconds.
  const age = num(/silentwatch_queue_oldest_waiting_job_age_seconds > ([\d.]+)/, ruleExpr(ruleFiles, 'QueueStalled'), 'queue age');
  for (const p of panelsOf(dashboards, /silentwatch_queue_oldest_waiting_job_age_seconds/)) {
    expect(steps(p), p.title).toContain(age);
    expect(p.description, p.title).toContain(`${age} s`);
  }
  expect(queueFinding(diagnose, age + 1), 'doctor: just older than the threshold').toBe(true);
  expect(queueFinding(diagnose, age - 1), 'doctor: just younger').toBe(false);

  // llama-swap 5xx share: same ratio, same rate window.
  const errExpr = ruleExpr(ruleFiles, 'LlamaSwapHighErrorRate');
  const errRatio = num(/\n\) > ([\d.]+)/, errExpr, 'error ratio');
  const window = /code=~"5\.\."\}\[(\w+)\]/.exec(errExpr)?.[1];
  for (const p of panelsOf(dashboards, /code=~"5\.\."\}\[[^\]]+\]\)\) \/ /)) {
    expect(steps(p), p.title).toContain(errRatio);
    for (const t of p.targets ?? []) expect(t.expr, p.title).toContain(`[${window}]`);
  }
  return { minBytes, minRatio, near, age, errRatio, window: window ?? '' };
}

const read = (dir: string, ext: string): Map<string, string> => {
  const url = new URL(`../../${dir}/`, import.meta.url);
  return new Map(readdirSync(url).filter((f) => f.endsWith(ext)).map((f) => [f, readFileSync(new URL(f, url), 'utf8')]));
};

describe('the rendered rules, the generated dashboards and doctor agree on every shared threshold', () => {
  it('in the committed files, at the shipped values', async () => {
    const { diagnose } = await import('../../src/doctor/findings.js');
    const { DEFAULT_THRESHOLDS: t } = await import('../../src/thresholds/index.js');
    expect(agreedValues(read('rules', '.yml'), read('grafana/dashboards', '.json'), diagnose)).toEqual({
      minBytes: t.gpu_free_vram_min_bytes,
      minRatio: t.gpu_free_vram_min_ratio,
      near: t.container_memory_near_limit_ratio,
      age: t.queue_stalled_oldest_age_seconds,
      errRatio: t.llamaswap_error_ratio,
      window: t.llamaswap_error_window,
    });
  });

  it('changing a value in src/thresholds/ moves the rule, the dashboard line and doctor together', async () => {
    const changed = { gpu_free_vram_min_ratio: 0.15, gpu_free_vram_min_bytes: 3 * GiB, queue_stalled_oldest_age_seconds: 600 };
    vi.resetModules();
    const patch = <T extends Record<string, { default: number | string }>>(defs: T): T =>
      Object.fromEntries(Object.entries(defs).map(([k, d]) => [k, k in changed ? { ...d, default: changed[k as keyof typeof changed] } : d])) as T;
    vi.doMock('../../src/thresholds/gpu.js', async (orig) => ({ GPU_THRESHOLDS: patch((await orig<typeof import('../../src/thresholds/gpu.js')>()).GPU_THRESHOLDS) }));
    vi.doMock('../../src/thresholds/queues.js', async (orig) => ({ QUEUE_THRESHOLDS: patch((await orig<typeof import('../../src/thresholds/queues.js')>()).QUEUE_THRESHOLDS) }));
    try {
      const { DEFAULT_THRESHOLDS } = await import('../../src/thresholds/index.js');
      const { renderRuleFiles } = await import('../../rules/src/render.js');
      const { renderDashboards } = await import('../../grafana/src/index.js');
      const { diagnose } = await import('../../src/doctor/findings.js');
      const got = agreedValues(renderRuleFiles(DEFAULT_THRESHOLDS), renderDashboards(), diagnose);
      expect(got).toMatchObject({ minBytes: 3 * GiB, minRatio: 0.15, age: 600 });
    } finally {
      vi.doUnmock('../../src/thresholds/gpu.js');
      vi.doUnmock('../../src/thresholds/queues.js');
      vi.resetModules();
    }
  });
});
