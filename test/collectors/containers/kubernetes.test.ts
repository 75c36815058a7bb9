/**
 * The containers collector on Kubernetes nodes without Docker (containerd, CRI-O), in the real exporter: the node
 * layouts of test/fixtures/identity/kubelet-nodes/ made real under --path.sysfs, --path.rootfs and --path.procfs.
 * Every container series names its namespace, pod and container; the pod cgroup's OOM counter is served; a GPU
 * process (fake nvidia-smi) in a pod carries the pod's name. Then a real Prometheus scrapes the exporter with
 * target labels pod/namespace/container (what the Prometheus Operator's ServiceMonitor attaches): with
 * honor_labels the exporter's labels arrive unchanged; without, they are renamed exported_*.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasCommand, removeDir } from '../../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { FAKE_NVIDIA_SMI, fakeNvidiaSmiDir } from '../../helpers/nvidia.js';
import { startPrometheus, type RunningPrometheus } from '../../helpers/prometheus.js';
import { materialiseNode, type MaterialisedNode } from './kubelet-node.js';

const UUID = 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21';
const MiB = 1024 * 1024;

describe('Kubernetes nodes without Docker, in the exporter', () => {
  const nodes: MaterialisedNode[] = [];
  const exporters: RunningExporter[] = [];
  let nvidiaDir = '';
  let v2: RunningExporter;
  let v2node: MaterialisedNode;
  beforeAll(async () => {
    v2node = materialiseNode('containerd-systemd-v2');
    nodes.push(v2node);
    const gpuPid = v2node.layout.procs[0]?.pid as number;
    nvidiaDir = fakeNvidiaSmiDir('gpu-t4-seed002.csv', { text: `${UUID}, ${gpuPid}, /opt/venv/bin/python3, 10726\n` }, 'nvidia-k8s');
    v2 = await startExporter(
      [
        '--no-collector.host',
        '--collector.containers',
        '--collector.containers.docker=false',
        `--collector.nvidia.binary=${FAKE_NVIDIA_SMI}`,
        `--path.sysfs=${v2node.sysfs}`,
        `--path.rootfs=${v2node.rootfs}`,
        `--path.procfs=${v2node.procfs}`,
        '--docker.host=unix:///nonexistent/docker.sock',
      ],
      { FAKE_NVIDIA_SMI_DIR: nvidiaDir },
    );
    exporters.push(v2);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(exporters.map((e) => e.stop()));
    for (const n of nodes) removeDir(n.dir);
    if (nvidiaDir) removeDir(nvidiaDir);
  });

  it('containerd, systemd driver, cgroup v2: names, pod OOM counter, memory.events, peak, pressure, oom.group', async () => {
    const m = await v2.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(1);
    for (const c of v2node.layout.containers) {
      const [s] = m.get('silentwatch_container_memory_usage_bytes', { id: c.id.slice(0, 12) });
      if (c.names) expect(s?.labels).toMatchObject({ ...c.names, image: '', compose_project: '' });
      else expect(s?.labels.container).toBe(c.id.slice(0, 12)); // the pod sandbox
    }
    const ml = v2node.layout.containers.find((c) => c.names?.container === 'machine-learning') as { id: string; names: { pod: string } };
    const id = { id: ml.id.slice(0, 12) };
    // the ML container was OOM-killed as a whole and replaced: its pod counts it, the new container does not
    expect(m.value('silentwatch_pod_oom_kills_total', { namespace: 'immich', pod: ml.names.pod })).toBe(1);
    expect(m.get('silentwatch_pod_oom_kills_total')).toHaveLength(v2node.layout.pods.length);
    expect(m.value('silentwatch_container_oom_kills_total', id)).toBe(4);
    expect(m.value('silentwatch_container_oom_group_kills_total', id)).toBe(0);
    expect(m.value('silentwatch_container_memory_events_total', { ...id, event: 'max' })).toBe(1843);
    expect(m.value('silentwatch_container_memory_events_total', { ...id, event: 'high' })).toBe(0);
    expect(m.value('silentwatch_container_memory_peak_bytes', id)).toBe(1613844736);
    expect(m.value('silentwatch_container_memory_pressure_waiting_seconds_total', id)).toBeCloseTo(0.049637, 6);
    expect(m.value('silentwatch_container_memory_pressure_stalled_seconds_total', id)).toBeCloseTo(0.001971, 6);
    expect(m.value('silentwatch_container_memory_oom_group', id)).toBe(1);
    // no Docker asked: no Docker series, no OOM exits
    expect(m.get('silentwatch_container_oom_exits_total')).toHaveLength(0);
  });

  it('a GPU process in a pod carries its pod, namespace and container names', async () => {
    const m = await v2.metrics();
    const p = v2node.layout.procs[0] as { pid: number };
    const [s] = m.get('silentwatch_gpu_process_memory_bytes', { pid: String(p.pid) });
    expect(s?.value).toBe(10726 * MiB);
    expect(s?.labels).toMatchObject({ namespace: 'immich', pod: 'immich-ml-7d9f8c6b5-x2k4q', container: 'machine-learning', process: 'python3' });
  });

  it('CRI-O, systemd driver, cgroup v1: names, pod counter at the pod limit only, v1 peak and failcnt; no conmon', async () => {
    const n = materialiseNode('crio-systemd-v1');
    nodes.push(n);
    const e = await startExporter(['--no-collector.host', '--collector.containers', '--collector.containers.docker=false', `--path.sysfs=${n.sysfs}`, `--path.rootfs=${n.rootfs}`]);
    exporters.push(e);
    const m = await e.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(1);
    expect(m.value('silentwatch_container_cgroups', { cgroup_version: '1' })).toBe(n.layout.containers.length);
    const c = n.layout.containers.find((x) => x.names) as { id: string; names: { namespace: string; pod: string; container: string } };
    const id = { id: c.id.slice(0, 12) };
    expect(m.get('silentwatch_container_memory_usage_bytes', id)[0]?.labels).toMatchObject(c.names);
    expect(m.value('silentwatch_container_memory_peak_bytes', id)).toBe(64 * MiB);
    expect(m.value('silentwatch_container_memory_events_total', { ...id, event: 'max' })).toBe(50);
    expect(m.get('silentwatch_container_memory_pressure_stalled_seconds_total')).toHaveLength(0);
    expect(m.value('silentwatch_pod_oom_kills_total', { namespace: 'immich', pod: c.names.pod })).toBe(0);
  });

  describe.skipIf(!hasCommand('prometheus'))('scraped by a real Prometheus with pod/namespace/container target labels', () => {
    let prom: RunningPrometheus;
    beforeAll(async () => {
      const target = v2.url.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
      // what a ServiceMonitor's target carries: the exporter's own pod, namespace and container
      const labels = { pod: 'silentwatch-7xk2p', namespace: 'monitoring', container: 'silentwatch' };
      prom = await startPrometheus({
        targets: [],
        scrapeInterval: '1s',
        extraScrapeConfigs: [
          { job_name: 'honored', honor_labels: true, static_configs: [{ targets: [target], labels }] },
          { job_name: 'renamed', static_configs: [{ targets: [target], labels }] },
        ],
      });
    }, 60_000);
    afterAll(async () => {
      await prom?.stop();
    });

    it('the shipped ServiceMonitor sets honorLabels on every endpoint', () => {
      const sm = parse(readFileSync(new URL('../../../deploy/kubernetes/servicemonitor.yaml', import.meta.url), 'utf8')) as { spec: { endpoints: Array<{ honorLabels?: boolean }> } };
      expect(sm.spec.endpoints.length).toBeGreaterThan(0);
      for (const e of sm.spec.endpoints) expect(e.honorLabels).toBe(true);
    });

    it('honor_labels: the exporter’s pod, namespace and container arrive unchanged (without it they become exported_*)', async () => {
      const [honored] = await prom.waitForSeries('silentwatch_container_memory_oom_group{job="honored", container="machine-learning"}', 30_000);
      expect(honored?.metric).toMatchObject({ pod: 'immich-ml-7d9f8c6b5-x2k4q', namespace: 'immich', container: 'machine-learning' });
      expect(Object.keys(honored?.metric ?? {}).filter((k) => k.startsWith('exported_'))).toEqual([]);
      const [gpu] = await prom.waitForSeries('silentwatch_gpu_process_memory_bytes{job="honored"}', 30_000);
      expect(gpu?.metric).toMatchObject({ pod: 'immich-ml-7d9f8c6b5-x2k4q', namespace: 'immich' });
      // the same target without honor_labels: every container series is named after the exporter's own pod
      const [renamed] = await prom.waitForSeries('silentwatch_container_memory_oom_group{job="renamed", exported_container="machine-learning"}', 30_000);
      expect(renamed?.metric).toMatchObject({ pod: 'silentwatch-7xk2p', namespace: 'monitoring', container: 'silentwatch', exported_pod: 'immich-ml-7d9f8c6b5-x2k4q', exported_namespace: 'immich' });
    }, 60_000);
  });
});
