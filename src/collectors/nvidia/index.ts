/**
 * NVIDIA GPUs through nvidia-smi: memory and utilization per GPU, VRAM per process attributed to its
 * container/pod (the shared `silentwatch_gpu_process_memory_bytes` family), and the VRAM nobody visible
 * holds (`silentwatch_gpu_memory_unattributed_bytes`). nvidia-smi runs with a hard time-out, at most one at
 * a time: a wedged GPU makes it hang in the driver, and a pile of hung nvidia-smi is how exporters make it
 * worse.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../lib/async.js';
import { duration } from '../../lib/config-values.js';
import { gpuProcessMemory } from '../../lib/gpu-metrics.js';
import { hostPidBlindness } from '../../lib/identity/host-pid.js';
import { EMPTY_IDENTITY, type ProcessInfo } from '../../lib/identity/process-identity.js';
import { runCommand } from '../../lib/subprocess.js';
import { defineMetric, type SampleSink } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { IdentityCache } from './identity-cache.js';
import { NvidiaLoops, type AppsRead } from './loop-source.js';
import { APP_QUERY_FIELDS, GPU_QUERY_FIELDS, parseComputeApps, parseGpuQuery, processLabel, type AppRow, type GpuRow } from './parse-nvidia-smi.js';

const GPU_LABELS = ['vendor', 'gpu', 'uuid'] as const;

export const gpuInfo = defineMetric({
  name: 'silentwatch_gpu_info',
  type: 'gauge',
  help: 'Always 1: one series per GPU with its model name and driver version.',
  labels: ['vendor', 'gpu', 'uuid', 'name', 'driver_version'],
});
export const gpuMemoryTotal = defineMetric({
  name: 'silentwatch_gpu_memory_total_bytes',
  type: 'gauge',
  help: 'Total memory of the GPU (nvidia-smi memory.total), in bytes.',
  labels: GPU_LABELS,
});
export const gpuMemoryUsed = defineMetric({
  name: 'silentwatch_gpu_memory_used_bytes',
  type: 'gauge',
  help: 'GPU memory in use by all processes and the driver (nvidia-smi memory.used), in bytes.',
  labels: GPU_LABELS,
});
export const gpuMemoryFree = defineMetric({
  name: 'silentwatch_gpu_memory_free_bytes',
  type: 'gauge',
  help: 'GPU memory free for new allocations (nvidia-smi memory.free), in bytes. What a model load needs.',
  labels: GPU_LABELS,
});
export const gpuUtilization = defineMetric({
  name: 'silentwatch_gpu_utilization_ratio',
  type: 'gauge',
  help: 'Fraction of the last sample period in which a kernel ran on the GPU (nvidia-smi utilization.gpu / 100). Absent under MIG.',
  labels: GPU_LABELS,
});
export const gpuMemoryUnattributed = defineMetric({
  name: 'silentwatch_gpu_memory_unattributed_bytes',
  type: 'gauge',
  help: 'GPU memory used minus the sum over the compute processes nvidia-smi lists (clamped at 0), in bytes: graphics contexts, driver reserve, and processes the exporter cannot see (no host PID namespace).',
  labels: GPU_LABELS,
});

/** Used VRAM above which an empty process list is suspicious when the exporter cannot see host PIDs. */
export const BLIND_USED_BYTES = 256 * 1024 * 1024;
export const BLIND_MESSAGE = 'no host PID namespace: per-process attribution blind';

const options = z.object({
  binary: z.string().min(1).default('nvidia-smi').describe('nvidia-smi to run: a name looked up on PATH, or a path.'),
  command_timeout: duration()
    .prefault('4s')
    .describe('Time-out for both nvidia-smi calls together (in loop mode: for a sample to arrive); capped below the collector time-out. A hung nvidia-smi is killed, and no second one starts while it lives.'),
  mode: z
    .enum(['loop', 'once'])
    .default('loop')
    .describe('loop: two long-lived nvidia-smi sample every loop_interval and a scrape reads their newest output (no driver initialisation per scrape); once: two nvidia-smi runs per scrape.'),
  loop_interval: duration().prefault('1s').describe('In loop mode, how often nvidia-smi samples (its -lms). The data a scrape reads is at most about this old.'),
});

export interface NvidiaReading {
  readonly gpus: readonly GpuRow[];
  /** undefined when the compute-apps call failed (then no per-process or unattributed series). */
  readonly apps: readonly AppRow[] | undefined;
  readonly infos: ReadonlyMap<number, ProcessInfo>;
}

export interface WriteResult {
  readonly processes: number;
  readonly usedBytes: number;
  /** Some GPU uses VRAM while nvidia-smi lists no process at all. */
  readonly emptyListWhileUsed: boolean;
}

