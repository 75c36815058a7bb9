/**
 * Per-process GPU memory and engine time for DRM GPUs (Intel i915/xe iGPUs and dGPUs, AMD amdgpu, and any
 * driver that prints DRM usage stats) from /proc/<pid>/fdinfo/<fd>. Read-only; needs no GPU tool and no
 * privileged container, only a view of the processes (root or CAP_SYS_PTRACE and the host PID namespace to
 * see every process).
 */
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { integer } from '../../lib/config-values.js';
import { gpuProcessMemory } from '../../lib/gpu-metrics.js';
import { IDENTITY_LABELS, type IdentityLabels } from '../../lib/identity/process-identity.js';
import { defineMetric } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { normalisePciAddress, vendorName } from './parse-fdinfo.js';
import { ScanMemory } from './scan-memory.js';
import { scanDrmFds, type DrmFd, type ScanResult } from './scan.js';

const engineBusy = defineMetric({
  name: 'silentwatch_gpu_process_engine_busy_seconds_total',
  type: 'counter',
  help: 'Time the GPU engine spent busy on work of this process (DRM fdinfo drm-engine-<engine>), in seconds; rate() gives the busy ratio of the engine for the process.',
  labels: ['vendor', 'driver', 'device', 'engine', 'pid', 'process', ...IDENTITY_LABELS],
});
const deviceResident = defineMetric({
  name: 'silentwatch_gpu_drm_memory_resident_bytes',
  type: 'gauge',
  help: 'Resident GPU memory of all visible DRM clients of the device, per memory region, in bytes (sum of fdinfo drm-resident-<region> over distinct clients).',
  labels: ['vendor', 'driver', 'device', 'region'],
});
const deviceClients = defineMetric({
  name: 'silentwatch_gpu_drm_clients',
  type: 'gauge',
  help: 'Distinct DRM clients (open GPU contexts, deduplicated by drm-client-id) the exporter can see on the device; 0 for a device nobody has open.',
  labels: ['vendor', 'driver', 'device'],
});
const processesVisible = defineMetric({
  name: 'silentwatch_gpu_drm_processes_visible_ratio',
  type: 'gauge',
  help: "Share of the host's processes whose open files the exporter could inspect (1 = all; lower means per-process GPU figures are incomplete: not root or no host PID namespace).",
});

interface DeviceInfo {
  readonly vendor: string;
  readonly driver: string;
  readonly device: string;
}

/** Collapsed per-client view: one DRM client seen through one or more fds/processes. */
interface Client {
  readonly key: string;
  readonly pid: number;
  readonly dev: DeviceInfo;
  readonly fd: DrmFd;
}

