#!/usr/bin/env node
/**
 * Entry point: `silentwatch [flags]` runs the exporter. Exit codes: 0 after --help/--version or a clean
 * shutdown, 2 for a configuration error (the message names the key and what was expected), 1 when the
 * listen address cannot be bound.
 */
import type { AddressInfo } from 'node:net';
import { createRunner, createSharedServices } from './app.js';
import { ALL_COLLECTORS } from './collectors/index.js';
import { ConfigError, EarlyExit, loadConfig, type Config } from './config.js';
import { gatherHostFacts } from './doctor/index.js';
import { createLogger } from './logger.js';
import { createApp, listen } from './server.js';
import { VERSION } from './version.js';
import { loadWebConfig, type WebConfig } from './web-config.js';

/** `silentwatch doctor [--json] [flags]`: one collection, findings, exit 0/1/2. */
async function doctor(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  let config: Config;
  try {
    config = loadConfig({ argv: argv.filter((a) => a !== '--json'), env: process.env, collectors: ALL_COLLECTORS });
  } catch (e) {
    if (e instanceof EarlyExit) {
      process.stdout.write(`Usage: silentwatch doctor [--json] [exporter flags]\n\n${e.output}`);
      return 0;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`silentwatch: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // Collector failures are findings or skipped checks here, not log noise on the terminal.
  const log = createLogger(json ? 'error' : 'warn');
  const { runDoctor, formatText, reportJson } = await import('./doctor/index.js');
  const { exitCodeFor } = await import('./doctor/findings.js');
  const report = await runDoctor(config, log);
  const code = exitCodeFor(report);
  process.stdout.write(json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : formatText(report));
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'doctor') return doctor(argv.slice(1));
  let config: Config;
  try {
    config = loadConfig({ argv, env: process.env, collectors: ALL_COLLECTORS });
  } catch (e) {
    if (e instanceof EarlyExit) {
      process.stdout.write(e.output);
      return 0;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`silentwatch: ${e.message}\n`);
      return 2;
    }
    throw e;
  }

  let web: WebConfig | undefined;
  if (config.web.config_file) {
    try {
      web = await loadWebConfig(config.web.config_file);
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`silentwatch: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
  }

  const log = createLogger(config.log.level);
  const shared = createSharedServices(config);
  const runner = createRunner(config, log, ALL_COLLECTORS, shared);
  await runner.start();
  // The status page inspects containers only where the containers collector found Docker.
  const dockerFound = (): boolean => runner.states().some((s) => s.name === 'containers' && s.status === 'active');
  const hostFacts = (): ReturnType<typeof gatherHostFacts> => gatherHostFacts(config.path, shared, { docker: dockerFound() });
  const app = createApp({ runner, log, telemetryPath: config.web.telemetry_path, web, hostFacts });
  const { host, port } = config.web.listen_address;
  let server;
  try {
    server = await listen(app, host, port, web);
  } catch (e) {
    log.error({ err: (e as Error).message, host, port }, 'cannot listen');
    await runner.close();
    return 1;
  }
  const addr = server.address() as AddressInfo;
  log.info(
    { version: VERSION, address: `${addr.address}:${addr.port}`, port: addr.port, path: config.web.telemetry_path, tls: Boolean(web?.tls), basic_auth: Boolean(web?.users) },
    'listening',
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      // Stop accepting, let in-flight scrapes finish (bounded), then release collector connections.
      // Keep-alive sockets that turn idle after their last response are closed as they do.
      const reap = setInterval(() => server.closeIdleConnections(), 50);
      const force = setTimeout(() => server.closeAllConnections(), 5000);
      reap.unref();
      force.unref();
      server.close(() => {
        clearInterval(reap);
        void runner.close().finally(() => resolve(0));
      });
      server.closeIdleConnections();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

process.on('unhandledRejection', (reason) => {
  // Collectors must not leak rejections; if one does, it is a bug to log, not a reason to die.
  process.stderr.write(`${JSON.stringify({ level: 'error', app: 'silentwatch', msg: 'unhandled rejection', err: String(reason) })}\n`);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`silentwatch: fatal: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
