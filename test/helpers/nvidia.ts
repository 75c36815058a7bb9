/**
 * The fake nvidia-smi of the nvidia tests (test/fixtures/nvidia/fake-nvidia-smi.sh): a shell script that prints
 * the CSV files of a state dir chosen by argv (FAKE_NVIDIA_SMI_DIR) and logs each call. Shared by the nvidia
 * collector tests and the incident lab (test/helpers/lab.ts).
 */
import { copyFileSync, writeFileSync } from 'node:fs';
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
