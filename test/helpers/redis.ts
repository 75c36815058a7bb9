/** A real redis-server on a free port in a temp dir, for one test file. */
import { freePort, removeDir, startDaemon, tempDir, waitFor, type Daemon } from './daemon.js';
import { Socket } from 'node:net';

export interface RunningRedis {
  readonly port: number;
  /** redis://127.0.0.1:<port> (with the password when one was set). */
  readonly url: string;
  readonly dir: string;
  /** Kill it hard (simulates a crash); the port stays reserved for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port and dir after kill() or stop(). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(500);
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      // +PONG, or -NOAUTH when a password is set: either way the server is up.
      resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()));
    });
  });
}

export async function startRedis(opts: { password?: string; extraArgs?: readonly string[] } = {}): Promise<RunningRedis> {
  const port = await freePort();
  const dir = tempDir('redis');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...(opts.password ? ['--requirepass', opts.password] : []), ...(opts.extraArgs ?? [])];
  let daemon: Daemon;
  const launch = async (): Promise<void> => {
    daemon = startDaemon('redis-server', args);
    await waitFor(() => {
      if (daemon.exited()) throw new Error(`redis-server exited: ${daemon.output()}`);
      return ping(port);
    }, 'redis-server');
  };
  await launch();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    dir,
    async kill() {
      daemon.child.kill('SIGKILL');
      await waitFor(() => daemon.exited(), 'redis to die');
    },
    restart: launch,
    async stop() {
      await daemon.stop();
      removeDir(dir);
    },
  };
}
