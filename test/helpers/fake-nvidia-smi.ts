/**
 * The fake nvidia-smi (test/fixtures/nvidia/fake-nvidia-smi.sh, a shell script that prints fixtures by argv
 * and logs each call) and its state dir: used by the nvidia collector tests and the reliability fault matrix.
 */
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './daemon.js';

export const NVIDIA_FIXTURES = fileURLToPath(new URL('../fixtures/nvidia/', import.meta.url));
export const FAKE_NVIDIA_SMI = join(NVIDIA_FIXTURES, 'fake-nvidia-smi.sh');

/** A new state dir for the fake (pass it as FAKE_NVIDIA_SMI_DIR) with GPU and process fixtures to print; the caller removes it. */
export function fakeNvidiaDir(gpu: string, apps: string): string {
  const d = tempDir('nvidia');
  copyFileSync(join(NVIDIA_FIXTURES, gpu), join(d, 'gpu.csv'));
  copyFileSync(join(NVIDIA_FIXTURES, apps), join(d, 'apps.csv'));
  return d;
}

/** The fake's calls so far ("<pid> <argv>"). */
export const fakeNvidiaCalls = (d: string): string[] => (existsSync(join(d, 'calls.log')) ? readFileSync(join(d, 'calls.log'), 'utf8').split('\n').filter(Boolean) : []);

/** Back to printing the fixtures: no hang, wedge, exit code or stderr. */
export const clearFakeNvidiaModes = (d: string): void => {
  for (const k of ['gpu', 'apps']) for (const m of ['hang', 'wedge', 'exit', 'stderr']) rmSync(join(d, `${k}.${m}`), { force: true });
};
