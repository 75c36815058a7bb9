/** Alert rules rendered into rules/probes.yml. */
import { type GroupDef, ON_INSTANCE } from './define.js';

export const probesGroup: GroupDef = {
  file: 'probes',
  name: 'silentwatch.probes',
  alerts: [
    {
      alert: 'MlBackendDown',
      severity: 'warning',
      expr: () => `silentwatch_probe_success == 0\nunless on(${ON_INSTANCE}, group) max by (${ON_INSTANCE}, group) (silentwatch_probe_success) == 0`,
      for: 'probe_backend_down_for',
      summary: 'ML backend {{ $labels.target }} of {{ $labels.group }} is down.',
      description:
        'The probe of {{ $labels.target }} in group {{ $labels.group }} (from {{ $labels.instance }}) fails while other targets of the group answer: the balancer hides it, capacity is reduced.',
      explain: 'one target of a group fails its probe (not all of them)',
      thresholds: ['probe_backend_down_for'],
    },
    {
      alert: 'MlBackendsAllDown',
      severity: 'critical',
      expr: () => `max by (${ON_INSTANCE}, group) (silentwatch_probe_success) == 0`,
      for: 'probe_all_down_for',
      summary: 'Every ML backend of {{ $labels.group }} is down.',
      description: 'Every probed target of group {{ $labels.group }} (from {{ $labels.instance }}) fails: machine learning requests (smart search, faces, OCR) fail with "fetch failed".',
      explain: 'every target of a group fails its probe',
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
