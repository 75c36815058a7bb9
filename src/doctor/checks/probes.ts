/** doctor checks about probes. */
import { type Check, RUNBOOK, values, valueFor } from '../check-helpers.js';

/** Seed 003: ML backends behind a balancer. */
export const backends: Check = (input, out) => {
  const probes = values(input.samples, 'silentwatch_probe_success');
  if (probes.length === 0) return out.skip('no probes configured');
  for (const p of probes.filter((x) => x.value === 0)) {
    out.add({
      check: 'ml-backend',
      severity: 'warning',
      title: `probe ${p.labels.target} (${p.labels.group}) fails`,
      evidence: [`status ${valueFor(input.samples, 'silentwatch_probe_http_status_code', { group: p.labels.group ?? '', target: p.labels.target ?? '' }) ?? 'no answer'}`],
      fix: `curl -s http://${p.labels.target}/ping should answer "pong"; start the backend or remove it from IMML_BACKENDS.`,
      runbook: `${RUNBOOK}MlBackendDown.md`,
    });
  }
};
