/** Every silentwatch dashboard, keyed by the JSON file name it is written to in grafana/dashboards/. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, type DashboardSpec } from './common.js';
import { containers } from './containers.js';
import { gpus } from './gpus.js';
import { llamaswap } from './llamaswap.js';
import { overview } from './overview.js';
import { queues } from './queues.js';

export const SPECS: readonly DashboardSpec[] = [overview, containers, queues, gpus, llamaswap];

/** File name (in grafana/dashboards/) → dashboard JSON text, exactly as committed. */
export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of SPECS) {
    const d: Dashboard = buildDashboard(spec);
    out.set(`${spec.uid}.json`, `${JSON.stringify(d, null, 2)}\n`);
  }
  return out;
}
