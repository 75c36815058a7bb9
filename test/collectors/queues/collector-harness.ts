/** Runs the queues collector in-process (as the runner would) and a TCP proxy that counts Redis round trips. */
import { createServer, Socket, type Server } from 'node:net';
import { queuesCollector } from '../../../src/collectors/queues/index.js';
import type { CollectorContext, CollectorInstance, SharedServices } from '../../../src/collectors/types.js';
import { silentLogger } from '../../../src/logger.js';
import { budgetFor } from '../../../src/lib/time-budget.js';
import { SampleSink, type Sample } from '../../../src/metrics.js';

export interface Scrape {
  readonly samples: readonly Sample[];
  readonly degraded?: string;
  readonly problems: readonly string[];
  value(name: string, labels: Record<string, string>): number | undefined;
  series(name: string, labels?: Record<string, string>): Sample[];
}

export interface Harness {
  readonly instance: CollectorInstance;
  scrape(): Promise<Scrape>;
  close(): Promise<void>;
}

export function harness(options: Record<string, unknown>, timeoutSeconds = 5): Harness {
  const parsed = queuesCollector.options.parse(options);
  const ctx: CollectorContext<typeof parsed> = {
    name: 'queues',
    options: parsed,
    paths: { procfs: '/proc', sysfs: '/sys', rootfs: '/' },
    log: silentLogger(),
    shared: {} as SharedServices,
    timeoutSeconds,
  };
  const instance = queuesCollector.create(ctx);
  return {
    instance,
    async scrape() {
      const sink = new SampleSink(new Set(queuesCollector.metrics));
      await instance.collect(sink, budgetFor(timeoutSeconds));
      const matches = (s: Sample, l: Record<string, string>): boolean => Object.entries(l).every(([k, v]) => s.labels[k] === v);
      return {
        samples: sink.samples,
        degraded: sink.degradedReason,
        problems: sink.problems,
        series: (name, labels = {}) => sink.samples.filter((s) => s.def.name === name && matches(s, labels)),
        value(name, labels) {
          const found = sink.samples.filter((s) => s.def.name === name && matches(s, labels));
          if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
          return found[0]?.value as number | undefined;
        },
      };
    },
    close: async () => {
      await instance.close?.();
    },
  };
}

/**
 * A TCP proxy in front of Redis that counts round trips: a "turn" is a burst of client bytes that follows
 * server bytes (or the start), i.e. the client had to wait for an answer before it could send more.
 */
export interface CountingProxy {
  readonly port: number;
  /** Client→server bursts so far, over every connection. */
  turns(): number;
  close(): Promise<void>;
}

export function countingProxy(targetPort: number): Promise<CountingProxy> {
  let turns = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    let lastFromClient = false;
    client.on('data', (d) => {
      if (!lastFromClient) turns += 1;
      lastFromClient = true;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      lastFromClient = false;
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.connect(targetPort, '127.0.0.1');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        turns: () => turns,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** The harnesses of one test file, made on demand and closed together at its end. */
export function harnessPool(): { make(options: Record<string, unknown>, timeoutSeconds?: number): Harness; closeAll(): Promise<void> } {
  const made: Harness[] = [];
  return {
    make(options, timeoutSeconds) {
      const h = harness(options, timeoutSeconds);
      made.push(h);
      return h;
    },
    async closeAll() {
      for (const h of made) await h.close();
    },
  };
}
