/**
 * Wires a validated Config into the shared services, the collector runner and the HTTP server.
 * Kept separate from cli.ts so tests and `doctor` can build the same exporter in-process.
 */
import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import { ALL_COLLECTORS } from './collectors/index.js';
import type { AnyCollector, SharedServices } from './collectors/types.js';
import { collectorConfig, type Config } from './config.js';
import { DockerIndex } from './lib/identity/docker-index.js';
import { KubeletLogIndex } from './lib/identity/kubelet-logs.js';
import { ProcessIdentity } from './lib/identity/process-identity.js';
import type { Logger } from './logger.js';
import { CollectorRunner, type CollectorEntry } from './runner.js';

/** Docker client options from `docker.host` (unix socket or tcp/http URL). */
export function dockerOptions(host: string, timeoutSeconds: number): Docker.DockerOptions {
  const timeout = Math.round(timeoutSeconds * 1000);
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length), timeout };
  const u = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: u.hostname, port: Number(u.port || 2375), protocol: u.protocol === 'https:' ? 'https' : 'http', timeout };
}

/**
 * dockerode (with its ssh2/gRPC dependencies) costs ~28 MB of RSS; it is loaded on first use only, so a
 * host without Docker never pays for it. A synchronous require keeps SharedServices.docker() synchronous.
 */
const requireCjs = createRequire(import.meta.url);
function loadDocker(): typeof Docker {
  return requireCjs('dockerode') as typeof Docker;
}

export function createSharedServices(config: Config): SharedServices {
  let docker: Docker | undefined;
  const client = (): Docker => {
    if (!docker) {
      const DockerClient = loadDocker();
      docker = new DockerClient(dockerOptions(config.docker.host, config.docker.timeout));
    }
    return docker;
  };
  const dockerIndex = new DockerIndex(client);
  return {
    docker: client,
    dockerIndex,
    identity: new ProcessIdentity(config.path.procfs, dockerIndex, new KubeletLogIndex(config.path.rootfs)),
  };
}

export function createRunner(config: Config, log: Logger, collectors: readonly AnyCollector[] = ALL_COLLECTORS, shared = createSharedServices(config)): CollectorRunner {
  const entries: CollectorEntry[] = collectors.map((c) => {
    const cc = collectorConfig(config, c.name);
    const { enabled, timeout, ...options } = cc;
    return {
      collector: c,
      enabled,
      context: { name: c.name, options, paths: config.path, log: log.child({ collector: c.name }), shared, timeoutSeconds: timeout },
    };
  });
  return new CollectorRunner(entries, { log });
}
