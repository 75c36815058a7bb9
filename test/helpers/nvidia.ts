/**
 * The fake nvidia-smi of the nvidia tests (test/fixtures/nvidia/fake-nvidia-smi.sh): a shell script that prints
 * the CSV files of a state dir chosen by argv (FAKE_NVIDIA_SMI_DIR) and logs each call. Shared by the nvidia
 * collector tests and the incident lab (test/helpers/lab.ts).
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './daemon.js';

export const NVIDIA_FIXTURES = fileURLToPath(new URL('../fixtures/nvidia/', import.meta.url));
export const FAKE_NVIDIA_SMI = join(NVIDIA_FIXTURES, 'fake-nvidia-smi.sh');

/**
 * A new state dir for the fake: gpu.csv copied from a fixture, apps.csv from a fixture ({ fixture }) or
 * written ({ text }). The caller removes it (removeDir) and passes it as FAKE_NVIDIA_SMI_DIR.
 */
export function fakeNvidiaSmiDir(gpuFixture: string, apps: { fixture: string } | { text: string }, prefix = 'nvidia'): string {
  const d = tempDir(prefix);
  copyFileSync(join(NVIDIA_FIXTURES, gpuFixture), join(d, 'gpu.csv'));
  if ('fixture' in apps) copyFileSync(join(NVIDIA_FIXTURES, apps.fixture), join(d, 'apps.csv'));
  else writeFileSync(join(d, 'apps.csv'), apps.text);
  return d;
}

/** The fake's calls so far ("<pid> <argv>"). */
export const fakeNvidiaCalls = (d: string): string[] => (existsSync(join(d, 'calls.log')) ? readFileSync(join(d, 'calls.log'), 'utf8').split('\n').filter(Boolean) : []);

/** Back to printing the fixtures: no hang, wedge, exit code or stderr. */
export const clearFakeNvidiaModes = (d: string): void => {
  for (const k of ['gpu', 'apps']) for (const m of ['hang', 'wedge', 'exit', 'stderr']) rmSync(join(d, `${k}.${m}`), { force: true });
};

/** Whether a process (a fake nvidia-smi, its wedged child) still exists. */
export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
