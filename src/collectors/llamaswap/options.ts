/** Options of the llama-swap collector. */
import { z } from 'zod';
import { bool, duration, integer } from '../../lib/config-values.js';
import { normaliseUrl, parseServerEntry, validateServers, type ServerSpec } from './parse-servers.js';

interface ServerInput {
  name: string;
  url: string;
  api_key?: string | undefined;
}

const serversOption = () =>
  z
    .union([
      z.array(z.object({ name: z.string(), url: z.string(), api_key: z.string().optional() }).strict()),
      z.string(),
    ])
    .transform((v, ctx): ServerSpec[] => {
      const out: ServerSpec[] = [];
      const entries: Array<string | ServerInput> = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
      for (const e of entries) {
        if (typeof e === 'string') {
          const parsed = parseServerEntry(e);
          if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
          else out.push(parsed);
          continue;
        }
        const url = normaliseUrl(e.url);
        if (!url) ctx.addIssue({ code: 'custom', message: `server ${JSON.stringify(e.name.slice(0, 64))}: expected an http(s) URL without credentials or query string (API keys go in api_key)` });
        else out.push({ name: e.name, url, ...(e.api_key ? { apiKey: e.api_key } : {}) });
      }
      const problem = validateServers(out);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      return out;
    });

export const options = z.object({
  servers: serversOption()
    .prefault('')
    .describe(
      'llama-swap servers to watch: a YAML list of {name, url, api_key}, or name=url pairs separated by commas (a bare URL is named by its host:port). The name becomes the label server.',
    ),
  api_key: z
    .string()
    .default('')
    .describe('API key sent as "Authorization: Bearer" to servers without their own api_key (llama-swap apiKeys). Never logged or shown.'),
  default_url: z
    .string()
    .default('http://127.0.0.1:8080')
    .describe('With no servers configured, auto-detection looks for a llama-swap here (GET /health = OK and GET /running) and watches it as server "local". Empty: no probing.'),
  poll_interval: duration()
    .prefault('5s')
    .describe("How often the background poller reads new activity between scrapes, so llama-swap's capped in-memory store (metricsMaxInMemory, default 1000 rows) does not evict requests before they are counted."),
  request_timeout: duration().prefault('2s').describe('Time-out of one request to llama-swap.'),
  max_models: integer(1, 10000)
    .prefault(100)
    .describe('Most distinct model label values per server; requests for further models are counted as model "other" and in silentwatch_llamaswap_model_label_folded_total (llama-swap v218+ records unknown model names as clients send them).'),
  events: bool()
    .prefault(true)
    .describe('Follow GET /api/events (one read-only connection per server, reconnected with back-off) for requests in flight, model state transitions, failed loads, swaps and the request log. false: poll only.'),
  log_stream: bool()
    .prefault(true)
    .describe('For llama-swap before v209 (no per-request API), count requests from GET /logs/stream?no-history (model "unknown"). false: only up and model states for those.'),
});

export type Options = z.output<typeof options>;
