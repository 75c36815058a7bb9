/**
 * TLS and basic auth for the HTTP endpoints, read from a web config file in the format of Prometheus'
 * exporter-toolkit (`tls_server_config`, `basic_auth_users` with bcrypt hashes, `http_server_config`),
 * so the file users already have for node_exporter works here too. Relative paths resolve against the
 * file's own directory, as in exporter-toolkit.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { NextFunction, Request, Response } from 'express';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config.js';

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
const CLIENT_AUTH = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;

const schema = z
  .object({
    tls_server_config: z
      .object({
        cert_file: z.string().min(1),
        key_file: z.string().min(1),
        client_auth_type: z.enum(CLIENT_AUTH).default('NoClientCert'),
        client_ca_file: z.string().min(1).optional(),
        min_version: z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).default('TLS12'),
        max_version: z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).optional(),
        // Accepted for file compatibility; Node picks its own cipher and curve defaults.
        cipher_suites: z.array(z.string()).optional(),
        curve_preferences: z.array(z.string()).optional(),
        prefer_server_cipher_suites: z.boolean().optional(),
      })
      .strict()
      .optional(),
    basic_auth_users: z
      .record(z.string().min(1), z.string().regex(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/, 'expected a bcrypt hash ($2y$…, e.g. from htpasswd -nBC 10)'))
      .optional(),
    http_server_config: z
      .object({ http2: z.boolean().optional(), headers: z.record(z.string(), z.string()).optional() })
      .strict()
      .optional(),
  })
  .strict();

export interface WebConfig {
  readonly tls?: {
    readonly cert: Buffer;
    readonly key: Buffer;
    readonly ca?: Buffer;
    readonly requestCert: boolean;
    readonly rejectUnauthorized: boolean;
    readonly minVersion: string;
    readonly maxVersion?: string;
  };
  readonly users?: ReadonlyMap<string, string>;
  readonly headers?: Readonly<Record<string, string>>;
}

async function readPart(file: string, base: string, key: string): Promise<Buffer> {
  const p = isAbsolute(file) ? file : resolve(base, file);
  try {
    return await readFile(p);
  } catch (e) {
    throw new ConfigError(`web config: ${key}: cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function loadWebConfig(file: string): Promise<WebConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`web config: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (e) {
    throw new ConfigError(`web config: ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys' ? `unknown key ${[...i.path, ...i.keys].join('.')}` : `${i.path.join('.')}: ${i.message}`,
    );
    throw new ConfigError(`web config: invalid ${file}:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  const base = dirname(resolve(file));
  let tls: WebConfig['tls'];
  if (c.tls_server_config) {
    const t = c.tls_server_config;
    const verify = t.client_auth_type === 'VerifyClientCertIfGiven' || t.client_auth_type === 'RequireAndVerifyClientCert';
    if (verify && !t.client_ca_file) throw new ConfigError(`web config: tls_server_config.client_ca_file: required when client_auth_type is ${t.client_auth_type}`);
    tls = {
      cert: await readPart(t.cert_file, base, 'tls_server_config.cert_file'),
      key: await readPart(t.key_file, base, 'tls_server_config.key_file'),
      ...(t.client_ca_file ? { ca: await readPart(t.client_ca_file, base, 'tls_server_config.client_ca_file') } : {}),
      requestCert: t.client_auth_type !== 'NoClientCert',
      rejectUnauthorized: t.client_auth_type === 'RequireAndVerifyClientCert' || t.client_auth_type === 'RequireAnyClientCert',
      minVersion: TLS_VERSIONS[t.min_version],
      ...(t.max_version ? { maxVersion: TLS_VERSIONS[t.max_version] } : {}),
    };
  }
  return {
    ...(tls ? { tls } : {}),
    ...(c.basic_auth_users ? { users: new Map(Object.entries(c.basic_auth_users)) } : {}),
    ...(c.http_server_config?.headers ? { headers: c.http_server_config.headers } : {}),
  };
}

/** A bcrypt hash of a random password, compared against for unknown users so timing does not reveal names. */
let dummyHash: Promise<string> | undefined;
const getDummyHash = (): Promise<string> => (dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), 10));

/**
 * Basic-auth middleware. bcrypt is deliberately slow (tens of ms at cost 10), so successful
 * user:password pairs are remembered, as exporter-toolkit does, keyed by a hash-independent string
 * compare of the exact header; a scrape every 15 s then costs one bcrypt per exporter lifetime.
 */
export function basicAuth(users: ReadonlyMap<string, string>): (req: Request, res: Response, next: NextFunction) => void {
  const verified = new Set<string>();
  const deny = (res: Response): void => {
    res.status(401).set('WWW-Authenticate', 'Basic realm="silentwatch"').type('text/plain').send('Unauthorized\n');
  };
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    if (!m) return deny(res);
    if (verified.has(header)) return next();
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return deny(res);
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = [...users.entries()].find(([u]) => u.length === user.length && timingSafeEqual(Buffer.from(u), Buffer.from(user)))?.[1];
    (hash ? Promise.resolve(hash) : getDummyHash()).then((h) => bcrypt.compare(password, h)).then(
      (ok) => {
        if (ok && hash) {
          if (verified.size > 1000) verified.clear();
          verified.add(header);
          next();
        } else deny(res);
      },
      () => deny(res),
    );
  };
}
