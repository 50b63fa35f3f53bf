import path from 'node:path';
import { z } from 'zod';

/**
 * Where tgpbx finds its database, Asterisk and Telegram, read from the environment.
 * Everything else (bot tokens, texts, limits) is a setting stored in the database and
 * edited from the web pages; see `storage/settings.ts`.
 */
export interface Config {
  dataDir: string;
  http: { host: string; port: number };
  ami: Endpoint | null;
  ari: Endpoint | null;
  botApiRoot: string;
  databaseUrl: string | null;
  fastAgiPort: number;
  /** Where the FastAGI server listens (127.0.0.1: only the PBX on this host may call the hooks). */
  fastAgiHost: string;
  /** The generated Asterisk include, `extensions_tgpbx.conf` (default: in the data directory). */
  dialplanPath: string;
  adminToken: string | null;
  logLevel: LogLevel;
}

/** A network endpoint with credentials, parsed from a URL such as ami://user:secret@host:5038. */
export interface Endpoint {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** The URL without credentials: safe to log and show. */
  display: string;
  /** Base URL for HTTP endpoints (ARI), credentials removed. */
  baseUrl: string;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Raised when the environment holds values tgpbx cannot use; the message lists every bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`tgpbx cannot start, the configuration has ${problems.length} problem(s):\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const port = () =>
  z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535');

function endpointUrl(protocols: string[], defaultPort: number, example: string) {
  return z.string().transform((raw, ctx): Endpoint | null => {
    if (raw.trim() === '') return null;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not a URL (expected e.g. ${example})` });
      return z.NEVER;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({ code: 'custom', message: `must start with ${protocols.map((p) => p + '//').join(' or ')} (expected e.g. ${example})` });
      return z.NEVER;
    }
    if (!url.username || !url.password) {
      ctx.addIssue({ code: 'custom', message: `must contain a user name and a secret (expected e.g. ${example})` });
      return z.NEVER;
    }
    const portNumber = url.port ? Number(url.port) : defaultPort;
    const pathname = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    const display = `${url.protocol}//${url.hostname}:${portNumber}${pathname}`;
    return {
      host: url.hostname,
      port: portNumber,
      username: decodeURIComponent(url.username),
      secret: decodeURIComponent(url.password),
      display,
      baseUrl: display,
    };
  });
}

const schema = z.object({
  TGPBX_DATA_DIR: z.string().min(1, 'must not be empty').default('./db'),
  TGPBX_HTTP_HOST: z.string().min(1, 'must not be empty').default('127.0.0.1'),
  TGPBX_HTTP_PORT: port().default(8085),
  TGPBX_AMI_URL: endpointUrl(['ami:'], 5038, 'ami://tgpbx:secret@127.0.0.1:5038').prefault(''),
  TGPBX_ARI_URL: endpointUrl(['http:', 'https:'], 8088, 'http://tgpbx:secret@127.0.0.1:8088/ari').prefault(''),
  TGPBX_BOT_API_ROOT: z
    .string()
    .default('https://api.telegram.org')
    .refine((v) => /^https?:\/\/[^/]+/.test(v), 'must be an http(s) URL such as https://api.telegram.org')
    .transform((v) => v.replace(/\/+$/, '')),
  TGPBX_DATABASE_URL: z
    .string()
    .default('')
    .refine((v) => v === '' || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL, or empty for the embedded SQLite database')
    .transform((v) => (v === '' ? null : v)),
  TGPBX_FASTAGI_PORT: port().default(4573),
  TGPBX_FASTAGI_HOST: z.string().min(1, 'must not be empty').default('127.0.0.1'),
  TGPBX_DIALPLAN_PATH: z
    .string()
    .default('')
    .refine((v) => v === '' || !v.endsWith('/'), 'must name a file (e.g. /etc/asterisk/extensions_tgpbx.conf), not a folder'),
  TGPBX_ADMIN_TOKEN: z
    .string()
    .default('')
    .refine((v) => v === '' || v.length >= 16, 'must be at least 16 characters long (or empty to switch the REST API off)')
    .transform((v) => (v === '' ? null : v)),
  TGPBX_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }).default('info'),
});

/**
 * Reads tgpbx's configuration from environment variables.
 * Throws a ConfigError naming every bad variable (never echoing secret values).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const picked = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [k, env[k] === undefined || env[k] === '' ? undefined : env[k]]),
  );
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    // Messages name the variable and the rule; zod issues never include the input value here.
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`);
    throw new ConfigError(problems);
  }
  const v = parsed.data;
  return {
    dataDir: path.resolve(cwd, v.TGPBX_DATA_DIR),
    http: { host: v.TGPBX_HTTP_HOST, port: v.TGPBX_HTTP_PORT },
    ami: v.TGPBX_AMI_URL,
    ari: v.TGPBX_ARI_URL,
    botApiRoot: v.TGPBX_BOT_API_ROOT,
    databaseUrl: v.TGPBX_DATABASE_URL,
    fastAgiPort: v.TGPBX_FASTAGI_PORT,
    fastAgiHost: v.TGPBX_FASTAGI_HOST,
    dialplanPath: v.TGPBX_DIALPLAN_PATH
      ? path.resolve(cwd, v.TGPBX_DIALPLAN_PATH)
      : path.join(path.resolve(cwd, v.TGPBX_DATA_DIR), 'extensions_tgpbx.conf'),
    adminToken: v.TGPBX_ADMIN_TOKEN,
    logLevel: v.TGPBX_LOG_LEVEL,
  };
}
