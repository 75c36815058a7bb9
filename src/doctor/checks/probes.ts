/** doctor checks about probes: severity follows what the users lose (the balancer down = every backend down). */
import { statusCode, success } from '../../collectors/probes/metrics.js';
import { type Check, RUNBOOK, values, valueFor } from '../check-helpers.js';

/** ML backends behind a balancer. */
export const backends: Check = (input, out) => {
  const probes = values(input.samples, success);
  if (probes.length === 0) return out.skip('no probes configured');
  const groupAllDown = (group: string | undefined): boolean => probes.filter((x) => x.labels.group === group).every((x) => x.value === 0);
  for (const p of probes.filter((x) => x.value === 0)) {
    const { group = '', target = '', role = '' } = p.labels;
    const code = valueFor(input.samples, statusCode, { group, target });
    const evidence = [code === undefined || code === 0 ? 'no answer (no status line arrived)' : `status ${code} arrived`];
    if (role === 'balancer' || groupAllDown(group)) {
      const balancer = role === 'balancer' && !groupAllDown(group);
      evidence.push(balancer ? 'backends of the group still answer, but its clients only know the balancer' : 'no target of the group answers');
      out.add({
        check: 'ml-backend',
        severity: 'critical',
        title: balancer ? `balancer ${target} (${group}) fails: every request through it fails` : `probe ${target} (${group}) fails, like every target of its group`,
        evidence,
        fix: balancer
          ? `curl -s http://${target}/ping should answer "pong"; start or fix the balancer (nginx -t, its network, IMML_BACKENDS).`
          : `Start the ML backend(s) of ${group}; check their logs for OOM kills.`,
        runbook: `${RUNBOOK}${balancer ? 'MlBalancerDown' : 'MlBackendsAllDown'}.md`,
      });
      continue;
    }
    out.add({
      check: 'ml-backend',
      severity: 'warning',
      title: `probe ${target} (${group}) fails`,
      evidence,
      fix: `curl -s http://${target}/ping should answer "pong"; start the backend or remove it from IMML_BACKENDS.`,
      runbook: `${RUNBOOK}MlBackendDown.md`,
    });
  }
};
