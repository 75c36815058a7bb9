/**
 * `silentwatch doctor --thresholds.file`: the thresholds file you render your alert rules with is the one doctor
 * compares with. The real CLI on a recorded Tesla T4 (2.2 GB of 15 GB free, through the stand-in nvidia-smi): low
 * VRAM at the shipped thresholds (below 4 GiB and below 20 %), nothing once the file lowers the bytes to 1 GiB, and
 * a typo in the file stops doctor with exit 2 naming the key.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { REPO_ROOT, runCli } from '../helpers/exporter.js';

const dir = tempDir('doctor-thresholds');
afterAll(() => removeDir(dir));

const doctor = (extra: string[]): ReturnType<typeof runCli> => {
  cpSync(join(REPO_ROOT, 'test/golden/fixtures/nvidia-smi'), join(dir, 'smi'), { recursive: true });
  const args = ['doctor', '--json', '--docker.host=unix:///nonexistent/docker.sock', '--collector.nvidia', `--collector.nvidia.binary=${join(REPO_ROOT, 'test/fixtures/nvidia/fake-nvidia-smi.sh')}`];
  for (const c of ['containers', 'queues', 'llamaswap', 'probes', 'mounts', 'drm']) args.push(`--no-collector.${c}`);
  return runCli([...args, ...extra], { FAKE_NVIDIA_SMI_DIR: join(dir, 'smi') });
};
const checks = (stdout: string): string[] => (JSON.parse(stdout) as { findings: Array<{ check: string }> }).findings.map((f) => f.check);

describe('doctor compares with the thresholds file', () => {
  it('shipped thresholds: low VRAM; a file lowering gpu_free_vram_min_bytes: none; a typo: exit 2', async () => {
    const shipped = await doctor([]);
    expect(checks(shipped.stdout), shipped.stderr).toContain('low-vram');

    writeFileSync(join(dir, 'mine.yml'), 'gpu_free_vram_min_bytes: 1073741824\n');
    const mine = await doctor([`--thresholds.file=${join(dir, 'mine.yml')}`]);
    expect(checks(mine.stdout), mine.stderr).not.toContain('low-vram');

    writeFileSync(join(dir, 'typo.yml'), 'gpu_free_vram_bytes: 1\n');
    const typo = await doctor([`--thresholds.file=${join(dir, 'typo.yml')}`]);
    expect(typo.code).toBe(2);
    expect(typo.stderr + typo.stdout).toMatch(/thresholds\.file .*unknown key gpu_free_vram_bytes/);
  }, 120_000);
});