/**
 * Writes the samples of one reading (pure apart from the sink). Exported for the benchmark and tests.
 *
 * MIG: compute-apps reports the parent GPU's uuid, so a process on a MIG instance is attributed to its
 * parent GPU (gpu/uuid of the parent) and counted against the parent's memory.used. A process whose
 * gpu_uuid matches no GPU line (e.g. a driver that prints MIG-… uuids) keeps that uuid with gpu=''.
 */
export function writeSamples(sink: SampleSink, r: NvidiaReading): WriteResult {
  const byUuid = new Map(r.gpus.map((g) => [g.uuid, g]));
  let usedBytes = 0;
  for (const g of r.gpus) {
    const l = { vendor: 'nvidia', gpu: g.index, uuid: g.uuid };
    sink.set(gpuInfo, { ...l, name: g.name, driver_version: g.driverVersion }, 1);
    if (g.memoryTotalBytes !== undefined) sink.set(gpuMemoryTotal, l, g.memoryTotalBytes);
    if (g.memoryUsedBytes !== undefined) {
      sink.set(gpuMemoryUsed, l, g.memoryUsedBytes);
      usedBytes += g.memoryUsedBytes;
    }
    if (g.memoryFreeBytes !== undefined) sink.set(gpuMemoryFree, l, g.memoryFreeBytes);
    if (g.utilizationRatio !== undefined) sink.set(gpuUtilization, l, g.utilizationRatio);
  }
  if (r.apps === undefined) return { processes: 0, usedBytes, emptyListWhileUsed: false };

  // One series per (GPU, pid): a process on two MIG instances of one GPU is summed, not duplicated.
  const perProcess = new Map<string, { uuid: string; pid: number; name: string; bytes: number }>();
  /** Σ per GPU; undefined once one process on that GPU has no known memory (then the rest is unknown too). */
  const sums = new Map<string, number | undefined>();
  for (const a of r.apps) {
    if (a.usedBytes === undefined) {
      sums.set(a.gpuUuid, undefined);
      continue;
    }
    const key = `${a.gpuUuid}\u0000${a.pid}`;
    const prev = perProcess.get(key);
    if (prev) prev.bytes += a.usedBytes;
    else perProcess.set(key, { uuid: a.gpuUuid, pid: a.pid, name: a.processName, bytes: a.usedBytes });
    if (!sums.has(a.gpuUuid) || sums.get(a.gpuUuid) !== undefined) sums.set(a.gpuUuid, (sums.get(a.gpuUuid) ?? 0) + a.usedBytes);
  }
  for (const p of perProcess.values()) {
    const info = r.infos.get(p.pid);
    const gpu = byUuid.get(p.uuid);
    sink.set(
      gpuProcessMemory,
      {
        vendor: 'nvidia',
        driver: 'nvidia',
        gpu: gpu?.index ?? '',
        uuid: p.uuid,
        device: '',
        region: 'vram',
        pid: String(p.pid),
        process: processLabel(p.name) || info?.comm || '',
        ...(info?.labels ?? EMPTY_IDENTITY),
      },
      p.bytes,
    );
  }
  let emptyListWhileUsed = false;
  for (const g of r.gpus) {
    if (g.memoryUsedBytes === undefined) continue;
    const listed = r.apps.some((a) => a.gpuUuid === g.uuid);
    if (!listed && g.memoryUsedBytes >= BLIND_USED_BYTES) emptyListWhileUsed = true;
    const sum = listed ? sums.get(g.uuid) : 0;
    if (sum === undefined) continue;
    sink.set(gpuMemoryUnattributed, { vendor: 'nvidia', gpu: g.index, uuid: g.uuid }, Math.max(0, g.memoryUsedBytes - sum));
  }
  return { processes: perProcess.size, usedBytes, emptyListWhileUsed };
}

/** Partial data: success 0 with the first few reasons (a GPU gone bad can produce dozens). */
function degradeWith(sink: SampleSink, what: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  const more = problems.length > 3 ? ` (+${problems.length - 3} more)` : '';
  sink.degraded(`${what}: ${problems.slice(0, 3).join('; ')}${more}`);
}

/** `f` remembering its last argument and result (results are read-only to their users). */
function lastOf<R>(f: (text: string) => R): (text: string) => R {
  let last: { text: string; result: R } | undefined;
  return (text) => {
    if (last?.text !== text) last = { text, result: f(text) };
    return last.result;
  };
}

