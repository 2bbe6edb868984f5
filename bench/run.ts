/**
 * `npm run bench`: publishes N events through the HTTP API to an Arauto process and receives the
 * webhooks on 127.0.0.1, on each engine; prints deliveries/s and publish→receive latency.
 *
 *   npm run bench -- --events 20000 --endpoints 1 --engines sqlite,postgres --runs 3
 *
 * Two runs per engine:
 *   live  — publish and deliver at once (API + dispatcher in one process, as `npm start` runs);
 *           latency is publish request start → webhook received, per delivery.
 *   drain — publish with the dispatcher stopped, then start a dispatcher-only process and time
 *           how fast it empties the backlog: the dispatcher's own throughput.
 * Arauto runs in its own process; this process is the lender (publisher) and the partner
 * (receiver), so on a 2-core machine each side has a core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    endpoints: { type: 'string', default: '1' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    concurrency: { type: 'string', default: '64' },
    modes: { type: 'string', default: 'live,drain' },
    runs: { type: 'string', default: '1' },
  },
});
const EVENTS = Number(values.events);
const ENDPOINTS = Number(values.endpoints);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const TOKEN = 'bench-admin-token-0123456789';
const PG_URL = process.env.ARAUTO_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

interface Result {
  engine: string;
  mode: string;
  deliveries: number;
  seconds: number;
  perSecond: number;
  publishPerSecond: number | null;
  p50: number | null;
  p99: number | null;
}

async function startArauto(
  args: string[],
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; url: string | null }> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: {
      ...process.env,
      PORT: '0',
      ARAUTO_ADMIN_TOKEN: TOKEN,
      ARAUTO_ALLOW_PRIVATE_NETWORKS: 'true',
      ARAUTO_LOG_LEVEL: 'info',
      // A fixed key: the bench databases are throwaway, and PostgreSQL requires one.
      ARAUTO_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  const dispatcherOnly = args.includes('--dispatcher-only');
  const url = await new Promise<string | null>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.includes('Arauto API listening')) resolve(JSON.parse(line).url);
      else if (dispatcherOnly && line.includes('"dispatcher started"')) resolve(null);
      else if (line.includes('"level":50') || line.includes('"level":40')) process.stderr.write(`${line}\n`);
    });
    proc.once('exit', (code) => reject(new Error(`arauto exited with ${code}`)));
  });
  return { proc, url };
}

async function stop(proc: ChildProcess): Promise<void> {
  proc.kill('SIGTERM');
  await once(proc, 'exit');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The partner's side: counts deliveries and the time each arrived. */
async function startReceiver(expected: number) {
  const arrivals = new Float64Array(EVENTS).fill(0);
  const latencies: number[] = [];
  let count = 0;
  let firstAt = 0;
  let lastAt = 0;
  let publishStarts: Float64Array | null = null;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      res.statusCode = 204;
      res.end();
      const seq = JSON.parse(Buffer.concat(chunks).toString()).data.seq as number;
      arrivals[seq] = now;
      if (publishStarts) latencies.push(now - (publishStarts[seq] ?? now));
      if (count === 0) firstAt = now;
      count++;
      lastAt = now;
      if (count === expected) resolveDone();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    done,
    track(starts: Float64Array) {
      publishStarts = starts;
    },
    get count() {
      return count;
    },
    get firstAt() {
      return firstAt;
    },
    get lastAt() {
      return lastAt;
    },
    latencies,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function api(pool: Pool, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await pool.request({
    method,
    path,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text);
}

/** Creates one partner with ENDPOINTS endpoints pointing at the receiver; returns its id. */
async function setUp(pool: Pool, receiverUrl: string): Promise<string> {
  const partner = await api(pool, 'POST', '/v1/partners', {
    name: 'Bench',
    cnpj: '11444777000161',
    contact: { name: 'Bench', email: 'bench@example.com' },
  });
  for (let i = 0; i < ENDPOINTS; i++) {
    await api(pool, 'POST', `/v1/partners/${partner.id}/endpoints`, {
      url: `${receiverUrl}/e${i}`,
      environment: 'sandbox',
    });
  }
  return partner.id;
}

/** Publishes EVENTS events with CONCURRENCY requests in flight; returns when all are acknowledged. */
async function publishAll(pool: Pool, partnerId: string, starts: Float64Array): Promise<number> {
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const seq = next++;
        if (seq >= EVENTS) return;
        starts[seq] = performance.now();
        await api(pool, 'POST', '/v1/events', {
          partner_id: partnerId,
          environment: 'sandbox',
          type: 'proposal.status_changed',
          data: { seq, proposal_id: `prop-${seq}`, status: 'approved', previous_status: 'in_analysis' },
        });
      }
    }),
  );
  return EVENTS / ((performance.now() - began) / 1000);
}

