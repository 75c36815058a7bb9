/**
 * The doctor's checks: pure functions from what the collectors measured (this scrape's samples), Docker's
 * read-only inspect data and the host mount table, to findings with evidence and the exact fix.
 * They encode the manual checklists of real incidents (OOM kills and memory limits, accelerated images without
 * their device, NFS hard mounts, MODEL_TTL=0 on a shared GPU, ML backends behind a balancer). One file per area
 * in checks/; a check refers to metrics through the collectors' definitions and to thresholds through
 * src/thresholds (the alert rules' values).
 */
import type { MountEntry } from '../collectors/mounts/parse-mountinfo.js';
import type { Sample } from '../metrics.js';
import type { Thresholds } from '../thresholds/index.js';
import type { Check } from './check-helpers.js';
import { accelImageWithoutDevice, mlMemoryLimit, oomRestarts, silentOomKills, unhealthy } from './checks/containers.js';
import { hostPid, lowVram, modelTtlZero } from './checks/gpu.js';
import { llamaswapServers } from './checks/llamaswap.js';
import { networkMounts } from './checks/mounts.js';
import { backends } from './checks/probes.js';
import { stuckQueues } from './checks/queues.js';

export type { MountEntry };

export type Severity = 'critical' | 'warning' | 'info';

export interface Finding {
  readonly check: string;
  readonly severity: Severity;
  /** What is wrong, in one line, naming the subject (container, queue, mount, GPU). */
  readonly title: string;
  /** The numbers and settings that show it. */
  readonly evidence: readonly string[];
  /** The exact change that fixes it. */
  readonly fix: string;
  readonly runbook?: string;
}

export interface Skipped {
  readonly check: string;
  readonly reason: string;
}

/** Read-only facts from `docker inspect` that the collectors do not export. */
export interface InspectedContainer {
  readonly name: string;
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
  /** Host paths of devices mapped in (HostConfig.Devices). */
  readonly devices: readonly string[];
  /** GPU requests (HostConfig.DeviceRequests with gpu capability, or the nvidia runtime). */
  readonly gpuRequested: boolean;
  readonly memoryLimitBytes: number;
}

export interface DoctorInput {
  readonly samples: readonly Sample[];
  /** undefined when Docker could not be reached. */
  readonly containers: readonly InspectedContainer[] | undefined;
  readonly mounts: readonly MountEntry[] | undefined;
  /** Whether the exporter sees the host PID namespace (per-process GPU attribution works). */
  readonly hostPidNamespace: boolean | undefined;
  /** Collectors that were active and their last error, to explain skipped checks. */
  readonly collectors: ReadonlyArray<{ name: string; status: string; reason: string; error?: string }>;
  /** The thresholds to compare with (the alert rules' values); the shipped defaults when absent. */
  readonly thresholds?: Thresholds;
}

export interface DoctorReport {
  readonly findings: readonly Finding[];
  readonly skipped: readonly Skipped[];
  readonly passed: readonly string[];
}

export { ML_MIN_MEMORY_BYTES, ML_RECOMMENDED_MEMORY } from './check-helpers.js';

export const CHECKS: ReadonlyArray<readonly [string, Check]> = [
  ['silent-oom-kills', silentOomKills],
  ['oom-restarts', oomRestarts],
  ['ml-memory-limit', mlMemoryLimit],
  ['model-ttl-zero', modelTtlZero],
  ['accel-device', accelImageWithoutDevice],
  ['stuck-queue', stuckQueues],
  ['network-mounts', networkMounts],
  ['low-vram', lowVram],
  ['host-pid', hostPid],
  ['ml-backend', backends],
  ['unhealthy-container', unhealthy],
  ['llamaswap', llamaswapServers],
];

export function diagnose(input: DoctorInput): DoctorReport {
  const findings: Finding[] = [];
  const skipped: Skipped[] = [];
  const passed: string[] = [];
  for (const [name, check] of CHECKS) {
    const before = findings.length;
    let skippedReason: string | undefined;
    check(input, { add: (f) => findings.push(f), skip: (reason) => (skippedReason = reason) });
    if (skippedReason !== undefined) skipped.push({ check: name, reason: skippedReason });
    else if (findings.length === before) passed.push(name);
  }
  const order: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  return { findings, skipped, passed };
}

export function exitCodeFor(report: DoctorReport): 0 | 1 | 2 {
  if (report.findings.some((f) => f.severity === 'critical')) return 2;
  if (report.findings.some((f) => f.severity === 'warning')) return 1;
  return 0;
}