/** Finds an executable: a path as given, or a bare name on PATH. Never throws. */
export async function findExecutable(binary: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = binary.includes('/') ? [binary] : pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, binary));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const nvidiaCollector = defineCollector({
  name: 'nvidia',
  description: 'NVIDIA GPU memory per GPU and per process (attributed to container/pod) and unattributed VRAM, via nvidia-smi.',
  defaultEnabled: 'auto',
  options,
  metrics: [gpuInfo, gpuMemoryTotal, gpuMemoryUsed, gpuMemoryFree, gpuUtilization, gpuProcessMemory, gpuMemoryUnattributed],
  async detect(ctx) {
    const found = await findExecutable(ctx.options.binary);
    return found ? { present: true, reason: `${found} found` } : { present: false, reason: `${ctx.options.binary} not found (no NVIDIA driver tools on this host)` };
  },
  create(ctx) {
    // Leave the runner room to report the failure itself: both calls together stay under its time-out.
    const budgetMs = Math.max(100, Math.min(ctx.options.command_timeout, ctx.timeoutSeconds * 0.8) * 1000);
    const key = `nvidia-smi:${ctx.options.binary}`;
    const facts: Record<string, string> = { binary: ctx.options.binary, 'command time-out': `${budgetMs / 1000}s` };
    let blindLogged = false;
    const identities = new IdentityCache(ctx.shared.identity);

    const gpuArgs = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
    const appsArgs = [`--query-compute-apps=${APP_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
    const loops = ctx.options.mode === 'loop' ? new NvidiaLoops(ctx.options.binary, gpuArgs, appsArgs, ctx.options.loop_interval * 1000) : undefined;
    facts.mode = loops ? `loop, one sample every ${ctx.options.loop_interval}s` : 'once per scrape';

    const smi = async (args: string[], deadline: number, signal: AbortSignal): Promise<string> => {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nvidia-smi: no time left of the ${budgetMs / 1000}s command time-out`);
      const r = await runCommand(ctx.options.binary, args, { timeoutMs: left, signal, singleInstanceKey: key, maxOutputBytes: 4 * 1024 * 1024 });
      return r.stdout;
    };

    /** The two outputs: from the loops' newest samples, or from two runs (the process list only once the GPU list is usable). */
    const read = async (deadline: number, signal: AbortSignal): Promise<{ gpuText: string; apps: () => Promise<AppsRead> }> => {
      if (loops) {
        const r = await loops.read(deadline, signal);
        facts['nvidia-smi starts'] = String(loops.starts);
        return { gpuText: r.gpuText, apps: async () => r.apps };
      }
      const gpuText = await smi(gpuArgs, deadline, signal);
      return {
        gpuText,
        apps: async () => {
          try {
            return { text: await smi(appsArgs, deadline, signal) };
          } catch (e) {
            if (signal.aborted) throw e;
            return { error: errorMessage(e) };
          }
        },
      };
    };

    // In loop mode most scrapes read the same sample as the one before (it changes once per loop_interval):
    // its parse is reused, not redone.
    const parseGpus = lastOf(parseGpuQuery);
    const parseApps = lastOf(parseComputeApps);

    return {
      close: () => loops?.close(),
      async collect(sink, run) {
        const deadline = Date.now() + budgetMs;
        const texts = await read(deadline, run.signal);
        const gpus = parseGpus(texts.gpuText);
        if (gpus.rows.length === 0) {
          throw new Error(gpus.problems.length > 0 ? `nvidia-smi --query-gpu: no usable GPU line (${gpus.problems[0]})` : 'nvidia-smi --query-gpu: no GPU listed');
        }
        degradeWith(sink, 'nvidia-smi --query-gpu', gpus.problems);

        let apps: AppRow[] | undefined;
        const appsRead = await texts.apps();
        if ('text' in appsRead) {
          const parsed = parseApps(appsRead.text);
          apps = parsed.rows;
          degradeWith(sink, 'nvidia-smi --query-compute-apps', parsed.problems);
        } else {
          sink.degraded(`per-process list unavailable: ${appsRead.error}`);
        }
        const infos = await identities.resolve(apps ?? []);
        const res = writeSamples(sink, { gpus: gpus.rows, apps, infos });

        facts.GPUs = gpus.rows.map((g) => `${g.index}: ${g.name}`).join('; ');
        facts.processes = String(res.processes);
        if (res.emptyListWhileUsed) {
          const why = await hostPidBlindness(ctx.paths);
          if (why !== undefined) {
            facts.attribution = `${BLIND_MESSAGE} (${why}); run with pid: host / hostPID: true`;
            if (!blindLogged) {
              ctx.log.warn({ collector: ctx.name, reason: why }, BLIND_MESSAGE);
              blindLogged = true;
            }
          } else {
            facts.attribution = 'VRAM in use but nvidia-smi lists no compute process (graphics contexts or driver reserve)';
          }
        } else {
          facts.attribution = apps === undefined ? 'per-process list unavailable' : 'per process';
          blindLogged = false;
        }
      },
      describe: () => ({ ...facts }),
    };
  },
});
