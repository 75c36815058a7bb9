import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyCell, numberCell, parseComputeApps, parseGpuQuery, processLabel } from '../../../src/collectors/nvidia/parse-nvidia-smi.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/nvidia/${name}`, import.meta.url), 'latin1');
const MiB = 1024 * 1024;

/** Every number a parser returns must be finite and non-negative: never NaN, never a made-up 0. */
function expectSaneNumbers(o: object): void {
  for (const v of Object.values(o)) {
    if (typeof v === 'number') {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
  }
}

describe('parseGpuQuery', () => {
  it('seed 002: the shared 16 GB Tesla T4 with 2.2 GB free', () => {
    const { rows, problems } = parseGpuQuery(fixture('gpu-t4-seed002.csv'));
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      {
        index: '0',
        uuid: 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21',
        name: 'Tesla T4',
        driverVersion: '535.183.01',
        memoryTotalBytes: 15360 * MiB,
        memoryUsedBytes: 12571 * MiB,
        memoryFreeBytes: 2202 * MiB,
        utilizationRatio: 0,
      },
    ]);
  });

  it('several GPUs keep their own index, uuid and values', () => {
    const { rows, problems } = parseGpuQuery(fixture('gpu-4x-a100.csv'));
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.index)).toEqual(['0', '1', '2', '3']);
    expect(new Set(rows.map((r) => r.uuid)).size).toBe(4);
    expect(rows[1]?.memoryUsedBytes).toBe(4 * MiB);
    expect(rows[3]?.utilizationRatio).toBe(1);
    expect(rows[2]?.utilizationRatio).toBeCloseTo(0.55);
    rows.forEach(expectSaneNumbers);
  });

  it('sentinels skip the value, never 0 or NaN; only the alarming ones are problems', () => {
    const { rows, problems } = parseGpuQuery(fixture('gpu-sentinels.csv'));
    expect(rows).toHaveLength(5);
    rows.forEach(expectSaneNumbers);
    const [rtx, k80, a100, l4, old] = rows;
    expect(rtx?.utilizationRatio).toBeUndefined(); // [N/A]
    expect(rtx?.memoryUsedBytes).toBe(1021 * MiB);
    expect(k80).toEqual({ index: '1', uuid: 'GPU-7f8192b3-50c4-43aa-df68-7eb13253cf65', name: 'Tesla K80', driverVersion: '470.239.06' });
    expect(a100?.memoryTotalBytes).toBeUndefined();
    expect(a100?.memoryUsedBytes).toBeUndefined();
    expect(l4?.memoryUsedBytes).toBeUndefined(); // [Unknown Error]
    expect(l4?.memoryFreeBytes).toBe(22540 * MiB);
    expect(old?.utilizationRatio).toBeUndefined(); // bare N/A (driver 440)
    expect(old?.memoryUsedBytes).toBe(612 * MiB);
    // [N/A], [Not Supported] and bare N/A are the device saying "I don't have that": not problems.
    expect(problems).toEqual([
      'GPU 2 memory.total: [Insufficient Permissions]',
      'GPU 2 memory.used: [Insufficient Permissions]',
      'GPU 2 memory.free: [Insufficient Permissions]',
      'GPU 3 memory.used: [Unknown Error]',
    ]);
  });

  it('MIG: utilization is [N/A] and skipped, memory is the whole GPU', () => {
    const { rows, problems } = parseGpuQuery(fixture('gpu-mig-h100.csv'));
    expect(problems).toEqual([]);
    expect(rows[0]?.utilizationRatio).toBeUndefined();
    expect(rows[0]?.memoryUsedBytes).toBe(11125 * MiB);
  });

  it('a GPU that falls off the bus mid-output: its line and values are skipped, the others kept', () => {
    const { rows, problems } = parseGpuQuery(fixture('gpu-fell-off-bus.txt'));
    expect(rows.map((r) => r.index)).toEqual(['0', '2']);
    expect(rows[0]?.memoryUsedBytes).toBe(71245 * MiB);
    expect(rows[1]).toEqual({ index: '2', uuid: 'GPU-3c706e3f-2d91-4077-ac35-4b8e1f209c32', name: 'NVIDIA A100-SXM4-80GB', driverVersion: '550.90.07' });
    expect(problems[0]).toMatch(/^skipped a line with 1 of 8 fields: "Unable to determine the device handle/);
    expect(problems.filter((p) => p.includes('[GPU is lost]'))).toHaveLength(4);
  });

  it('truncated output: the complete line is kept, the cut one skipped', () => {
    const { rows, problems } = parseGpuQuery(fixture('gpu-truncated.csv'));
    expect(rows.map((r) => r.index)).toEqual(['0']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/skipped a line with 4 of 8 fields/);
  });

  it('extra spaces around values are tolerated', () => {
    const { rows, problems } = parseGpuQuery(fixture('gpu-extra-spaces.csv'));
    expect(problems).toEqual([]);
    expect(rows[0]).toMatchObject({ index: '0', uuid: 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21', name: 'Tesla T4', memoryTotalBytes: 15360 * MiB, memoryFreeBytes: 2202 * MiB });
  });

  it('garbage: driver-down message, binary noise, bad numbers, empty output', () => {
    for (const f of ['gpu-garbage-driver-down.txt', 'gpu-binary-garbage.bin', 'gpu-empty.csv']) {
      const { rows, problems } = parseGpuQuery(fixture(f));
      expect(rows, f).toEqual([]);
      if (f !== 'gpu-empty.csv') expect(problems.length, f).toBeGreaterThan(0);
    }
    const bad = parseGpuQuery(fixture('gpu-garbage-values.csv'));
    expect(bad.rows).toHaveLength(1);
    // -5, 1e3 and 0x10 are not nvidia-smi numbers: skipped, not coerced.
    expect(bad.rows[0]).toEqual({ index: '0', uuid: 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21', name: 'Tesla T4', driverVersion: '535.183.01', memoryTotalBytes: 15360 * MiB });
    expect(bad.problems).toHaveLength(4);
  });

  it('a duplicated GPU line is reported once', () => {
    const line = fixture('gpu-t4-seed002.csv');
    const { rows, problems } = parseGpuQuery(line + line);
    expect(rows).toHaveLength(1);
    expect(problems).toEqual(['skipped a second line for GPU GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21']);
  });
});

describe('parseComputeApps', () => {
  it('seed 002: immich-ml python holds 10726 MiB of the T4', () => {
    const { rows, problems } = parseComputeApps(fixture('apps-t4-seed002.csv'));
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { gpuUuid: 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21', pid: 2315841, processName: '/opt/venv/bin/python3', usedBytes: 10726 * MiB },
      { gpuUuid: 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21', pid: 2318007, processName: '/usr/lib/jellyfin-ffmpeg/ffmpeg', usedBytes: 1581 * MiB },
    ]);
  });

  it('a process name containing ", " is split from both ends', () => {
    const { rows, problems } = parseComputeApps(fixture('apps-4x-a100.csv'));
    expect(problems).toEqual([]);
    expect(rows).toHaveLength(5);
    expect(rows[3]).toEqual({ gpuUuid: 'GPU-4d617f40-3ea2-4188-bd46-5c9f2031ad43', pid: 60117, processName: '/srv/app/bin/worker, name with, commas', usedBytes: 9000 * MiB });
  });

  it('Windows/WDDM: memory [N/A] is skipped (not 0), names with spaces, commas and parentheses survive', () => {
    const { rows, problems } = parseComputeApps(fixture('apps-wddm-2080s.csv'));
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.processName)).toEqual(['C:\\Windows\\System32\\dwm.exe', 'C:\\Program Files\\NZXT CAM\\NZXT CAM.exe', 'C:\\Games\\Foo, Bar (x64)\\foo.exe']);
    expect(rows.every((r) => r.usedBytes === undefined)).toBe(true);
  });

  it('MIG in a container: a row of [Insufficient Permissions] is skipped with the reason', () => {
    const { rows, problems } = parseComputeApps(fixture('apps-mig-insufficient-permissions.csv'));
    expect(rows).toEqual([]);
    expect(problems).toEqual(['skipped a process line without a usable gpu_uuid/pid: [Insufficient Permissions]']);
  });

  it('an idle GPU prints nothing: no rows, no problems', () => {
    expect(parseComputeApps(fixture('apps-empty.csv'))).toEqual({ rows: [], problems: [] });
    expect(parseComputeApps('\n\n')).toEqual({ rows: [], problems: [] });
  });

  it('garbage and truncated lines are skipped', () => {
    const r = parseComputeApps(`${fixture('apps-t4-seed002.csv')}No running processes found\nGPU-x, 12ab, python, 5\nGPU-x, 0, python, 5\nGPU-x, 77`);
    expect(r.rows).toHaveLength(2);
    expect(r.problems).toHaveLength(4);
  });
});

describe('cells and labels', () => {
  it('classifies sentinels', () => {
    expect(classifyCell(' [N/A] ')).toEqual({ kind: 'sentinel', text: '[N/A]', benign: true });
    expect(classifyCell('N/A')).toMatchObject({ kind: 'sentinel', benign: true });
    expect(classifyCell('[Unknown Error]')).toMatchObject({ kind: 'sentinel', benign: false });
    expect(classifyCell('[GPU is lost]')).toMatchObject({ kind: 'sentinel', benign: false });
    expect(classifyCell('535.183.01')).toEqual({ kind: 'value', text: '535.183.01' });
  });

  it('reads numbers with or without units', () => {
    const p: string[] = [];
    expect(numberCell('8192 MiB', 'x', p)).toBe(8192);
    expect(numberCell('7 %', 'x', p)).toBe(7);
    expect(numberCell('12.5', 'x', p)).toBe(12.5);
    expect(numberCell('', 'x', p)).toBeUndefined();
    expect(numberCell('Infinity', 'x', p)).toBeUndefined();
    expect(p).toHaveLength(2);
  });

  it('process label is the basename of a Linux or Windows path', () => {
    expect(processLabel('/opt/venv/bin/python3')).toBe('python3');
    expect(processLabel('C:\\Program Files\\NZXT CAM\\NZXT CAM.exe')).toBe('NZXT CAM.exe');
    expect(processLabel('./gpu_burn')).toBe('gpu_burn');
    expect(processLabel('ffmpeg')).toBe('ffmpeg');
    expect(processLabel('')).toBe('');
  });
});
