/**
 * Deployment files: compose and Kubernetes manifests parse and carry what silentwatch needs (host PID,
 * read-only host paths and Docker socket, health checks), their silentwatch flags are accepted by the
 * real config loader, the PrometheusRule equals rules/, and promtool/amtool accept the example configs.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ALL_COLLECTORS } from '../../src/collectors/index.js';
import { loadConfig } from '../../src/config.js';
import { prometheusRuleYaml, ruleGroups } from '../../scripts/lib/prometheusrule.js';
import { REPO_ROOT } from '../helpers/exporter.js';

const run = promisify(execFile);
const read = (p: string): string => readFileSync(`${REPO_ROOT}${p}`, 'utf8');
// Compose's `!override` tag is compose-specific YAML: parse it as the plain value it decorates.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const yaml = (p: string): any => parse(read(p), { logLevel: 'error' });

/** Flags and SILENTWATCH_* env of a manifest must be accepted by the exporter itself. */
function expectValidSilentwatchConfig(args: string[], env: Record<string, string>): void {
  expect(() => loadConfig({ argv: args, env, collectors: ALL_COLLECTORS })).not.toThrow();
}

describe('docker compose', () => {
  const compose = yaml('deploy/compose/docker-compose.yml');
  const sw = compose.services.silentwatch;

  it('runs with host PID, read-only host paths and Docker socket, a health check and a read-only root', () => {
    expect(sw.pid).toBe('host');
    expect(sw.read_only).toBe(true);
    expect(sw.volumes).toEqual(expect.arrayContaining(['/proc:/host/proc:ro', '/sys:/host/sys:ro', '/var/run/docker.sock:/var/run/docker.sock:ro']));
    for (const v of sw.volumes as string[]) expect(v, `${v} must be read-only`).toMatch(/:ro(,|$)/);
    expect(sw.healthcheck.test.join(' ')).toContain('/healthz');
    expect(sw.ports).toContain('10290:10290');
    expect(sw.cap_drop).toEqual(['ALL']);
  });

  it("its flags and env are accepted by silentwatch's own config loader", () => {
    expectValidSilentwatchConfig(sw.command, sw.environment);
    const proxy = yaml('deploy/compose/docker-compose.socket-proxy.yml');
    expectValidSilentwatchConfig(proxy.services.silentwatch.command, {});
    expect(proxy.services['docker-socket-proxy'].environment).toMatchObject({ CONTAINERS: 1, POST: 0 });
  });

  it('the full stack wires Prometheus, Alertmanager and Grafana to the repo rules and dashboards', () => {
    const full = yaml('deploy/compose/full-stack/docker-compose.yml');
    expect(Object.keys(full.services).sort()).toEqual(['alertmanager', 'grafana', 'prometheus', 'silentwatch']);
    expect(full.services.prometheus.volumes).toContain('../../../rules:/etc/prometheus/rules:ro');
    expect(full.services.grafana.volumes).toContain('../../../grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(full.services.silentwatch.extends).toEqual({ file: '../docker-compose.yml', service: 'silentwatch' });
  });

  it('promtool check config accepts the example Prometheus config', async () => {
    // promtool resolves rule_files: point the glob at the repo's rules/ for the check.
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/silentwatch-promcfg-');
    try {
      const cfg = read('deploy/compose/full-stack/prometheus.yml').replace('/etc/prometheus/rules/*.yml', `${REPO_ROOT}rules/*.yml`);
      writeFileSync(`${dir}/prometheus.yml`, cfg);
      const { stdout } = await run('promtool', ['check', 'config', `${dir}/prometheus.yml`]);
      expect(stdout).toMatch(/SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('amtool check-config accepts the example Alertmanager config', async () => {
    const { stdout } = await run('amtool', ['check-config', `${REPO_ROOT}deploy/compose/full-stack/alertmanager.yml`]);
    expect(stdout).toMatch(/SUCCESS/);
  });
});

describe('kubernetes', () => {
  const docs = readdirSync(`${REPO_ROOT}deploy/kubernetes`)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(read(`deploy/kubernetes/${f}`)).map((d) => ({ file: f, doc: d.toJS() })));
  const byKind = (kind: string) => docs.find((d) => d.doc?.kind === kind)?.doc;

  it('every manifest has apiVersion, kind and metadata.name; kustomization lists them all', () => {
    const kust = yaml('deploy/kubernetes/kustomization.yaml');
    for (const { file, doc } of docs.filter((d) => d.file !== 'kustomization.yaml')) {
      expect(doc.apiVersion, file).toBeTruthy();
      expect(doc.kind, file).toBeTruthy();
      expect(doc.metadata?.name, file).toBe('silentwatch');
      expect(kust.resources).toContain(file);
    }
  });

  it('DaemonSet: host PID, read-only host mounts, GPU tolerations, limits, probes, no API token', () => {
    const ds = byKind('DaemonSet');
    const pod = ds.spec.template.spec;
    expect(pod.hostPID).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.tolerations.map((t: { key: string }) => t.key)).toContain('nvidia.com/gpu');
    const c = pod.containers[0];
    for (const m of c.volumeMounts.filter((v: { name: string }) => v.name !== 'tmp')) expect(m.readOnly, m.name).toBe(true);
    expect(c.resources.limits.memory).toBeTruthy();
    expect(c.resources.requests.cpu).toBeTruthy();
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.readinessProbe.httpGet.path).toBe('/healthz');
    expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
    expectValidSilentwatchConfig(c.args, Object.fromEntries(c.env.filter((e: { name: string }) => e.name.startsWith('SILENTWATCH_')).map((e: { name: string; value: string }) => [e.name, e.value])));
  });

  it('Service and ServiceMonitor select the DaemonSet pods on the metrics port', () => {
    const svc = byKind('Service');
    const sm = byKind('ServiceMonitor');
    expect(svc.spec.selector).toEqual(byKind('DaemonSet').spec.template.metadata.labels);
    expect(svc.spec.ports[0].port).toBe(10290);
    expect(sm.spec.endpoints[0].port).toBe(svc.spec.ports[0].name);
    expect(sm.spec.selector.matchLabels).toEqual(svc.metadata.labels);
  });

  it('PrometheusRule equals the rules in rules/ (npm run generate)', () => {
    expect(read('deploy/kubernetes/prometheusrule.yaml')).toBe(prometheusRuleYaml(`${REPO_ROOT}rules`));
    expect(byKind('PrometheusRule').spec.groups).toEqual(ruleGroups(`${REPO_ROOT}rules`));
  });
});
