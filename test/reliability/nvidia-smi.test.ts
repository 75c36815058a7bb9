/**
 * Fault matrix, nvidia-smi (nvidia collector) and /proc under it (GPU process attribution): the fake
 * nvidia-smi from test/helpers/fake-nvidia-smi.ts behind a wrapper that records how many instances run at
 * once; one exporter per case, all cases concurrent. Case names are the rows of docs/reliability.md.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backgroundLoop } from '../helpers/background-loop.js';
import { removeDir } from '../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { clearFakeNvidiaModes, FAKE_NVIDIA_SMI, fakeNvidiaSmiDir, NVIDIA_FIXTURES } from '../helpers/nvidia.js';
import { describeReport, runFault } from '../helpers/faults.js';

/** Hang cases cost their time-out per scrape: short; the others get room for a loaded 2-core box. */
const HANG_TIMEOUT_MS = 500;
const TIMEOUT_MS = 1000;
const exporters: RunningExporter[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(exporters.map((e) => e.stop()));
  for (const d of dirs) removeDir(d);
});

/**
 * A state dir with an `nvidia-smi` wrapper: it notes how many wrapper processes of this dir are alive when it
 * starts (pid files in live/; dead, zombie and reused pids swept), then execs the fake under the same pid.
 */
function fake(): string {
  const d = fakeNvidiaSmiDir('gpu-4x-a100.csv', { fixture: 'apps-4x-a100.csv' });
  dirs.push(d);
  writeFileSync(
    join(d, 'nvidia-smi'),
    `#!/bin/sh
d="$FAKE_NVIDIA_SMI_DIR"
mkdir -p "$d/live"; : > "$d/live/$$"
# A pid counts only while it is a live (not zombie) process of THIS state dir: pid_max is small on some
# hosts and the suite spawns thousands of processes, so a stale file's pid can be reused by a stranger.
n=0; for f in "$d"/live/*; do p=\${f##*/}
  if [ -r "/proc/$p/environ" ] && tr '\\0' '\\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "FAKE_NVIDIA_SMI_DIR=$d" && ! grep -q '^[0-9]* (.*) Z' "/proc/$p/stat" 2>/dev/null; then n=$((n+1)); else rm -f "$f"; fi
done
echo "$n" >> "$d/concurrency.log"
exec /bin/sh '${FAKE_NVIDIA_SMI}' "$@"
`,
  );
  chmodSync(join(d, 'nvidia-smi'), 0o755);
  return d;
}

/** Most instances ever seen running at once. */
const maxConcurrency = (d: string): number =>
  existsSync(join(d, 'concurrency.log')) ? Math.max(...readFileSync(join(d, 'concurrency.log'), 'utf8').split('\n').filter(Boolean).map(Number)) : 0;

async function exporter(d: string, timeoutMs = TIMEOUT_MS, binary = join(d, 'nvidia-smi')): Promise<RunningExporter> {
  const e = await startExporter(
    [
      '--collector.timeout=1s',
      `--collector.nvidia.timeout=${timeoutMs}ms`,
      '--collector.nvidia',
      `--collector.nvidia.binary=${binary}`,
      // One-shot mode, whose per-scrape runs these rows count; loop mode's faults: test/collectors/nvidia/loop.test.ts.
      '--collector.nvidia.mode=once',
      '--no-collector.containers',
      '--no-collector.queues',
      '--no-collector.llamaswap',
      '--docker.host=unix:///nonexistent/docker.sock',
    ],
    { FAKE_NVIDIA_SMI_DIR: d },
  );
  exporters.push(e);
  return e;
}

const restoreGpu = (d: string): void => copyFileSync(join(NVIDIA_FIXTURES, 'gpu-4x-a100.csv'), join(d, 'gpu.csv'));

