import { readFileSync } from 'node:fs';
import { DEFAULT_RETRY_SCHEDULE, parseDuration, parseSchedule } from './domain/retry.ts';
import { parseMasterKey } from './domain/secret-box.ts';
import { DEFAULT_TRANSITIONS, parseTransitionTable, type TransitionTable } from './domain/statuses.ts';

/** Every setting, read once from the environment at start. See docs/configuration.md. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  databasePoolSize: number;
  /** When null, the first start generates one and stores its hash. */
  adminToken: string | null;
  retrySchedule: readonly number[];
  allowPrivateNetworks: boolean;
  deliveryTimeoutMs: number;
  leaseMs: number;
  maxInFlight: number;
  perOriginConcurrency: number;
  claimBatchSize: number;
  pollIntervalMs: number;
  shutdownGraceMs: number;
  maxBodyBytes: number;
  tlsCa: string | null;
  /** Which proposal status may follow which (docs/domain.md). */
  transitions: TransitionTable;
  /**
   * Encrypts secrets and credentials at rest. Required on PostgreSQL; on SQLite, when unset, a key
   * generated on the first start is kept beside the database file (see main.ts).
   */
  masterKey: Buffer | null;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function read<T>(env: Env, name: string, fallback: T, parse: (text: string) => T): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  try {
    return parse(raw.trim());
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
}

function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

function boolean(text: string): boolean {
  if (/^(true|1|yes|on)$/i.test(text)) return true;
  if (/^(false|0|no|off)$/i.test(text)) return false;
  throw new Error(`expected true or false, got ${JSON.stringify(text)}`);
}

function positiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new Error('must be greater than zero');
  return ms;
}

/**
 * Reads and checks the configuration; a bad value stops the start with a message naming it.
 *
 * @example loadConfig({ PORT: '9090', ARAUTO_RETRY_SCHEDULE: '0,5s,5m' })
 */
export function loadConfig(env: Env = process.env): Config {
  const deliveryTimeoutMs = read(env, 'ARAUTO_DELIVERY_TIMEOUT', 15_000, positiveDuration);
  // A claimed delivery may wait one timeout for a slot at its origin, then send for another.
  const leaseMs = read(env, 'ARAUTO_DELIVERY_LEASE', 2 * deliveryTimeoutMs + 15_000, positiveDuration);
  if (leaseMs <= 2 * deliveryTimeoutMs) {
    throw new ConfigError('ARAUTO_DELIVERY_LEASE must be longer than twice ARAUTO_DELIVERY_TIMEOUT');
  }
  return {
    port: read(env, 'PORT', 8080, integer(0, 65535)),
    host: read(env, 'HOST', '127.0.0.1', (t) => t),
    databaseUrl: read(env, 'ARAUTO_DATABASE_URL', 'sqlite:./data/arauto.db', (t) => t),
    databasePoolSize: read(env, 'ARAUTO_DATABASE_POOL_SIZE', 10, integer(1, 1000)),
    adminToken: read<string | null>(env, 'ARAUTO_ADMIN_TOKEN', null, (t) => {
      if (t.length < 16) throw new Error('use at least 16 characters');
      return t;
    }),
    retrySchedule: read(env, 'ARAUTO_RETRY_SCHEDULE', DEFAULT_RETRY_SCHEDULE, parseSchedule),
    allowPrivateNetworks: read(env, 'ARAUTO_ALLOW_PRIVATE_NETWORKS', false, boolean),
    deliveryTimeoutMs,
    leaseMs,
    maxInFlight: read(env, 'ARAUTO_DELIVERY_CONCURRENCY', 512, integer(1, 100_000)),
    perOriginConcurrency: read(env, 'ARAUTO_ORIGIN_CONCURRENCY', 64, integer(1, 10_000)),
    claimBatchSize: read(env, 'ARAUTO_CLAIM_BATCH', 200, integer(1, 5000)),
    pollIntervalMs: read(env, 'ARAUTO_POLL_INTERVAL', 1000, positiveDuration),
    shutdownGraceMs: read(env, 'ARAUTO_SHUTDOWN_GRACE', 8000, parseDuration),
    maxBodyBytes: read(env, 'ARAUTO_MAX_BODY_BYTES', 256 * 1024, integer(1024, 64 * 1024 * 1024)),
    tlsCa: read<string | null>(env, 'ARAUTO_TLS_CA_FILE', null, (path) => readFileSync(path, 'utf8')),
    masterKey: read<Buffer | null>(env, 'ARAUTO_MASTER_KEY', null, parseMasterKey),
    transitions: read(env, 'ARAUTO_STATUS_TRANSITIONS_FILE', DEFAULT_TRANSITIONS, (path) =>
      parseTransitionTable(JSON.parse(readFileSync(path, 'utf8'))),
    ),
    logLevel: read(env, 'ARAUTO_LOG_LEVEL', 'info', (t) => {
      if (!/^(fatal|error|warn|info|debug|trace|silent)$/.test(t)) throw new Error(`unknown level ${t}`);
      return t;
    }),
  };
}
