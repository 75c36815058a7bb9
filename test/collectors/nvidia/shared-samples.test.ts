/**
 * The parsers against every real nvidia-smi CSV capture others published in ../shared/samples (read in
 * place, never copied into the project; see its SOURCES.md). Expected values come from an independent,
 * naive reading of the same text (split on the header position), so the test does not repeat the parser.
 * Every `nvidia-smi_query-*` and full-capture file must be covered by a case below: a new sample that no
 * case handles fails the test instead of being silently ignored.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberCell, parseComputeApps, parseCsv, parseGpuQuery } from '../../../src/collectors/nvidia/parse-nvidia-smi.js';
import { REPO_ROOT } from '../../helpers/exporter.js';

const DIR = join(REPO_ROOT, '..', 'shared', 'samples');
const present = existsSync(DIR);
const read = (f: string): string => readFileSync(join(DIR, f), 'utf8');
const files = present ? readdirSync(DIR) : [];
const MiB = 1024 * 1024;
const covered = new Set<string>();

/** Naive oracle: value of a header column in data line k (1-based after the header). */
function naive(text: string, column: string, k = 1): string | undefined {
  const lines = text.split('\n');
  const header = (lines[0] ?? '').split(', ');
  const i = header.indexOf(column);
  if (i < 0) return undefined;
  return (lines[k] ?? '').split(', ')[i];
}
const naiveMiB = (v: string | undefined): number | undefined => (v && /^\d+ MiB$/.test(v) ? parseInt(v, 10) * MiB : undefined);

function expectSane(o: object): void {
  for (const v of Object.values(o)) if (typeof v === 'number') expect(Number.isFinite(v) && v >= 0).toBe(true);
}

