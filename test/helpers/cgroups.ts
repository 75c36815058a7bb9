/**
 * A cgroup v2 memory hierarchy built from the containers fixtures under a fake sysfs (for --path.sysfs), moved here
 * from test/collectors/containers/containers.test.ts so the incident lab can give the cgroup-v2-only panels data on
 * a host whose memory controller is v1.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONTAINER_FIXTURES = new URL('../fixtures/containers/', import.meta.url);

/** A limited systemd-driver Docker container after OOM kills (memory.events: oom 7, oom_kill 4; limit 6 GiB). */
export const V2_DOCKER_FILES: Readonly<Record<string, string>> = {
  'memory.current': 'v2-systemd-docker.memory.current',
  'memory.max': 'v2-systemd-docker.memory.max',
  'memory.stat': 'v2-systemd-docker.memory.stat',
  'memory.events': 'v2-systemd-docker.memory.events',
};

/**
 * Makes <sysfs>/fs/cgroup a cgroup v2 root with the memory controller; returns put(rel, files), which creates the
 * cgroup directory `rel` with each file copied from the named containers fixture.
 */
export function cgroupV2Root(sysfs: string): (rel: string, files: Readonly<Record<string, string>>) => void {
  const root = join(sysfs, 'fs', 'cgroup');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  return (rel, files) => {
    mkdirSync(join(root, rel), { recursive: true });
    for (const [name, from] of Object.entries(files)) cpSync(new URL(from, CONTAINER_FIXTURES), join(root, rel, name));
  };
}
