/**
 * The shipped alert rules: promtool-clean, unit-tested per alert, using only metrics the exporter
 * documents (or the agreed contract, see contract.ts), each with a runbook, and equal to what
 * scripts/render-rules.ts renders (thresholds overridable without forking).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALL_ALERTS, RUNBOOK_BASE_URL, resolveThresholds } from '../../rules/src/index.js';
import { renderRuleFiles } from '../../rules/src/render.js';
import { hasCommand, removeDir, tempDir } from '../helpers/daemon.js';
import { REPO_ROOT } from '../helpers/exporter.js';
import { knownMetrics } from './contract.js';
import { selectedMetrics } from './promql.js';

const run = promisify(execFile);
const RULES_DIR = join(REPO_ROOT, 'rules');
const TESTS_DIR = join(RULES_DIR, 'tests');
const ruleFiles = (): string[] => readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).sort();
const testFiles = (): string[] => readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yml')).sort();

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
function shippedRules(): Array<Rule & { file: string; group: string }> {
  return ruleFiles().flatMap((file) => {
    const doc = parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
    return doc.groups.flatMap((g) => g.rules.map((r) => ({ ...r, file, group: g.name })));
  });
}

/** promtool's combined output and exit code (promtool writes results to stdout and stderr). */
async function promtool(args: string[], cwd = REPO_ROOT): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}${err.message}` };
  }
}

const havePromtool = hasCommand('promtool');
const temps: string[] = [];
afterAll(() => temps.forEach(removeDir));

describe.skipIf(!havePromtool)('promtool', () => {
  it('`promtool check rules` is clean on every rule file', async () => {
    const files = ruleFiles();
    expect(files.length).toBeGreaterThanOrEqual(6);
    const { code, out } = await promtool(['check', 'rules', ...files.map((f) => join('rules', f))]);
    expect(out).not.toMatch(/FAILED|WARNING|error/i);
    expect(code, out).toBe(0);
    expect(out.match(/SUCCESS: \d+ rules found/g)).toHaveLength(files.length);
  });

  it('`promtool test rules` passes every unit test', async () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThanOrEqual(6);
    const { code, out } = await promtool(['test', 'rules', ...files.map((f) => join('tests', f))], RULES_DIR);
    expect(code, out).toBe(0);
    expect(out.match(/SUCCESS/g)).toHaveLength(files.length);
  });

  it('a broken expectation makes `promtool test rules` fail (the tests are not vacuous)', async () => {
    const dir = tempDir('rules-mutant');
    temps.push(dir);
    // Same test, copied beside a rule file whose QueueStalled threshold is raised above the seed's 3600 s.
    const t = resolveThresholds({ queue_stalled_oldest_age_seconds: 7200 });
    for (const [f, text] of renderRuleFiles(t)) writeFileSync(join(dir, f), text);
    writeFileSync(join(dir, 'queues.test.yml'), readFileSync(join(TESTS_DIR, 'queues.test.yml'), 'utf8').replace('../queues.yml', 'queues.yml'));
    const { code, out } = await promtool(['test', 'rules', 'queues.test.yml'], dir);
    expect(code).not.toBe(0);
    expect(out).toMatch(/alertname: QueueStalled/);
  });
});

describe('what the rules use', () => {
  it('every metric a rule selects is in the catalogue (the collectors\' declarations) or Prometheus\' own', () => {
    const known = knownMetrics();
    const used = new Set<string>();
    for (const r of shippedRules()) {
      const sel = selectedMetrics(r.expr);
      expect(sel.errors, `${r.alert}: PromQL does not parse`).toEqual([]);
      expect(sel.unnamed, `${r.alert}: selector without a metric name`).toEqual([]);
      expect(sel.names.size, `${r.alert} selects no metric`).toBeGreaterThan(0);
      for (const n of sel.names) {
        expect(known, `${r.alert} uses ${n}, which the exporter does not document`).toContain(n);
        used.add(n);
      }
    }
    // the check itself sees the families the alerts are about
    for (const n of ['silentwatch_container_oom_kills_total', 'silentwatch_queue_jobs', 'silentwatch_gpu_memory_free_bytes', 'silentwatch_llamaswap_requests_total', 'up']) expect(used).toContain(n);
  });

  it('the metric-name check catches a renamed metric', () => {
    const sel = selectedMetrics('increase(silentwatch_container_oom_kill_total[10m]) > 0');
    expect(knownMetrics()).not.toContain([...sel.names][0]);
  });
});

describe('alert conventions', () => {
  const rules = shippedRules();
  it('every rule is an alert with severity, summary, description and a runbook that exists', () => {
    expect(rules.length).toBe(ALL_ALERTS.length);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.alert, `${r.file}: recording rules are not expected here`).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(['critical', 'warning', 'info']).toContain(r.labels?.severity);
      expect(r.annotations?.summary?.length).toBeGreaterThan(10);
      expect(r.annotations?.description?.length).toBeGreaterThan(30);
      expect(r.annotations?.runbook_url).toBe(`${RUNBOOK_BASE_URL}/${r.alert}.md`);
      const runbook = join(REPO_ROOT, 'docs/runbooks', `${r.alert}.md`);
      expect(existsSync(runbook), `docs/runbooks/${r.alert}.md missing`).toBe(true);
      const text = readFileSync(runbook, 'utf8');
      for (const section of ['## What it means', '## How to confirm', '## How to fix']) expect(text, `${r.alert} runbook lacks "${section}"`).toContain(section);
    }
  });

  it('a description that shows $value formats it (humanize*)', () => {
    for (const r of rules) {
      const d = `${r.annotations?.summary} ${r.annotations?.description}`;
      for (const m of d.matchAll(/\{\{[^}]*\$value[^}]*\}\}/g)) expect(m[0], r.alert).toMatch(/\| humanize(1024|Percentage|Duration)? \}\}/);
    }
  });

  it('every alert has a promtool case where it fires and one where it stays silent', () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const f of testFiles()) {
      const doc = parse(readFileSync(join(TESTS_DIR, f), 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> };
      for (const t of doc.tests) for (const a of t.alert_rule_test ?? []) ((a.exp_alerts?.length ?? 0) > 0 ? fires : silent).add(a.alertname);
    }
    for (const r of rules) {
      expect(fires, `no promtool test where ${r.alert} fires`).toContain(r.alert);
      expect(silent, `no promtool test where ${r.alert} stays silent`).toContain(r.alert);
    }
  });
});

describe('rendered from rules/src/', () => {
  // rules/*.yml and docs/alerts.md equal the renderer: test/golden/generated.test.ts (`npm run generate -- --check`).
  it('docs/alerts.md lists every alert with its runbook', () => {
    const md = readFileSync(join(REPO_ROOT, 'docs/alerts.md'), 'utf8');
    for (const a of ALL_ALERTS) expect(md).toContain(`[${a.alert}](runbooks/${a.alert}.md)`);
  });

  it('thresholds override values and `for:` durations; typos and bad values are rejected', () => {
    const t = resolveThresholds({ gpu_free_vram_min_bytes: 6442450944, container_memory_near_limit_for: '30m', runbook_base_url: 'https://wiki.example/runbooks' });
    const files = renderRuleFiles(t);
    const gpu = parse(files.get('gpu.yml') as string) as { groups: Array<{ rules: Rule[] }> };
    const low = gpu.groups[0]?.rules.find((r) => r.alert === 'GpuFreeVramLow');
    expect(low?.expr).toContain('silentwatch_gpu_memory_free_bytes < 6442450944');
    expect(low?.annotations?.runbook_url).toBe('https://wiki.example/runbooks/GpuFreeVramLow.md');
    const containers = parse(files.get('containers.yml') as string) as { groups: Array<{ rules: Rule[] }> };
    expect(containers.groups[0]?.rules.find((r) => r.alert === 'ContainerMemoryNearLimit')?.for).toBe('30m');
    expect(() => resolveThresholds({ gpu_free_vram_bytes: 1 })).toThrow(/gpu_free_vram_bytes/);
    expect(() => resolveThresholds({ queue_stalled_for: 'ten minutes' })).toThrow(/duration/);
    expect(() => resolveThresholds({ llamaswap_error_ratio: 'high' })).toThrow();
  });

  it.skipIf(!havePromtool)('the CLI renders a thresholds file into promtool-clean rules', async () => {
    const dir = tempDir('rules-render');
    temps.push(dir);
    writeFileSync(join(dir, 'thresholds.yml'), 'gpu_free_vram_min_bytes: 6442450944\nsilentwatch_job: node-silentwatch\nqueue_stalled_for: 15m\n');
    const out = join(dir, 'out');
    await run('npx', ['tsx', 'scripts/render-rules.ts', '--thresholds', join(dir, 'thresholds.yml'), '--out', out], { cwd: REPO_ROOT, timeout: 60_000 });
    expect(readdirSync(out).sort()).toEqual(ruleFiles());
    expect(readFileSync(join(out, 'silentwatch.yml'), 'utf8')).toContain('up{job="node-silentwatch"} == 0');
    expect(readFileSync(join(out, 'queues.yml'), 'utf8')).toContain('for: 15m');
    const { code, out: text } = await promtool(['check', 'rules', ...readdirSync(out).map((f) => join(out, f))]);
    expect(code, text).toBe(0);
    // a typo in the thresholds file fails loudly
    writeFileSync(join(dir, 'bad.yml'), 'gpu_free_vram_bytes: 1\n');
    await expect(run('npx', ['tsx', 'scripts/render-rules.ts', '--thresholds', join(dir, 'bad.yml'), '--out', join(dir, 'bad')], { cwd: REPO_ROOT, timeout: 60_000 })).rejects.toThrow(/gpu_free_vram_bytes/);
  }, 120_000);
});