describe.skipIf(!present)(`real captures in ../shared/samples${present ? '' : ' (skipped: ../shared/samples is absent)'}`, () => {
  const gpuAll = files.filter((f) => f.startsWith('nvidia-smi_query-gpu_all-fields_csv__'));
  const appsAll = files.filter((f) => /^nvidia-smi_query-compute-apps_csv__(linux|windows)-/.test(f));

  it(`query-gpu, every field, header with units (${gpuAll.length} captures: H100, H200, MIG, L40S, RTX 2080S/4080S Linux and Windows)`, () => {
    expect(gpuAll.length).toBeGreaterThanOrEqual(20);
    for (const f of gpuAll) {
      covered.add(f);
      const text = read(f);
      const { rows, problems } = parseGpuQuery(text, { header: true });
      expect(problems, f).toEqual([]);
      expect(rows, f).toHaveLength(1);
      const g = rows[0]!;
      expectSane(g);
      expect(g.index, f).toBe(naive(text, 'index'));
      expect(g.uuid, f).toBe(naive(text, 'uuid'));
      expect(g.name, f).toBe(naive(text, 'name'));
      expect(g.driverVersion, f).toBe(naive(text, 'driver_version'));
      expect(g.memoryTotalBytes, f).toBe(naiveMiB(naive(text, 'memory.total [MiB]')));
      expect(g.memoryUsedBytes, f).toBe(naiveMiB(naive(text, 'memory.used [MiB]')));
      expect(g.memoryFreeBytes, f).toBe(naiveMiB(naive(text, 'memory.free [MiB]')));
      expect(g.memoryTotalBytes, f).toBeGreaterThan(0);
      const util = naive(text, 'utilization.gpu [%]');
      if (f.includes('-mig__')) {
        // MIG: utilization is [N/A] and must be absent, not 0.
        expect(util, f).toBe('[N/A]');
        expect(g.utilizationRatio, f).toBeUndefined();
      } else {
        expect(g.utilizationRatio, f).toBe(parseInt(util ?? '', 10) / 100);
      }
    }
  });

  it(`query-compute-apps, header with units (${appsAll.length} captures, incl. Windows/WDDM [N/A] memory, MIG, header-only)`, () => {
    expect(appsAll.length).toBeGreaterThanOrEqual(14);
    for (const f of appsAll) {
      covered.add(f);
      const text = read(f);
      const dataLines = text.split('\n').slice(1).filter((l) => l.trim() !== '');
      const { rows, problems } = parseComputeApps(text, { header: true });
      expect(problems, f).toEqual([]);
      expect(rows, f).toHaveLength(dataLines.length);
      rows.forEach((r, k) => {
        expectSane(r);
        expect(String(r.pid), f).toBe(naive(text, 'pid', k + 1));
        expect(r.gpuUuid, f).toBe(naive(text, 'gpu_uuid', k + 1));
        // process_name is the 7th of 8 columns: taken from both ends, whatever it contains.
        const line = dataLines[k]!;
        const parts = line.split(', ');
        expect(r.processName, f).toBe(parts.slice(6, parts.length - 1).join(', '));
        if (f.includes('windows-')) expect(r.usedBytes, f).toBeUndefined(); // WDDM: [N/A]
        else expect(r.usedBytes, f).toBe(naiveMiB(parts.at(-1)));
      });
      if (f.includes('no-processes-header-only')) expect(rows).toEqual([]);
    }
  });

  it('full captures: the query-gpu and query-compute-apps sections of each', () => {
    const full = files.filter((f) => f.startsWith('nvidia_gpu_exporter_full-capture__'));
    expect(full.length).toBeGreaterThanOrEqual(3);
    for (const f of full) {
      covered.add(f);
      const text = read(f);
      const sections = [...text.matchAll(/^# (idle|load) :: (query-gpu|query-compute-apps) [^\n]*\n# \$ [^\n]*\n(?:#+\n)?([\s\S]*?)(?=^#)/gm)];
      expect(sections.length, f).toBeGreaterThanOrEqual(3);
      for (const [, phase, kind, body] of sections) {
        if (kind === 'query-gpu') {
          const { rows, problems } = parseGpuQuery(body!, { header: true });
          expect(problems, `${f} ${phase}`).toEqual([]);
          expect(rows.length, `${f} ${phase}`).toBe(1);
          expect(rows[0]!.memoryUsedBytes, `${f} ${phase}`).toBe(naiveMiB(naive(body!, 'memory.used [MiB]')));
        } else {
          const { rows, problems } = parseComputeApps(body!, { header: true });
          expect(problems, `${f} ${phase}`).toEqual([]);
          expect(rows.length, `${f} ${phase}`).toBe(body!.split('\n').slice(1).filter((l) => l.trim() !== '').length);
        }
      }
    }
  });

  /** Files with a command line and prose around the output: the command names the fields. */
  function commandFields(text: string, query: 'gpu' | 'compute-apps'): string[] {
    const m = new RegExp(`--query-${query}=([^\\s]+)`).exec(text);
    return (m?.[1] ?? '').split(',');
  }

  it('sentinel cases from issue threads', () => {
    const one = (fragment: string): string => {
      const f = files.find((x) => x.includes(fragment));
      expect(f, fragment).toBeDefined();
      covered.add(f!);
      return read(f!);
    };
    // [N/A] vs [Not Supported] (driver change): fan.speed skipped, memory read.
    {
      const text = one('NA-vs-NotSupported-driver-change');
      const fields = commandFields(text, 'gpu');
      for (const line of text.split('\n').filter((l) => /^\d+, /.test(l))) {
        const t = parseCsv(line, fields);
        const rec = t.records[0]!;
        const p: string[] = [];
        expect(numberCell(rec['memory.total'], 'memory.total', p)).toBe(2004);
        expect(numberCell(rec['fan.speed'], 'fan.speed', p)).toBeUndefined();
        expect(numberCell(rec['utilization.gpu'], 'utilization.gpu', p)).toBe(0);
        expect(p).toEqual([]);
      }
    }
    // Driver 440 printed N/A without brackets (output kept as a Python list of lines).
    {
      const text = one('unbracketed-NA');
      const fields = commandFields(text, 'gpu');
      const line = /\['([^']*)'/.exec(text)?.[1] ?? '';
      const rec = parseCsv(line, fields).records[0]!;
      const p: string[] = [];
      expect(numberCell(rec['temperature.memory'], 't', p)).toBeUndefined();
      expect(numberCell(rec['memory.total'], 'm', p)).toBe(7979);
      expect(numberCell(rec['utilization.gpu'], 'u', p)).toBe(86);
      expect(rec['uuid']).toBe('GPU-22b2c6ac-2d49-4863-197c-9c469071178a');
      expect(p).toEqual([]);
    }
    // fan.speed [Not Supported] alone.
    {
      const text = one('fan-NotSupported');
      const rec = parseCsv(text.split('\n')[1]!, commandFields(text, 'gpu')).records[0]!;
      const p: string[] = [];
      expect(numberCell(rec['fan.speed'], 'fan', p)).toBeUndefined();
      expect(p).toEqual([]);
    }
    // vGPU/MIG H100L: clock [N/A], memory 24576, the gpu_name alias.
    {
      const text = one('vGPU-MIG-H100L');
      const line = text.split('\n').find((l) => l.startsWith('[N/A]'))!;
      const rec = parseCsv(line, commandFields(text, 'gpu'), { freeField: 'gpu_name' }).records[0]!;
      const p: string[] = [];
      expect(numberCell(rec['clocks.max.sm'], 'c', p)).toBeUndefined();
      expect(numberCell(rec['memory.total'], 'm', p)).toBe(24576);
      expect(rec['name']).toBe('NVIDIA H100L-2-24C');
    }
    // Windows GTX 770, noheader with units: [Not Supported] skipped, "52 %" read.
    {
      const text = one('GTX770-Windows');
      const line = /^`(GeForce[^`]*)`/m.exec(text)?.[1] ?? '';
      const rec = parseCsv(line, commandFields(text, 'gpu')).records[0]!;
      const p: string[] = [];
      expect(numberCell(rec['utilization.gpu'], 'u', p)).toBeUndefined();
      expect(numberCell(rec['fan.speed'], 'f', p)).toBe(52);
      expect(numberCell(rec['temperature.gpu'], 't', p)).toBe(52);
      expect(p).toEqual([]);
    }
    // netdata Tesla P100, csv,nounits with a header.
    {
      const text = one('netdata__tesla-p100.csv');
      const t = parseCsv(text, ['uuid', 'memory.used', 'memory.free', 'utilization.gpu', 'fan.speed'], { header: true });
      const rec = t.records[0]!;
      const p: string[] = [];
      expect(numberCell(rec['memory.used'], 'u', p)).toBe(0); // a real 0, not a sentinel
      expect(numberCell(rec['memory.free'], 'f', p)).toBe(16280);
      expect(numberCell(rec['fan.speed'], 'fan', p)).toBeUndefined();
      expect(p).toEqual([]);
    }
    // A100 MIG inside a k8s pod: memory [Insufficient Permissions] → skipped and reported as a problem.
    {
      const text = one('A100-MIG-in-k8s-pod');
      const body = text.split('\n').slice(1).join('\n');
      const rec = parseCsv(body, ['name', 'memory.total', 'utilization.gpu'], { header: true }).records[0]!;
      const p: string[] = [];
      expect(rec['name']).toBe('NVIDIA A100-SXM4-80GB');
      expect(numberCell(rec['utilization.gpu'], 'u', p)).toBeUndefined();
      expect(numberCell(rec['memory.total'], 'memory.total', p)).toBeUndefined();
      expect(p).toEqual(['memory.total: [Insufficient Permissions]']);
    }
    // compute-apps: MIG in a container, all [Insufficient Permissions] → row skipped with the reason.
    {
      const r = parseComputeApps(one('MIG-in-container_InsufficientPermissions'), { header: true });
      expect(r.rows).toEqual([]);
      expect(r.problems).toEqual(['skipped a process line without a usable gpu_uuid/pid: [Insufficient Permissions]']);
    }
    // compute-apps asked without pid (dcgm-exporter#94): no usable row, no crash.
    {
      const text = one('gpu_uuid-name-alias-becomes-process_name');
      const r = parseComputeApps(text.split('\n').slice(1).join('\n'), { header: true });
      expect(r.rows).toEqual([]);
      expect(r.problems).toHaveLength(3);
    }
    // compute-apps asked without gpu_uuid, host PID seen from a container (nvidia-docker#1483).
    {
      const text = one('host-pid-seen-from-container');
      const body = text.split('\n').slice(text.split('\n').findIndex((l) => l.startsWith('pid, '))).join('\n');
      const r = parseComputeApps(body, { header: true });
      expect(r.rows).toEqual([]);
      expect(r.problems[0]).toMatch(/without a usable gpu_uuid\/pid/);
      const rec = parseCsv(body, ['pid', 'used_memory'], { header: true }).records[0]!;
      expect(numberCell(rec['used_memory'], 'm', [])).toBe(185);
    }
  });

  it('every nvidia-smi CSV sample is covered by a case above', () => {
    const csvLike = files.filter((f) => f.startsWith('nvidia-smi_query') || f.startsWith('nvidia_gpu_exporter_full-capture'));
    expect(csvLike.filter((f) => !covered.has(f))).toEqual([]);
  });
});
