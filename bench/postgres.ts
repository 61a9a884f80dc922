/**
 * The PostgreSQL scenarios of `npm run bench` (BENCH_ONLY=postgres): JSON log-out, SOAP WebValidate, Crafter
 * validate-session and log-in, each against one dualgate node on SQLite and then one on PostgreSQL, in the
 * same run, with the same seeded data (seeded into SQLite, then moved with `store copy`). PostgreSQL is a
 * throwaway cluster of the bench's own (Debian's initdb and pg_ctl) unless BENCH_POSTGRES_URL names an empty
 * database (then over its Unix socket). Each row gives both stores' req/s, p50 and p99, the ratio PostgreSQL / SQLite, and the CPU per
 * request of the dualgate node and of the PostgreSQL server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copySqliteToPostgres } from '../src/store/copy';
import { parseStoreLocation } from '../src/store/location';
import type { TokenKind } from '../src/store/types';
import { postgresBinDir, startLocalCluster, type LocalCluster } from '../test/support/postgres';
import { jobFor, Pools, SHAPES, startDualgate, treeCpuMs, warm, type Owners, type Pool, type ShapeKey } from './harness';
import { load, type LoadResult } from './load';
import type { Seeder } from './seed';

export interface StoreComparison {
  scenario: string;
  sqlite: Measured;
  postgres: Measured;
}

export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU µs per answered request: the dualgate node, and the PostgreSQL server (all its processes). */
  nodeCpuUs: number;
  databaseCpuUs?: number;
}

interface Settings {
  dir: string;
  dbPath: string;
  seeder: Seeder;
  owners: Owners;
  jwtSecret: string;
  bcryptCost: number;
  seconds: number;
  connections: number;
  poolSize: number;
  loginSeconds: number;
  loginConnections: number;
  log: (line: string) => void;
  /** Run each node with --cpu-prof, writing its profile under this directory (BENCH_PROFILE). */
  profileDir?: string;
}

const THROUGHPUT: { key: ShapeKey; title: string; kind: TokenKind; door: string }[] = [
  { key: 'jsonLogout', title: 'Zato JSON log-out', kind: 'jwt', door: 'zato' },
  { key: 'xwebValidate', title: 'xWeb SOAP WebValidate', kind: 'guid', door: 'xweb' },
  { key: 'crafterValidate', title: 'Crafter validate-session.json', kind: 'cookie', door: 'crafter' },
];

/** The postmaster's pid, from its data directory: its backends are its children. */
function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

