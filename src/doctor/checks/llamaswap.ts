/** doctor checks about llama-swap servers. */
import { info, modelState, oldestInFlight, up } from '../../collectors/llamaswap/metrics.js';
import { parseVersion } from '../../collectors/llamaswap/parse-api.js';
import { type Check, RUNBOOK, thresholdsOf, values } from '../check-helpers.js';

/**
 * Per llama-swap server: unreachable, a request in flight past the LlamaSwapRequestStuck threshold, a
 * model stuck starting, and versions whose API cannot give what the alerts rely on.
 */
export const llamaswapServers: Check = (input, out) => {
  const servers = values(input.samples, up);
  if (servers.length === 0) return out.skip('no llama-swap data (llamaswap collector inactive: no server configured or found)');
  const stuckSeconds = thresholdsOf(input).llamaswap_request_stuck_seconds;
  for (const s of servers) {
    const server = s.labels.server ?? '';
    if (s.value === 0) {
      out.add({
        check: 'llamaswap',
        severity: 'critical',
        title: `llama-swap ${server} does not answer GET /health`,
        evidence: [`${up.name}{server="${server}"} 0`],
        fix: `Check that llama-swap runs and that silentwatch can reach its URL (collectors.llamaswap.servers); with apiKeys set, give silentwatch the key (api_key).`,
        runbook: `${RUNBOOK}LlamaSwapDown.md`,
      });
      continue;
    }
    for (const a of values(input.samples, oldestInFlight).filter((x) => x.labels.server === server && x.value > stuckSeconds)) {
      out.add({
        check: 'llamaswap',
        severity: 'warning',
        title: `a request to ${a.labels.model ?? ''} on llama-swap ${server} has been in flight for ${Math.round(a.value)} s`,
        evidence: [`oldest request in flight ${Math.round(a.value)} s (alert threshold ${stuckSeconds} s)`, 'a hung generation never writes an activity row: the request counts stay quiet'],
        fix: 'Look at the model\'s upstream log; cancel the request (POST /api/inflight/<id>/cancel) or unload the model, and set a server-side time-out and max_tokens.',
        runbook: `${RUNBOOK}LlamaSwapRequestStuck.md`,
      });
    }
    for (const m of values(input.samples, modelState).filter((x) => x.labels.server === server && x.labels.state === 'starting' && x.value === 1)) {
      out.add({
        check: 'llamaswap',
        severity: 'info',
        title: `model ${m.labels.model ?? ''} on llama-swap ${server} is starting`,
        evidence: ['GET /running: state starting (loading its weights, or failing to and retrying)'],
        fix: 'If it stays starting or keeps returning to stopped, read its upstream log (cudaMalloc out of memory = the GPU is full).',
        runbook: `${RUNBOOK}LlamaSwapModelLoadFailing.md`,
      });
    }
    const meta = values(input.samples, info).find((x) => x.labels.server === server);
    const version = meta ? parseVersion(JSON.stringify({ version: meta.labels.version ?? '' })) : undefined;
    const n = version?.number;
    if (n !== undefined && n < 218) {
      out.add({
        check: 'llamaswap',
        severity: 'info',
        title: `llama-swap ${server} is ${version?.raw ?? ''}: some alerts cannot see everything on it`,
        evidence: [
          n < 209 ? 'before v209 requests are counted from the request log only: no model label' : 'before v229 rows carry no error_msg: a failed load shows as a 502, not as a load failure',
          'before v218 the event stream sends only a total of requests in flight: no per-model age, LlamaSwapRequestStuck cannot fire',
        ],
        fix: 'Upgrade llama-swap (v236 or later gives paged activity, error messages and per-request in-flight state).',
      });
    }
  }
};
