import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devMajor, isDrmNodePath, normalisePciAddress, parseDrmFdinfo, parseMemoryValue } from '../../../src/collectors/drm/parse-fdinfo.js';
import { REPO_ROOT } from '../../helpers/exporter.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/drm/${name}`, import.meta.url), 'utf8');
const parse = (name: string) => {
  const r = parseDrmFdinfo(fixture(name));
  if (!r) throw new Error(`${name} did not parse`);
  return r;
};
const KiB = 1024;
const MiB = 1024 * 1024;

describe('parseDrmFdinfo on fixtures', () => {
  it('i915 dGPU: system0, local0 and stolen-local0 regions, engines in ns, capacity ignored', () => {
    const r = parse('i915-dg2-system0-local0-stolen.txt');
    expect(r.driver).toBe('i915');
    expect(r.pdev).toBe('0000:03:00.0');
    expect(r.clientId).toBe('81');
    expect(Object.fromEntries(r.resident)).toEqual({ system0: 12 * MiB, local0: 1572864 * KiB, 'stolen-local0': 4096 });
    expect(Object.fromEntries(r.engineNs)).toEqual({ render: 25662044495, copy: 0, video: 1183736, 'video-enhance': 0, compute: 9120000 });
    expect(r.skipped).toBe(0);
  });

  it('xe: memory regions, no engine time (cycles only)', () => {
    const r = parse('xe-igpu-cycles-only.txt');
    expect(r.driver).toBe('xe');
    expect(Object.fromEntries(r.resident)).toEqual({ system: 301248 * KiB, gtt: 4 * KiB, stolen: 0 });
    expect(r.engineNs.size).toBe(0);
    expect(r.skipped).toBe(0);
  });

  it('amdgpu double form: resident wins, the drm-memory-* alias is never added on top', () => {
    const r = parse('amdgpu-new-and-legacy-double-form.txt');
    expect(Object.fromEntries(r.resident)).toEqual({ cpu: 0, gtt: 6 * MiB, vram: 3145728 * KiB });
    expect(r.engineNs.get('gfx')).toBe(812345678901);
    expect(r.engineNs.get('compute')).toBe(4200000000);
  });

  it('amdgpu legacy-only: the alias gives the resident figure', () => {
    const r = parse('amdgpu-legacy-memory-only.txt');
    expect(r.pdev).toBe('0000:0c:00.0');
    expect(Object.fromEntries(r.resident)).toEqual({ vram: 2068 * KiB, gtt: 8192 * KiB, cpu: 0 });
  });

  it('units: B and GiB accepted, unknown units skipped (not guessed)', () => {
    const r = parse('units-mixed-and-unknown.txt');
    expect(Object.fromEntries(r.resident)).toEqual({ system0: 2 * 1024 * MiB, 'stolen-system0': 512 });
    expect(Object.fromEntries(r.engineNs)).toEqual({ render: 1500000000 });
    expect(r.skipped).toBe(3); // TiB, kib, us
  });

  it('malformed lines are skipped and counted; the good values around them survive', () => {
    const r = parse('malformed-lines.txt');
    expect(r.driver).toBe('i915');
    expect(r.clientId).toBeUndefined();
    expect(r.pdev).toBeUndefined();
    expect(Object.fromEntries(r.resident)).toEqual({ system1: 8 * KiB });
    expect(Object.fromEntries(r.engineNs)).toEqual({ blitter: 250 });
    expect(r.skipped).toBe(12);
    for (const v of [...r.resident.values(), ...r.engineNs.values()]) expect(Number.isFinite(v)).toBe(true);
  });

  it('a truncated file keeps what was complete; a cut-off key is dropped', () => {
    const r = parse('i915-truncated.txt');
    expect(Object.fromEntries(r.resident)).toEqual({ system0: 6044 * KiB });
    expect(r.skipped).toBe(1); // 'drm-resident-stolen-syst' has no colon: a partial line, skipped and counted
  });

  it('files without drm-driver are not DRM clients', () => {
    for (const f of ['empty.txt', 'truncated-before-driver.txt', 'not-drm-eventfd.txt']) expect(parseDrmFdinfo(fixture(f))).toBeUndefined();
  });
});