export async function comparePostgres(s: Settings): Promise<StoreComparison[]> {
  const pools = new Pools(s.dir, s.seeder, s.owners);
  // A pool per scenario and store: a log-out ends its session, so no token is used twice.
  const seeded = new Map<string, Pool>();
  for (const t of THROUGHPUT) {
    for (const store of ['sqlite', 'postgres']) {
      for (const part of ['warm', 'run']) {
        const name = `pg-${t.key}-${store}-${part}`;
        const size = part === 'warm' ? 2000 : s.poolSize;
        seeded.set(name, t.key === 'xwebValidate' ? await pools.xweb(name, size) : await pools.tokens(name, t.kind, size, t.door, t.key === 'jsonLogout' ? 'revoked' : 'touched'));
      }
    }
  }
  const logins = pools.usernames('pg-logins', 100_000);

  let cluster: LocalCluster | undefined;
  let url = process.env.BENCH_POSTGRES_URL;
  if (!url) {
    const binDir = postgresBinDir();
    if (!binDir) throw new Error('the PostgreSQL scenarios need BENCH_POSTGRES_URL or initdb and pg_ctl (pg_config --bindir)');
    cluster = await startLocalCluster(binDir);
    // Its Unix socket, as a node beside its database connects (over TCP, loopback's writes cost the node
    // more CPU than the rest of a log-out).
    url = cluster.socketUrl;
  }
  try {
    const where = parseStoreLocation(url, 1).location;
    if (where?.kind !== 'postgres') throw new Error('BENCH_POSTGRES_URL: expected a postgres:// URL');
    s.log('postgres: copying the seeded store into PostgreSQL');
    await copySqliteToPostgres(s.dbPath, { url, where: where.where, timeoutMs: 60_000 });
    const databaseCpu = () => (cluster ? treeCpuMs(postmasterPid(cluster.dataDir)) : undefined);

    const results: StoreComparison[] = [];
    const measured: Record<string, Record<string, Measured>> = {};
    for (const store of ['sqlite', 'postgres'] as const) {
      const server = await startDualgate({
        dbPath: store === 'sqlite' ? s.dbPath : url,
        workers: 1,
        logFile: join(s.dir, `pg-compare-${store}.log`),
        jwtSecret: s.jwtSecret,
        bcryptCost: s.bcryptCost,
        profileDir: s.profileDir && join(s.profileDir, `pg-compare-${store}`),
      });
      try {
        const run = async (key: string, job: Parameters<typeof load>[0]): Promise<void> => {
          const node = server.cpuMs();
          const database = store === 'postgres' ? databaseCpu() : undefined;
          const result: LoadResult = await load(job);
          const answered = Math.max(1, result.responses);
          (measured[key] ??= {})[store] = {
            rps: result.rps,
            p50: result.p50,
            p99: result.p99,
            errors: result.errors + result.non2xx,
            nodeCpuUs: ((server.cpuMs() - node) * 1000) / answered,
            databaseCpuUs: database === undefined ? undefined : ((databaseCpu()! - database) * 1000) / answered,
          };
          s.log(`postgres: ${key} on ${store}: ${Math.round(result.rps)} req/s, p50 ${Number(result.p50).toFixed(2)} ms, p99 ${Number(result.p99).toFixed(2)} ms, ${result.responses} answers, ${result.errors + result.non2xx} errors`);
        };
        for (const t of THROUGHPUT) {
          const shape = SHAPES[t.key];
          await warm(server.url, shape, seeded.get(`pg-${t.key}-${store}-warm`)!, 0, s.connections, 1);
          const pool = seeded.get(`pg-${t.key}-${store}-run`)!;
          await run(t.title, jobFor(server.url, shape, { valuesFile: pool.file, maxRequests: pool.size, connections: s.connections, seconds: s.seconds }));
        }
        await load(jobFor(server.url, SHAPES.jsonLogin, { valuesFile: logins, connections: s.loginConnections, seconds: 1, maxRequests: 20 }));
        await run('Zato JSON log-in', jobFor(server.url, SHAPES.jsonLogin, { valuesFile: logins, firstValue: store === 'sqlite' ? 100 : 50_000, connections: s.loginConnections, seconds: s.loginSeconds }));
      } finally {
        await server.stop();
      }
    }
    for (const scenario of [...THROUGHPUT.map((t) => t.title), 'Zato JSON log-in']) {
      results.push({ scenario, sqlite: measured[scenario]!.sqlite!, postgres: measured[scenario]!.postgres! });
    }
    return results;
  } finally {
    cluster?.remove();
  }
}

/** The comparison as a markdown table. */
export function comparisonTable(rows: StoreComparison[]): string {
  // A run with no answer has no percentiles (NaN, or null once it crossed a process boundary as JSON).
  const f = (n: number | null | undefined, d = 2) => (n === undefined || n === null || Number.isNaN(n) ? '–' : n.toFixed(d));
  const lines = [
    '| scenario (1 node) | SQLite req/s | PostgreSQL req/s | ratio PG / SQLite | target | met | p50 ms SQLite / PG | p99 ms SQLite / PG | node CPU µs/req SQLite / PG | PostgreSQL CPU µs/req | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const ratio = r.postgres.rps / r.sqlite.rps;
    const errors = r.sqlite.errors + r.postgres.errors;
    lines.push(
      `| ${r.scenario} | ${Math.round(r.sqlite.rps)} | ${Math.round(r.postgres.rps)} | ${f(ratio)} | ≥ 0.40 | ${ratio >= 0.4 && errors === 0 ? 'yes' : '**no**'} | ${f(r.sqlite.p50)} / ${f(r.postgres.p50)} | ${f(r.sqlite.p99)} / ${f(r.postgres.p99)} | ${Math.round(r.sqlite.nodeCpuUs)} / ${Math.round(r.postgres.nodeCpuUs)} | ${r.postgres.databaseCpuUs === undefined ? '' : Math.round(r.postgres.databaseCpuUs)} | ${errors} |`,
    );
  }
  return lines.join('\n');
}
