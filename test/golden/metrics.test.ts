/**
 * The golden end-to-end test, after node_exporter's: the real exporter (dist/cli.js) reads a fixture /proc and
 * /sys tree (test/golden/fixtures/) and recorded nvidia-smi output (through the stand-in nvidia-smi), and its
 * /metrics body must equal test/golden/metrics.golden.txt byte for byte, HELP and TYPE lines included. A changed
 * metric name, label, HELP text, value or ordering shows up as a diff of that file.
 *
 * Lines that depend on the machine running the test, not on the fixtures, are left out deliberately (VOLATILE):
 * the exporter's own process and Node.js runtime metrics, how long each collector took, the build version, and
 * host memory (systeminformation reads the real /proc/meminfo, not --path.procfs). Everything else is compared.
 *
 * When a change of the metrics is intended: `npm run golden:update` rewrites the golden file; review its diff.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { REPO_ROOT, startExporter, type RunningExporter } from '../helpers/exporter.js';

const FIXTURES = join(REPO_ROOT, 'test/golden/fixtures');
const GOLDEN = join(REPO_ROOT, 'test/golden/metrics.golden.txt');

/** Families whose samples (and HELP/TYPE lines) depend on the machine, not on the fixtures. */
const VOLATILE = [
  /^silentwatch_process_/,
  /^silentwatch_nodejs_/,
  /^silentwatch_collector_duration_seconds$/,
  /^silentwatch_build_info$/,
  /^silentwatch_host_memory_(total|available)_bytes$/,
];

/** The exposition without the VOLATILE families. */
function stable(body: string): string {
  const family = (line: string): string => (line.startsWith('# ') ? (line.split(' ')[2] ?? '') : (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '')).replace(/_(bucket|sum|count)$/, '');
  return `${body
    .split('\n')
    .filter((l) => l !== '' && !VOLATILE.some((re) => re.test(family(l))))
    .join('\n')}\n`;
}

describe('golden /metrics from fixture /proc, /sys and recorded tool output', () => {
  let exporter: RunningExporter | undefined;
  const smiDir = tempDir('golden-nvidia-smi');
  afterAll(async () => {
    await exporter?.stop();
    removeDir(smiDir);
  });

  it('the exposition equals test/golden/metrics.golden.txt', async () => {
    cpSync(join(FIXTURES, 'nvidia-smi'), smiDir, { recursive: true });
    exporter = await startExporter(
      [
        `--path.procfs=${join(FIXTURES, 'proc')}`,
        `--path.sysfs=${join(FIXTURES, 'sys')}`,
        `--path.rootfs=${FIXTURES}`,
        '--docker.host=unix:///nonexistent/docker.sock',
        '--collector.nvidia',
        `--collector.nvidia.binary=${join(REPO_ROOT, 'test/fixtures/nvidia/fake-nvidia-smi.sh')}`,
        '--collector.drm',
        '--no-collector.containers',
        '--no-collector.queues',
        '--no-collector.llamaswap',
        '--no-collector.probes',
        '--no-collector.mounts',
      ],
      { FAKE_NVIDIA_SMI_DIR: smiDir },
    );
    const first = stable(await exporter.scrape());
    // a second scrape of the same fixtures is the same body: nothing in it depends on time or on scrape order
    expect(stable(await exporter.scrape())).toBe(first);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, first);
    expect(first).toBe(readFileSync(GOLDEN, 'utf8'));
  });
});