async function live(engine: string, databaseUrl: string): Promise<Result> {
  const expected = EVENTS * ENDPOINTS;
  const receiver = await startReceiver(expected);
  const arauto = await startArauto(['serve'], { ARAUTO_DATABASE_URL: databaseUrl });
  const pool = new Pool(arauto.url ?? '', { connections: CONCURRENCY });
  try {
    const partnerId = await setUp(pool, receiver.url);
    const starts = new Float64Array(EVENTS);
    receiver.track(starts);
    const began = performance.now();
    const publishPerSecond = await publishAll(pool, partnerId, starts);
    await receiver.done;
    const seconds = (receiver.lastAt - began) / 1000;
    const sorted = receiver.latencies.sort((a, b) => a - b);
    return {
      engine,
      mode: 'live',
      deliveries: expected,
      seconds,
      perSecond: expected / seconds,
      publishPerSecond,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
  } finally {
    await pool.close();
    await stop(arauto.proc);
    receiver.close();
  }
}

async function drain(engine: string, databaseUrl: string): Promise<Result> {
  const expected = EVENTS * ENDPOINTS;
  const receiver = await startReceiver(expected);
  const apiOnly = await startArauto(['serve', '--api-only'], { ARAUTO_DATABASE_URL: databaseUrl });
  const pool = new Pool(apiOnly.url ?? '', { connections: CONCURRENCY });
  try {
    const partnerId = await setUp(pool, receiver.url);
    await publishAll(pool, partnerId, new Float64Array(EVENTS));
  } finally {
    await pool.close();
    await stop(apiOnly.proc);
  }
  const dispatcher = await startArauto(['serve', '--dispatcher-only'], { ARAUTO_DATABASE_URL: databaseUrl });
  try {
    await receiver.done;
    // From the first delivery to the last: the dispatcher's steady rate, without process start-up.
    const seconds = (receiver.lastAt - receiver.firstAt) / 1000;
    return {
      engine,
      mode: 'drain',
      deliveries: expected,
      seconds,
      perSecond: expected / seconds,
      publishPerSecond: null,
      p50: null,
      p99: null,
    };
  } finally {
    await stop(dispatcher.proc);
    receiver.close();
  }
}

async function databases(
  engine: string,
): Promise<{ url: () => string; cleanup: () => Promise<void> } | null> {
  if (engine === 'sqlite') {
    const files: string[] = [];
    return {
      url: () => {
        const file = join(tmpdir(), `arauto-bench-${process.pid}-${files.length}.db`);
        files.push(file);
        return `sqlite:${file}`;
      },
      cleanup: async () => {
        for (const f of files) for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
      },
    };
  }
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (error) {
    process.stdout.write(`postgres: skipped, ${PG_URL} is not reachable (${(error as Error).message})\n`);
    return null;
  }
  const schemas: string[] = [];
  return {
    url: () => {
      const schema = `bench_${process.pid}_${schemas.length}`;
      schemas.push(schema);
      const u = new URL(PG_URL);
      u.searchParams.set('schema', schema);
      return u.toString();
    },
    cleanup: async () => {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await client.end();
    },
  };
}

const results: Result[] = [];
process.stdout.write(
  `Arauto bench: ${EVENTS} events × ${ENDPOINTS} endpoint(s), ${CONCURRENCY} concurrent publishes, ` +
    `${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}\n`,
);
for (const engine of values.engines.split(',')) {
  const db = await databases(engine);
  if (!db) continue;
  try {
    for (const mode of values.modes.split(',')) {
      const runs: Result[] = [];
      for (let i = 0; i < RUNS; i++) {
        const result = mode === 'live' ? await live(engine, db.url()) : await drain(engine, db.url());
        runs.push(result);
        process.stdout.write(
          `${engine} ${mode} run ${i + 1}/${RUNS}: ${result.perSecond.toFixed(0)} deliveries/s\n`,
        );
      }
      // The median run: one noisy neighbour on a shared machine should not make the headline.
      const median = runs.sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)];
      if (median) results.push(median);
    }
  } finally {
    await db.cleanup();
  }
}

const fmt = (n: number | null, digits = 0) => (n === null ? '—' : n.toFixed(digits));
process.stdout.write(
  '\n| engine | mode | deliveries | seconds | deliveries/s | publishes/s | p50 ms | p99 ms |\n',
);
process.stdout.write('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
for (const r of results) {
  process.stdout.write(
    `| ${r.engine} | ${r.mode} | ${r.deliveries} | ${fmt(r.seconds, 2)} | ${fmt(r.perSecond)} | ${fmt(r.publishPerSecond)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} |\n`,
  );
}
