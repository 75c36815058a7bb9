/**
 * Alert rules rendered into rules/probes.yml. Probes carry a role: the balancer is the one URL clients
 * know, so the balancer down pages like every backend down (critical, same `for:`); one backend down
 * behind an answering balancer only costs capacity (warning). Rule order matters: MlBalancerDown reads
 * the ALERTS series MlBackendsAllDown writes in the same evaluation.
 */
import { type GroupDef, ON_INSTANCE } from './define.js';

/** Every probe of the group fails: the all-down alert speaks for the group, the others stay quiet. */
const ALL_DOWN = `max by (${ON_INSTANCE}, group) (silentwatch_probe_success) == 0`;

export const probesGroup: GroupDef = {
  file: 'probes',
  name: 'silentwatch.probes',
  alerts: [
    {
      alert: 'MlBackendDown',
      severity: 'warning',
      expr: () => `silentwatch_probe_success{role!="balancer"} == 0\nunless on(${ON_INSTANCE}, group) ${ALL_DOWN}`,
      for: 'probe_backend_down_for',
      summary: 'ML backend {{ $labels.target }} of {{ $labels.group }} is down.',
      description:
        'The probe of {{ $labels.target }} in group {{ $labels.group }} (from {{ $labels.instance }}) fails while other targets of the group answer: requests go to the others, capacity is reduced.',
      explain: 'one backend (not the balancer) of a group fails its probe while others answer',
      thresholds: ['probe_backend_down_for'],
    },
    {
      alert: 'MlBackendsAllDown',
      severity: 'critical',
      expr: () => ALL_DOWN,
      for: 'probe_all_down_for',
      summary: 'Every ML backend of {{ $labels.group }} is down.',
      description: 'Every probed target of group {{ $labels.group }} (from {{ $labels.instance }}) fails: machine learning requests (smart search, faces, OCR) fail with "fetch failed".',
      explain: 'every target of a group fails its probe',
      thresholds: ['probe_all_down_for'],
    },
    {
      alert: 'MlBalancerDown',
      severity: 'critical',
      // Quiet only once MlBackendsAllDown fires (evaluated just before, in the same group), so a balancer
      // outage that turns into all-down keeps paging through the all-down alert's pending time.
      expr: () => `silentwatch_probe_success{role="balancer"} == 0\nunless on(${ON_INSTANCE}, group) ALERTS{alertname="MlBackendsAllDown", alertstate="firing"}`,
      for: 'probe_all_down_for',
      summary: 'ML balancer {{ $labels.target }} of {{ $labels.group }} is down.',
      description:
        'The balancer {{ $labels.target }} of group {{ $labels.group }} (from {{ $labels.instance }}) fails its probe: its clients only know its URL, so every machine learning request (smart search, faces, OCR) fails although backends may still answer.',
      explain: 'the balancer of a group fails its probe (its clients lose every backend at once)',
      thresholds: ['probe_all_down_for'],
    },
    {
      alert: 'MountMissing',
      severity: 'critical',
      expr: () => 'silentwatch_mount_present == 0',
      for: 'mount_missing_for',
      summary: 'Mount {{ $labels.path }} is missing.',
      description: 'Nothing is mounted at {{ $labels.path }} on {{ $labels.instance }}: applications now write into the bare directory underneath, or fail.',
      explain: 'a configured mount point has nothing mounted',
      thresholds: ['mount_missing_for'],
    },
    {
      alert: 'MountUnresponsive',
      severity: 'critical',
      expr: () => `silentwatch_mount_responsive == 0\nunless on(${ON_INSTANCE}, path) silentwatch_mount_present == 0`,
      for: 'mount_unresponsive_for',
      summary: 'Mount {{ $labels.path }} does not respond.',
      description: 'A stat of {{ $labels.path }} on {{ $labels.instance }} does not complete in time: processes touching it hang (a hard NFS mount whose server is gone).',
      explain: 'a mount is present but its probe times out',
      thresholds: ['mount_unresponsive_for'],
    },
  ],
};