describe.concurrent('fault matrix: nvidia-smi (nvidia)', { timeout: 150_000 }, () => {
  it('nvidia-smi: missing', async () => {
    const d = fake();
    const link = join(d, 'bin-nvidia-smi');
    symlinkSync(join(d, 'nvidia-smi'), link);
    const e = await exporter(d, TIMEOUT_MS, link);
    const rep = await runFault({ exporter: e, collector: 'nvidia', timeoutMs: TIMEOUT_MS, inject: async () => unlinkSync(link), clear: async () => symlinkSync(join(d, 'nvidia-smi'), link) });
    console.log(describeReport('nvidia-smi: missing', rep));
    expect(rep.cause).toMatch(/ENOENT|not found|no such/i);
  });

  it('nvidia-smi: hangs', async () => {
    const d = fake();
    const e = await exporter(d, HANG_TIMEOUT_MS);
    // Same as below: the one guarded, still-hanging nvidia-smi may be alive when the snapshot scrape counts children.
    const rep = await runFault({ exporter: e, collector: 'nvidia', timeoutMs: HANG_TIMEOUT_MS, slack: { children: 1 }, inject: async () => writeFileSync(join(d, 'gpu.hang'), ''), clear: async () => clearFakeNvidiaModes(d) });
    console.log(describeReport('nvidia-smi: hangs', rep));
    expect(rep.cause).toMatch(/timed out|time-out|killed/i);
    expect(maxConcurrency(d)).toBe(1);
  });

  it('nvidia-smi: exits non-zero', async () => {
    const d = fake();
    const e = await exporter(d);
    const rep = await runFault({
      exporter: e,
      collector: 'nvidia',
      timeoutMs: TIMEOUT_MS,
      async inject() {
        writeFileSync(join(d, 'gpu.stderr'), 'Unable to determine the device handle for GPU0000:41:00.0: Unknown Error\n');
        writeFileSync(join(d, 'gpu.exit'), '15');
      },
      check: (m) => expect(m.get('silentwatch_gpu_memory_used_bytes')).toEqual([]),
      clear: async () => clearFakeNvidiaModes(d),
    });
    console.log(describeReport('nvidia-smi: exits non-zero', rep));
    expect(rep.cause).toMatch(/code 15: Unable to determine the device handle/);
  });

  it('nvidia-smi: garbage', async () => {
    const d = fake();
    const e = await exporter(d);
    const rep = await runFault({
      exporter: e,
      collector: 'nvidia',
      timeoutMs: TIMEOUT_MS,
      inject: async () => copyFileSync(join(NVIDIA_FIXTURES, 'gpu-binary-garbage.bin'), join(d, 'gpu.csv')),
      // Never a made-up 0 or NaN from garbage.
      check: (m) => expect(m.get('silentwatch_gpu_memory_used_bytes').filter((s) => !Number.isFinite(s.value))).toEqual([]),
      clear: async () => restoreGpu(d),
    });
    console.log(describeReport('nvidia-smi: garbage', rep));
  });

  it('nvidia-smi: partial output', async () => {
    const d = fake();
    const e = await exporter(d);
    const rep = await runFault({
      exporter: e,
      collector: 'nvidia',
      timeoutMs: TIMEOUT_MS,
      inject: async () => copyFileSync(join(NVIDIA_FIXTURES, 'gpu-truncated.csv'), join(d, 'gpu.csv')),
      // The complete first line is served; the cut one is not.
      check: (m) => expect(m.get('silentwatch_gpu_memory_used_bytes').map((s) => s.labels.gpu)).toEqual(['0']),
      clear: async () => restoreGpu(d),
    });
    console.log(describeReport('nvidia-smi: partial output', rep));
  });

  it('nvidia-smi: never more than one instance running', async () => {
    const d = fake();
    const e = await exporter(d, HANG_TIMEOUT_MS);
    const rep = await runFault({
      exporter: e,
      collector: 'nvidia',
      timeoutMs: HANG_TIMEOUT_MS,
      // The snapshot is itself a scrape: it may start the one allowed (guarded) nvidia-smi, still hanging when
      // children are counted. One is the design; a leak would show as ~100, and maxConcurrency below says 1.
      slack: { children: 1 },
      async inject() {
        writeFileSync(join(d, 'gpu.hang'), '');
        // Bursts of concurrent scrapes while nvidia-smi hangs.
        for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 10 }, () => fetch(`${e.url}/metrics`).then((r) => r.text())));
      },
      clear: async () => clearFakeNvidiaModes(d),
    });
    const starts = readFileSync(join(d, 'concurrency.log'), 'utf8').split('\n').filter(Boolean).length;
    console.log(describeReport('nvidia-smi: never more than one instance running', rep) + `; ${starts} nvidia-smi starts, at most ${maxConcurrency(d)} at once`);
    // Many scrapes met the hang and each started at most one nvidia-smi (fewer when one was still being killed:
    // on a loaded machine about half); a pile-up would show as maxConcurrency above 1.
    expect(starts).toBeGreaterThan(20);
    expect(maxConcurrency(d)).toBe(1);
  });

  it('/proc: a GPU process exiting mid-read', async () => {
    const d = fake();
    const uuid = 'GPU-1a9e4c1d-0b7f-4e55-8a13-2f6c9d0e7a10';
    const e = await exporter(d);
    let listed = 0;
    // Short-lived real processes listed by nvidia-smi: many have exited by the time /proc/<pid> is read.
    const churn = backgroundLoop(
      async () => {
        const kids = Array.from({ length: 4 }, () => spawn('sleep', ['0.03'], { stdio: 'ignore' }));
        writeFileSync(join(d, 'apps.csv'), kids.map((k, i) => `${uuid}, ${k.pid}, python${i}, ${100 + i}\n`).join(''));
        listed += kids.length;
        await Promise.all(kids.map((k) => new Promise((r) => k.once('exit', r))));
      },
      { everyMs: 10 },
    );
    const rep = await runFault({
      exporter: e,
      collector: 'nvidia',
      timeoutMs: TIMEOUT_MS,
      expectSuccess: 1,
      inject: () => churn.start(),
      check: (m) => expect(m.get('silentwatch_gpu_process_memory_bytes').length).toBeLessThanOrEqual(4),
      async clear() {
        await churn.stop();
        copyFileSync(join(NVIDIA_FIXTURES, 'apps-4x-a100.csv'), join(d, 'apps.csv'));
      },
    });
    console.log(describeReport('/proc: a GPU process exiting mid-read', rep) + `; ${listed} short-lived processes listed`);
  });
});