describe('helpers', () => {
  it('normalises PCI addresses from fdinfo and nvidia-smi forms', () => {
    expect(normalisePciAddress('0000:0C:00.0')).toBe('0000:0c:00.0');
    expect(normalisePciAddress('00000000:0C:00.0')).toBe('0000:0c:00.0');
    expect(normalisePciAddress('03:00.0')).toBe('0000:03:00.0');
    expect(normalisePciAddress('fd00000.gpu')).toBeUndefined();
  });
  it('parses memory values strictly', () => {
    expect(parseMemoryValue('0')).toBe(0);
    expect(parseMemoryValue('22 MiB')).toBe(22 * MiB);
    expect(parseMemoryValue('5 KiB')).toBe(5 * KiB);
    expect(parseMemoryValue('5 kB')).toBeUndefined();
    expect(parseMemoryValue('')).toBeUndefined();
    expect(parseMemoryValue('1e3')).toBeUndefined();
  });
  it('recognises DRM and accel node paths only', () => {
    expect(isDrmNodePath('/dev/dri/renderD128')).toBe(true);
    expect(isDrmNodePath('/dev/dri/card0')).toBe(true);
    expect(isDrmNodePath('/dev/accel/accel0')).toBe(true);
    expect(isDrmNodePath('/dev/dri/renderD128 (deleted)')).toBe(false);
    expect(isDrmNodePath('/dev/null')).toBe(false);
    expect(isDrmNodePath('socket:[1234]')).toBe(false);
  });
  it('decodes the major number of a device', () => {
    expect(devMajor(226 * 256 + 128)).toBe(226); // renderD128 = 226:128
    expect(devMajor(1 * 256 + 3)).toBe(1); // /dev/null
  });
});

const SAMPLES = join(REPO_ROOT, '..', 'shared', 'samples');
const samples = existsSync(SAMPLES) ? readdirSync(SAMPLES).filter((f) => f.startsWith('fdinfo_')) : [];
const sample = (part: string) => {
  const f = samples.find((s) => s.includes(part));
  if (!f) throw new Error(`no sample matching ${part}`);
  return parseDrmFdinfo(readFileSync(join(SAMPLES, f), 'utf8'));
};

describe.skipIf(samples.length === 0)(`real captures in ../shared/samples${samples.length === 0 ? ' (skipped: folder absent)' : ''}`, () => {
  it('every capture parses without a crash, NaN or negative value', () => {
    for (const f of samples) {
      const r = parseDrmFdinfo(readFileSync(join(SAMPLES, f), 'utf8'));
      expect(r, f).toBeDefined();
      for (const v of [...(r?.resident.values() ?? []), ...(r?.engineNs.values() ?? [])]) {
        expect(Number.isFinite(v) && v >= 0, `${f}: ${v}`).toBe(true);
      }
    }
  });

  it('amdgpu 6.10-era: resident and drm-memory-* printed together count once', () => {
    const r = sample('amdgpu__kernel-6.10');
    expect(r?.pdev).toBe('0000:04:00.0');
    expect(r?.clientId).toBe('30');
    expect(Object.fromEntries(r?.resident ?? [])).toEqual({ cpu: 0, gtt: 22 * MiB, vram: 544428 * KiB });
    expect(r?.engineNs.get('gfx')).toBe(39456116802);
  });

  it('amdgpu legacy keys (amdgpu_top #87): alias used; the pasted note after the engine value makes it unusable', () => {
    const r = sample('amdgpu__legacy-drm-memory-keys');
    expect(Object.fromEntries(r?.resident ?? [])).toEqual({ vram: 2068 * KiB, gtt: 8192 * KiB, cpu: 0 });
    expect(r?.engineNs.has('gfx')).toBe(false);
    expect(r?.skipped).toBe(2); // the pasted '## cat …' header line and the annotated engine line
  });

  it('i915 iGPU man-page sample: system0 and stolen-system0, capacity ignored', () => {
    const r = sample('i915__igpu_system0_stolen');
    expect(r?.driver).toBe('i915');
    expect(r?.pdev).toBe('0000:00:02.0');
    expect(Object.fromEntries(r?.resident ?? [])).toEqual({ system0: 6044 * KiB, 'stolen-system0': 0 });
    expect(Object.fromEntries(r?.engineNs ?? [])).toEqual({ render: 346249, copy: 0, video: 0, 'video-enhance': 0 });
  });

  it('old i915 (ChromeOS) prints only drm-total-memory: no resident figure is invented', () => {
    const r = sample('i915__chromeos');
    expect(r?.resident.size).toBe(0);
    expect(r?.engineNs.get('render')).toBe(0);
  });

  it('xe dGPU doc sample: vram0, gtt, system; cycles only', () => {
    const r = sample('xe__dgpu_vram0');
    expect(r?.pdev).toBe('0000:03:00.0');
    expect(r?.resident.get('vram0')).toBe(23992 * KiB);
    expect(r?.resident.get('gtt')).toBe(192 * KiB);
    expect(r?.engineNs.size).toBe(0);
  });

  it('drivers without drm-pdev (msm, panfrost, panthor) and the amdxdna NPU', () => {
    expect(sample('msm__')?.pdev).toBeUndefined();
    expect(sample('msm__')?.engineNs.get('gpu')).toBe(1734371319);
    expect(sample('panfrost')?.resident.get('memory')).toBe(36496 * KiB);
    expect(sample('panthor')?.engineNs.get('panthor')).toBe(111110952750);
    const npu = sample('amdxdna');
    expect(npu?.driver).toBe('amdxdna_accel_driver');
    expect(npu?.engineNs.get('npu-amdxdna')).toBe(0);
  });
});
