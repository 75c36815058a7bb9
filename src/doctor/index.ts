/**
 * `silentwatch doctor`: one collection through the same collectors as the exporter (no second
 * implementation of any probe), plus read-only Docker inspect and the host mount table, turned into
 * findings with evidence and the fix. Exit code 0 fine, 1 warnings, 2 critical.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { ALL_COLLECTORS } from '../collectors/index.js';
import type { AnyCollector } from '../collectors/types.js';
import { createRunner, createSharedServices } from '../app.js';
import type { Config } from '../config.js';
import { hostPidBlindness } from '../lib/identity/host-pid.js';
import type { Logger } from '../logger.js';
import { diagnose, type DoctorReport, type InspectedContainer, type MountEntry } from './findings.js';
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

export async function runDoctor(config: Config, log: Logger, collectors: readonly AnyCollector[] = ALL_COLLECTORS): Promise<DoctorReport> {
  const shared = createSharedServices(config);
  const runner = createRunner(config, log, collectors, shared);
  try {
    await runner.start();
    const result = await runner.collect();
    const containers = await inspectContainers(shared.docker()).catch(() => undefined);
    return diagnose({
      samples: result.samples,
      containers,
      mounts: await hostMounts(config.path.procfs),
      hostPidNamespace: (await hostPidBlindness(config.path)) === undefined,
      collectors: runner.states().map((s) => ({ name: s.name, status: s.status, reason: s.reason, ...(s.last?.error ? { error: s.last.error } : {}) })),
    });
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
