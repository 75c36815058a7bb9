/**
 * Loop mode on every real nvidia-smi CSV capture in ../shared/samples (read in place, never copied; see its
 * SOURCES.md) and on the H200 recordings in test/fixtures/nvidia: each capture's rows, put in the collector's
 * field order, are printed by the fake nvidia-smi in `-lms` mode, and the newest sample the loop reader
 * returns must parse exactly like the same text read in one shot, with one process start.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_QUERY_FIELDS, canonicalField, GPU_QUERY_FIELDS, parseComputeApps, parseCsv, parseGpuQuery } from '../../../src/collectors/nvidia/parse-nvidia-smi.js';
import { SmiLoop } from '../../../src/collectors/nvidia/smi-loop.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { REPO_ROOT } from '../../helpers/exporter.js';
import { FAKE_NVIDIA_SMI, NVIDIA_FIXTURES } from '../../helpers/nvidia.js';

const DIR = process.env.SILENTWATCH_SAMPLES ?? join(REPO_ROOT, '..', 'shared', 'samples');
const present = existsSync(DIR);
const dirs: string[] = [];
const loops: SmiLoop[] = [];
afterAll(() => {
  for (const l of loops) l.close();
  for (const d of dirs) removeDir(d);
});

type Kind = 'gpu' | 'apps';
const FIELDS: Record<Kind, readonly string[]> = { gpu: GPU_QUERY_FIELDS, apps: APP_QUERY_FIELDS };

/** A capture with a header line: its rows in the collector's noheader field order ([N/A] where a field was not asked). */
function asLoopRows(text: string, kind: Kind): string {
  const lines = text.split('\n');
  const h = lines.findIndex((l) => !l.startsWith('#') && l.includes(', ') && /\buuid\b|gpu_uuid/.test(l));
  if (h < 0) return '';
  const body = lines.slice(h).filter((l) => !l.startsWith('#')).join('\n');
  const all = parseCsv(body, lines[h]!.split(',').map(canonicalField), { header: true, freeField: kind === 'gpu' ? 'name' : 'process_name' });
  return all.records.map((r) => FIELDS[kind].map((f) => r[canonicalField(f)] ?? '[N/A]').join(', ') + '\n').join('');
}

const cases: Array<{ name: string; kind: Kind; text: string }> = [];
if (present) {
  for (const f of readdirSync(DIR).sort()) {
    const kind: Kind | undefined = f.startsWith('nvidia-smi_query-gpu') ? 'gpu' : f.startsWith('nvidia-smi_query-compute-apps') ? 'apps' : undefined;
    if (kind) cases.push({ name: f, kind, text: asLoopRows(readFileSync(join(DIR, f), 'utf8'), kind) });
  }
}
for (const f of readdirSync(NVIDIA_FIXTURES).filter((n) => /^(gpu|apps)-h200-.*\.csv$/.test(n))) {
  cases.push({ name: f, kind: f.startsWith('gpu') ? 'gpu' : 'apps', text: readFileSync(join(NVIDIA_FIXTURES, f), 'utf8') });
}

describe(`loop mode on real captures${present ? '' : ' (../shared/samples absent: H200 recordings only)'}`, () => {
  it(`${cases.length} captures: the loop's newest sample parses like the one-shot output`, async () => {
    if (present) expect(cases.filter((c) => !c.name.includes('h200-580')).length).toBeGreaterThanOrEqual(40);
    const running = cases.map((c) => {
      const d = tempDir('nvidia-loop-sample');
      dirs.push(d);
      writeFileSync(join(d, `${c.kind}.csv`), c.text);
      const args = c.kind === 'gpu' ? [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'] : [`--query-compute-apps=${APP_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
      const loop = new SmiLoop({ binary: FAKE_NVIDIA_SMI, args, intervalMs: 100, env: { ...process.env, FAKE_NVIDIA_SMI_DIR: d } });
      loops.push(loop);
      loop.ensure();
      return { c, loop };
    });
    // Several samples in: the reader must hand out one sample, never two glued together.
    await sleep(700);
    for (const { c, loop } of running) {
      const parse = c.kind === 'gpu' ? parseGpuQuery : parseComputeApps;
      const frame = loop.latest();
      if (c.text === '') expect(frame, c.name).toBeUndefined();
      else {
        expect(frame?.text, c.name).toBe(c.text);
        expect(parse(frame?.text ?? ''), c.name).toEqual(parse(c.text));
      }
      expect(loop.running, c.name).toBe(true);
      expect(loop.starts, c.name).toBe(1);
    }
  });
});
