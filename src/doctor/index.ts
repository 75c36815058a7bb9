/**
 * `silentwatch doctor`: one collection through the same collectors as the exporter (no second
 * implementation of any probe), plus read-only Docker inspect and the host mount table, turned into
 * findings with evidence and the fix. Exit code 0 fine, 1 warnings, 2 critical.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { ALL_COLLECTORS } from '../collectors/index.js';
import type { AnyCollector, HostPaths, SharedServices } from '../collectors/types.js';
import { createRunner, createSharedServices } from '../app.js';
import type { Config } from '../config.js';
import { hostPidBlindness } from '../lib/identity/host-pid.js';
import type { Logger } from '../logger.js';
import type { Sample } from '../metrics.js';
import type { CollectorState } from '../runner.js';
import { loadThresholdsFile, type Thresholds } from '../thresholds/index.js';
import { diagnose, exitCodeFor, type DoctorReport, type InspectedContainer, type MountEntry } from './findings.js';
import { parseMountinfo } from '../collectors/mounts/parse-mountinfo.js';

async function inspectContainers(docker: Docker): Promise<InspectedContainer[]> {
  const list = await docker.listContainers({ all: false });
  return Promise.all(
    list.map(async (c) => {
      const i = await docker.getContainer(c.Id).inspect();
      const env = Object.fromEntries((i.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      const hc = i.HostConfig as { Devices?: Array<{ PathOnHost?: string }>; DeviceRequests?: Array<{ Capabilities?: string[][] }>; Runtime?: string; Memory?: number };
      return {
        name: i.Name.replace(/^\//, ''),
        image: i.Config.Image,
        env,
        devices: (hc.Devices ?? []).map((d) => d.PathOnHost ?? '').filter(Boolean),
        gpuRequested: hc.Runtime === 'nvidia' || (hc.DeviceRequests ?? []).some((r) => (r.Capabilities ?? []).flat().includes('gpu')),
        memoryLimitBytes: hc.Memory ?? 0,
      };
    }),
  );
}

async function hostMounts(procfs: string): Promise<MountEntry[] | undefined> {
  for (const f of [join(procfs, '1', 'mountinfo'), join(procfs, 'self', 'mountinfo')]) {
    try {
      return parseMountinfo(await readFile(f, 'utf8'));
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Read-only facts beside the collection that the checks need: Docker inspect, the mount table, the PID namespace. */
export interface HostFacts {
  readonly containers: readonly InspectedContainer[] | undefined;
  readonly mounts: readonly MountEntry[] | undefined;
  readonly hostPidNamespace: boolean | undefined;
}

/**
 * One look at the host facts (a Docker inspect per running container, two small /proc reads). `docker: false`
 * skips Docker (the exporter passes it when its containers collector found no Docker, so that a host without
 * Docker never loads the Docker client for the status page).
 */
export async function gatherHostFacts(paths: HostPaths, shared: SharedServices, opts: { docker?: boolean } = {}): Promise<HostFacts> {
  const [containers, mounts, blind] = await Promise.all([
    opts.docker === false ? undefined : inspectContainers(shared.docker()).catch(() => undefined),
    hostMounts(paths.procfs),
    hostPidBlindness(paths),
  ]);
  return { containers, mounts, hostPidNamespace: blind === undefined };
}

/** The findings for one collection the exporter already made: pure, no probe of its own. `thresholds`: the shipped ones when absent. */
export function diagnoseCollection(samples: readonly Sample[], states: readonly CollectorState[], facts: HostFacts, thresholds?: Thresholds): DoctorReport {
  return diagnose({
    samples,
    ...facts,
    collectors: states.map((s) => ({ name: s.name, status: s.status, reason: s.reason, ...(s.last?.error ? { error: s.last.error } : {}) })),
    ...(thresholds ? { thresholds } : {}),
  });
}

/** What `doctor --json` prints and `GET /api/v1/findings` answers. */
export function reportJson(report: DoctorReport): { exit_code: 0 | 1 | 2 } & DoctorReport {
  return { exit_code: exitCodeFor(report), ...report };
}

export async function runDoctor(config: Config, log: Logger, collectors: readonly AnyCollector[] = ALL_COLLECTORS): Promise<DoctorReport> {
  const shared = createSharedServices(config);
  const runner = createRunner(config, log, collectors, shared);
  try {
    await runner.start();
    const result = await runner.collect();
    const thresholds = config.thresholds.file ? loadThresholdsFile(config.thresholds.file) : undefined;
    return diagnoseCollection(result.samples, runner.states(), await gatherHostFacts(config.path, shared), thresholds);
  } finally {
    await runner.close();
  }
}

export function formatText(report: DoctorReport): string {
  const count = (sev: string): number => report.findings.filter((f) => f.severity === sev).length;
  const lines = [
    `silentwatch doctor: ${count('critical')} critical, ${count('warning')} warning, ${count('info')} info; ${report.passed.length} checks passed, ${report.skipped.length} skipped`,
    '',
  ];
  for (const f of report.findings) {
    lines.push(`${f.severity.toUpperCase().padEnd(9)} ${f.title}`);
    f.evidence.forEach((e, i) => lines.push(`${' '.repeat(10)}${i === 0 ? 'evidence: ' : '          '}${e}`));
    lines.push(`${' '.repeat(10)}fix:      ${f.fix}`);
    if (f.runbook) lines.push(`${' '.repeat(10)}runbook:  ${f.runbook}`);
    lines.push('');
  }
  for (const s of report.skipped) lines.push(`SKIPPED   ${s.check}: ${s.reason}`);
  if (report.passed.length) lines.push(`PASSED    ${report.passed.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