export const drmCollector = defineCollector({
  name: 'drm',
  description: 'Per-process GPU memory and engine time of Intel (i915/xe), AMD (amdgpu) and other DRM GPUs, from /proc/<pid>/fdinfo.',
  defaultEnabled: 'auto',
  options: z.object({
    concurrency: integer(1, 256).default(16).describe('How many processes (and fdinfo files) are read at the same time while scanning /proc.'),
    max_fds: integer(1, 10_000_000)
      .default(200_000)
      .describe('Upper bound on open file descriptors looked at per scrape; beyond it the scan stops and the collector reports degraded data.'),
    revisit_every: integer(1, 1000)
      .default(4)
      .describe('A process found without DRM files is looked at again every this many scrapes (staggered by PID), then only its new fd numbers, and all of them every 10th time: a process that opens a GPU later is seen within this many scrapes (10 times as many if the device gets an fd number that was already open at the last look).'),
  }),
  metrics: [gpuProcessMemory, engineBusy, deviceResident, deviceClients, processesVisible],

  async detect(ctx) {
    const nodes = await readdir(join(ctx.paths.sysfs, 'class', 'drm')).catch(() => [] as string[]);
    const gpus = nodes.filter((n) => /^(?:card|renderD)\d+$/.test(n));
    return gpus.length > 0
      ? { present: true, reason: `DRM devices in ${join(ctx.paths.sysfs, 'class', 'drm')}: ${gpus.join(', ')}` }
      : { present: false, reason: `no DRM device (card*/renderD*) in ${join(ctx.paths.sysfs, 'class', 'drm')}` };
  },

  create(ctx) {
    const sysfs = ctx.paths.sysfs;
    const vendorCache = new Map<string, string | undefined>();
    let lastScan: ScanResult | undefined;
    const scanMemory = new ScanMemory(ctx.options.revisit_every);
    let lastDevices = 0;
    let lastError: string | undefined;

    /**
     * Engine counters. The kernel's per-client drm-engine-* value is monotonic while the client lives, but
     * a process's figure (the sum over its clients) falls when one of its clients closes, and some driver
     * versions have let a client's own value step back (i915 folding closed contexts). Prometheus would
     * read either as a counter reset and rate() would spike. So each series keeps, per client, the highest
     * raw value seen, and an offset holding the final values of clients that have gone: value = offset +
     * sum of live clients' maxima, which never decreases. When the series itself disappears (the process
     * exited or closed its last client) its state is dropped: a later series with the same labels starts
     * over, which Prometheus handles as a new series after staleness.
     */
    const engineState = new Map<string, { offset: number; clients: Map<string, number> }>();

    async function pciVendor(pdev: string): Promise<string | undefined> {
      if (!vendorCache.has(pdev)) {
        const id = await readFile(join(sysfs, 'bus', 'pci', 'devices', pdev, 'vendor'), 'utf8').catch(() => undefined);
        if (vendorCache.size > 256) vendorCache.clear();
        vendorCache.set(pdev, id === undefined ? undefined : vendorName(id));
      }
      return vendorCache.get(pdev);
    }

    /** Device label for a client without drm-pdev (msm, panfrost…): the sysfs device name behind its node. */
    async function nodeDevice(node: string): Promise<string> {
      const real = await realpath(join(sysfs, 'class', 'drm', basename(node), 'device')).catch(() => undefined);
      return real ? basename(real) : basename(node);
    }

    /** DRM devices sysfs lists (so an idle GPU reports 0 clients), keyed by device label. */
    async function sysfsDevices(): Promise<Map<string, DeviceInfo>> {
      const out = new Map<string, DeviceInfo>();
      const nodes = await readdir(join(sysfs, 'class', 'drm')).catch(() => [] as string[]);
      await Promise.all(
        nodes
          .filter((n) => /^card\d+$/.test(n))
          .map(async (n) => {
            const devPath = join(sysfs, 'class', 'drm', n, 'device');
            const [real, driverLink] = await Promise.all([realpath(devPath).catch(() => undefined), readlink(join(devPath, 'driver')).catch(() => undefined)]);
            if (!real || !driverLink) return;
            const pdev = normalisePciAddress(basename(real));
            const driver = basename(driverLink);
            const device = pdev ?? basename(real);
            const vendor = (pdev && (await pciVendor(pdev))) || driver;
            out.set(device, { vendor, driver, device });
          }),
      );
      return out;
    }

    return {
      async collect(sink, run) {
        lastError = undefined;
        const scan = await scanDrmFds(ctx.paths.procfs, { concurrency: ctx.options.concurrency, maxFds: ctx.options.max_fds, signal: run.signal, memory: scanMemory });
        lastScan = scan;
        const devices = await sysfsDevices();

        // Dedupe: one client = (device, drm-client-id); fds without a client id cannot be merged.
        // A client shared by several processes (fork, fd passing) is attributed to the lowest PID, so its
        // memory is counted once.
        const clients = new Map<string, Client>();
        for (const f of scan.fds) {
          const s = f.stats;
          const device = s.pdev ?? (await nodeDevice(f.node));
          const known = devices.get(device);
          const vendor = known?.vendor ?? ((s.pdev && (await pciVendor(s.pdev))) || s.driver);
          const dev: DeviceInfo = { vendor, driver: s.driver, device };
          const key = s.clientId !== undefined ? `${device}|${s.driver}|${s.clientId}` : `${device}|${s.driver}|pid${f.pid}|fd${f.fd}`;
          const prev = clients.get(key);
          if (!prev || f.pid < prev.pid) clients.set(key, { key, pid: f.pid, dev, fd: f });
        }

        const pids = [...new Set([...clients.values()].map((c) => c.pid))];
        const identities = await ctx.shared.identity.resolve(pids);
        run.signal.throwIfAborted();

        const memory = new Map<string, { labels: Record<string, string>; value: number }>();
        const perDevice = new Map<string, { dev: DeviceInfo; clients: number; regions: Map<string, number> }>();
        for (const d of devices.values()) perDevice.set(`${d.device}|${d.driver}`, { dev: d, clients: 0, regions: new Map() });
        const engineNow = new Map<string, { labels: Record<string, string>; clients: Map<string, number> }>();

        for (const c of clients.values()) {
          const info = identities.get(c.pid);
          const ident: IdentityLabels = info?.labels ?? { container: '', id: '', image: '', compose_project: '', compose_service: '', pod: '', namespace: '' };
          const proc = { pid: String(c.pid), process: info?.comm ?? '', ...ident };
          const devKey = `${c.dev.device}|${c.dev.driver}`;
          let pd = perDevice.get(devKey);
          if (!pd) perDevice.set(devKey, (pd = { dev: c.dev, clients: 0, regions: new Map() }));
          pd.clients++;
          for (const [region, bytes] of c.fd.stats.resident) {
            pd.regions.set(region, (pd.regions.get(region) ?? 0) + bytes);
            const labels = { vendor: c.dev.vendor, driver: c.dev.driver, gpu: '', uuid: '', device: c.dev.device, region, ...proc };
            const k = JSON.stringify(labels);
            const m = memory.get(k);
            if (m) m.value += bytes;
            else memory.set(k, { labels, value: bytes });
          }
          for (const [engine, ns] of c.fd.stats.engineNs) {
            const labels = { vendor: c.dev.vendor, driver: c.dev.driver, device: c.dev.device, engine, ...proc };
            const k = JSON.stringify(labels);
            let e = engineNow.get(k);
            if (!e) engineNow.set(k, (e = { labels, clients: new Map() }));
            e.clients.set(c.key, ns / 1e9);
          }
        }

        for (const { labels, value } of memory.values()) sink.set(gpuProcessMemory, labels as never, value);
        for (const { dev, clients: n, regions } of perDevice.values()) {
          sink.set(deviceClients, { vendor: dev.vendor, driver: dev.driver, device: dev.device }, n);
          for (const [region, bytes] of regions) sink.set(deviceResident, { vendor: dev.vendor, driver: dev.driver, device: dev.device, region }, bytes);
        }

        for (const [k, now] of engineNow) {
          let st = engineState.get(k);
          if (!st) engineState.set(k, (st = { offset: 0, clients: new Map() }));
          for (const [clientKey, prevMax] of st.clients) if (!now.clients.has(clientKey)) st.offset += prevMax; // client closed: keep its time
          const next = new Map<string, number>();
          for (const [clientKey, secs] of now.clients) next.set(clientKey, Math.max(secs, st.clients.get(clientKey) ?? 0));
          st.clients = next;
          let value = st.offset;
          for (const v of next.values()) value += v;
          sink.set(engineBusy, now.labels as never, value);
        }
        for (const k of engineState.keys()) if (!engineNow.has(k)) engineState.delete(k);

        const visible = scan.processes - scan.deniedProcesses - scan.vanishedProcesses;
        const considered = scan.processes - scan.vanishedProcesses;
        if (considered > 0) sink.set(processesVisible, {}, visible / considered);
        lastDevices = perDevice.size;
        if (scan.truncated) {
          lastError = `stopped after ${scan.fdsScanned} file descriptors (max_fds): per-process GPU figures are incomplete`;
          sink.degraded(lastError);
        }
      },

      describe() {
        if (!lastScan) return { scan: 'not run yet' };
        const s = lastScan;
        const considered = s.processes - s.vanishedProcesses;
        const visible = considered - s.deniedProcesses;
        const out: Record<string, string> = {
          processes:
            s.deniedProcesses > 0
              ? `can see ${visible} of ${considered} processes: not root / no CAP_SYS_PTRACE / no host PID namespace`
              : `can see all ${considered} processes`,
          'DRM fds': `${s.fds.length} (of ${s.fdsScanned} fds scanned), ${lastDevices} device(s)`,
        };
        if (s.unreadableFdinfo > 0) out['unreadable fdinfo'] = String(s.unreadableFdinfo);
        if (s.skippedValues > 0) out['skipped values'] = `${s.skippedValues} malformed fdinfo values ignored`;
        if (lastError) out.problem = lastError;
        return out;
      },
    };
  },
});
