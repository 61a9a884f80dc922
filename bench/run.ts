/**
 * `npm run bench`: the production server (`node dist/cli.js serve --workers N`) over a fresh, seeded
 * database, driven by autocannon in a process of its own, scenario by scenario, with the baselines measured
 * in the same run: (a) a bare Express app answering the same requests with a fixed body of the same bytes,
 * (b) the bcrypt bound. Prints one table and writes it, with the machine and the settings, to bench/results.md.
 *
 * Knobs (environment): BENCH_SECONDS (5) per throughput run, BENCH_REPEATS (2) runs per throughput pair (the
 * better of each side is kept), BENCH_CONNECTIONS (10), BENCH_POOL (60000) tokens a throughput run may use,
 * BENCH_RATE (250) requests a second and BENCH_P99_SECONDS (8) for the p99 scenarios, BENCH_LOGIN_SECONDS (10),
 * BENCH_LOGIN_CONNECTIONS (16), BENCH_WORKERS ("1,2"), BENCH_SCALE_LARGE (1000000), BENCH_ONLY (some of
 * jsonLogout, jsonSeedLogout, soapLogout, xwebValidate, crafterValidate, login, storm, hostileEnvelopes, scale, soapHosting, xmlReader,
 * postgres), BENCH_PG_POOL (30000) tokens per PostgreSQL comparison run, BENCH_POSTGRES_URL (an empty database for
 * it; else a throwaway cluster), BENCH_PROFILE (a
 * directory: the servers run with --cpu-prof and write their profiles there), BENCH_RESULTS (where to write
 * the table; "-" for nowhere), BENCH_KEEP (keep the temporary directory: databases, logs, token pools).
 * DUALGATE_BCRYPT_COST and the other DUALGATE_* settings pass through to the server.
 */
import bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import type { TokenKind } from '../src/store/types';
import type { BaselineRoute } from './baseline';
import {
  affected,
  bcryptBound,
  firstLine,
  jobFor as shapeJob,
  PASSWORD,
  Pools,
  REPO,
  sample,
  SHAPES,
  sleep,
  startBaseline,
  startDualgate,
  warm as warmShape,
  type Owners,
  type Pool,
  type Shape,
  type ShapeKey,
} from './harness';
import { load, type LoadJob, type LoadResult } from './load';
import { openSeeder, type Seeder } from './seed';
import { comparePostgres, comparisonTable } from './postgres';
import { measureSoapHosting, soapHostingTable } from './soap-hosting';
import { hostileEnvelope, measureXmlReader } from './xml-reader';

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 5);
const REPEATS = Number(env.BENCH_REPEATS ?? 2);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 10);
const RATE = Number(env.BENCH_RATE ?? 250);
/** The p99 scenarios: this long, over this few connections (more fire in bursts and measure the generator). */
const P99_SECONDS = Number(env.BENCH_P99_SECONDS ?? 8);
const RATE_CONNECTIONS = 2;
const LOGIN_SECONDS = Number(env.BENCH_LOGIN_SECONDS ?? 10);
const LOGIN_CONNECTIONS = Number(env.BENCH_LOGIN_CONNECTIONS ?? 16);
const WORKERS = (env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const SCALE_SMALL = 10_000;
const SCALE_LARGE = Number(env.BENCH_SCALE_LARGE ?? 1_000_000);
const ACCOUNTS = 1000;
/** Tokens a throughput run may use at most (it stops early if it gets through them all). */
const POOL = Number(env.BENCH_POOL ?? 60_000);
const WARM_POOL = 4000;
const ONLY = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',')) : undefined;
const PROFILE_DIR = env.BENCH_PROFILE;
const JWT_SECRET = randomBytes(48).toString('base64url');
const config = loadConfig(env);
const BCRYPT_COST = config.bcryptCost;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const wanted = (key: string) => !ONLY || ONLY.has(key);
const jobFor = (url: string, shape: Shape, extra: Partial<LoadJob>): LoadJob => shapeJob(url, shape, { connections: CONNECTIONS, seconds: SECONDS, ...extra });
const warm = (url: string, shape: Shape, pool: Pool, first: number, seconds?: number) => warmShape(url, shape, pool, first, CONNECTIONS, seconds);
const atRate = { rate: RATE, connections: RATE_CONNECTIONS, seconds: P99_SECONDS };
const dualgate = (dbPath: string, workers: number, logFile: string, label: string) =>
  startDualgate({ dbPath, workers, logFile, jwtSecret: JWT_SECRET, bcryptCost: BCRYPT_COST, profileDir: PROFILE_DIR && join(PROFILE_DIR, label) });

// ---------------------------------------------------------------------------------------------------------
// The table.

interface Row {
  scenario: string;
  workers: number | '';
  rps?: number;
  p50?: number;
  p99?: number;
  errors?: number;
  /** The figure the target is about, against its baseline. */
  ratio?: number;
  ratioOf?: string;
  target?: string;
  met?: boolean;
  note?: string;
  /** CPU time the server (or the baseline) spent per answered request, all its processes and threads. */
  cpuUs?: number;
}

const rows: Row[] = [];
const notes: string[] = [];

function fmt(n: number | undefined, digits = 2): string {
  return n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits);
}

/** Requests a second: whole numbers, but two decimals below 100 (log-ins at bcrypt's pace). */
function rate(rps: number | undefined): string {
  return rps === undefined ? '' : rps < 100 ? rps.toFixed(2) : String(Math.round(rps));
}

function table(): string {
  const lines = [
    '| scenario | workers | req/s | p50 ms | p99 ms | errors | ratio to baseline | target | met | server CPU µs/req |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `${fmt(r.ratio)}${r.ratioOf ? ` ${r.ratioOf}` : ''}`;
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    lines.push(
      `| ${r.scenario}${r.note ? ` (${r.note})` : ''} | ${r.workers} | ${rate(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors ?? ''} | ${ratio} | ${r.target ?? ''} | ${met} | ${r.cpuUs === undefined ? '' : Math.round(r.cpuUs)} |`,
    );
  }
  return lines.join('\n');
}

/** Errors of a run: socket errors, timeouts, non-2xx answers, requests that did not do their work, reused tokens. */
function errorsOf(result: LoadResult, pool?: Pool, dbPath?: string, before = 0): number {
  let errors = result.errors + result.non2xx + (result.exhausted ? 1 : 0);
  if (pool && dbPath) {
    const did = affected(dbPath, pool) - before;
    // Every answered request did its work; a request in flight when the run stopped may have done it too.
    const ok = result.responses - result.non2xx;
    if (did < ok) errors += ok - did;
    if (did > result.handedOut) errors += did - result.handedOut;
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------------------

async function runWorkers(workers: number, dir: string, dbPath: string, seeder: Seeder, owners: Owners): Promise<void> {
  const pools = new Pools(dir, seeder, owners);
  const w = `w${workers}`;
  log(`workers ${workers}: seeding pools`);
  // `target`: the design card's, a ratio to bare Express; `nodeTarget`: issue 19's, a ratio to bare node:http.
  const throughput: { key: ShapeKey; title: string; kind: TokenKind; door: string; effect: Pool['effect']; target: number; nodeTarget?: number }[] = [
    { key: 'jsonLogout', title: 'Zato JSON log-out (Zato 3 alias /zato/jwt/log-out)', kind: 'jwt', door: 'zato', effect: 'revoked', target: 0.7 },
    { key: 'jsonSeedLogout', title: "Zato JSON log-out (the seed's /zato/json/zato.security.jwt.log-out)", kind: 'jwt', door: 'zato', effect: 'revoked', target: 0.7, nodeTarget: 0.25 },
    { key: 'soapLogout', title: 'Zato SOAP log-out', kind: 'jwt', door: 'zato', effect: 'revoked', target: 0.6, nodeTarget: 0.2 },
    { key: 'xwebValidate', title: 'xWeb SOAP WebValidate', kind: 'guid', door: 'xweb', effect: 'touched', target: 0.75, nodeTarget: 0.22 },
    { key: 'crafterValidate', title: 'Crafter validate-session.json', kind: 'cookie', door: 'crafter', effect: 'touched', target: 0.8, nodeTarget: 0.45 },
  ];
  const seeded = new Map<string, { warm: Pool; runs: Pool[] }>();
  for (const s of throughput.filter((t) => wanted(t.key))) {
    const make = (name: string, size: number) =>
      s.key === 'xwebValidate' ? pools.xweb(name, size) : pools.tokens(name, s.kind, size, s.door, s.effect);
    const warmPool = await make(`${s.key}-${w}-warm`, WARM_POOL);
    const runs: Pool[] = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await make(`${s.key}-${w}-${i}`, POOL));
    seeded.set(s.key, { warm: warmPool, runs });
  }
  const fixedSize = Math.ceil(RATE * P99_SECONDS * 1.2) + 200;
  const calm = wanted('storm') ? await pools.tokens(`calm-${w}`, 'jwt', fixedSize, 'zato', 'revoked') : undefined;
  const storm = wanted('storm') ? await pools.tokens(`storm-${w}`, 'jwt', fixedSize, 'zato', 'revoked') : undefined;
  const logins = pools.usernames(`logins-${w}`, 100_000);

  const server = await dualgate(dbPath, workers, join(dir, `server-${w}.log`), `main-${w}`);
  log(`workers ${workers}: dualgate at ${server.url}`);
  try {
    // One real request of each shape: the answer is checked, and the baseline answers the same bytes.
    const routes: BaselineRoute[] = [];
    for (const [key, { warm: warmPool }] of seeded) routes.push(await sample(server.url, SHAPES[key as ShapeKey], firstLine(warmPool)));
    const baseline = await startBaseline(workers, routes);
    const bare = await startBaseline(workers, routes, 'node');
    try {
      for (const s of throughput) {
        const pools = seeded.get(s.key);
        if (!pools) continue;
        const shape = SHAPES[s.key];
        await warm(server.url, shape, pools.warm, 1);
        await load(jobFor(baseline.url, shape, { seconds: 1 }));
        await load(jobFor(bare.url, shape, { seconds: 1 }));
        const base: { result: LoadResult; cpuUs: number }[] = [];
        const node: { result: LoadResult; cpuUs: number }[] = [];
        const mine: { result: LoadResult; errors: number; cpuUs: number }[] = [];
        for (const pool of pools.runs) {
          let cpu = baseline.cpuMs();
          // The same requests as dualgate's run (the generator does the same work), which bare Express ignores.
          const baseResult = await load(jobFor(baseline.url, shape, { valuesFile: pool.file, maxRequests: pool.size }));
          base.push({ result: baseResult, cpuUs: ((baseline.cpuMs() - cpu) * 1000) / baseResult.responses });
          cpu = bare.cpuMs();
          const nodeResult = await load(jobFor(bare.url, shape, { valuesFile: pool.file, maxRequests: pool.size }));
          node.push({ result: nodeResult, cpuUs: ((bare.cpuMs() - cpu) * 1000) / nodeResult.responses });
          const before = affected(dbPath, pool);
          cpu = server.cpuMs();
          const result = await load(jobFor(server.url, shape, { valuesFile: pool.file, maxRequests: pool.size }));
          const cpuUs = ((server.cpuMs() - cpu) * 1000) / result.responses;
          mine.push({ result, errors: errorsOf(result, pool, dbPath, before), cpuUs });
        }
        const bestBase = base.reduce((a, b) => (b.result.rps > a.result.rps ? b : a));
        const bestNode = node.reduce((a, b) => (b.result.rps > a.result.rps ? b : a));
        const best = mine.reduce((a, b) => (b.result.rps > a.result.rps ? b : a));
        const baseErrors = [...base, ...node].reduce((sum, b) => sum + b.result.errors + b.result.non2xx, 0);
        rows.push({
          scenario: `bare node:http, ${s.title} shape`,
          workers,
          rps: bestNode.result.rps,
          p50: bestNode.result.p50,
          p99: bestNode.result.p99,
          errors: node.reduce((sum, b) => sum + b.result.errors + b.result.non2xx, 0),
          cpuUs: bestNode.cpuUs,
        });
        const errors = mine.reduce((sum, m) => sum + m.errors, 0) + baseErrors;
        rows.push({
          scenario: `bare Express, ${s.title} shape`,
          workers,
          rps: bestBase.result.rps,
          p50: bestBase.result.p50,
          p99: bestBase.result.p99,
          errors: baseErrors,
          cpuUs: bestBase.cpuUs,
        });
        const ratio = best.result.rps / bestBase.result.rps;
        const nodeRatio = best.result.rps / bestNode.result.rps;
        if (s.nodeTarget !== undefined) {
          rows.push({
            scenario: `${s.title}, against node:http`,
            workers,
            rps: best.result.rps,
            errors,
            ratio: nodeRatio,
            ratioOf: '× node:http',
            target: `≥ ${s.nodeTarget.toFixed(2)}`,
            met: nodeRatio >= s.nodeTarget && errors === 0,
          });
        }
        rows.push({
          scenario: s.title,
          workers,
          rps: best.result.rps,
          p50: best.result.p50,
          p99: best.result.p99,
          cpuUs: best.cpuUs,
          errors,
          ratio,
          ratioOf: '× Express',
          target: `≥ ${s.target.toFixed(2)}`,
          met: ratio >= s.target && errors === 0,
        });
        log(
          `${s.title}, ${workers} worker(s): ${Math.round(best.result.rps)} req/s vs Express ${Math.round(bestBase.result.rps)} (${ratio.toFixed(2)}), ` +
            `node:http ${Math.round(bestNode.result.rps)} (${nodeRatio.toFixed(2)}); ${Math.round(best.cpuUs)} vs ${Math.round(bestBase.cpuUs)} and ${Math.round(bestNode.cpuUs)} CPU µs/req, ${errors} errors`,
        );
      }
    } finally {
      await Promise.all([baseline.stop(), bare.stop()]);
    }

    if (wanted('login')) {
      // Warm the log-in path (a few compares), then the bound and the scenario back to back.
      await load(jobFor(server.url, SHAPES.jsonLogin, { valuesFile: logins, connections: LOGIN_CONNECTIONS, seconds: 2, maxRequests: 40 }));
      const bound = await bcryptBound(BCRYPT_COST, workers, LOGIN_CONNECTIONS, LOGIN_SECONDS);
      const result = await load(jobFor(server.url, SHAPES.jsonLogin, { valuesFile: logins, firstValue: 1000, connections: LOGIN_CONNECTIONS, seconds: LOGIN_SECONDS }));
      const errors = result.errors + result.non2xx;
      rows.push({ scenario: `bcrypt bound (cost ${BCRYPT_COST}, ${LOGIN_CONNECTIONS} in flight)`, workers, rps: bound });
      const ratio = result.rps / bound;
      rows.push({ scenario: 'Zato JSON log-in', workers, rps: result.rps, p50: result.p50, p99: result.p99, errors, ratio, ratioOf: '× bcrypt', target: '≥ 0.85', met: ratio >= 0.85 && errors === 0 });
      log(`log-in, ${workers} worker(s): ${result.rps.toFixed(2)} req/s vs bound ${bound.toFixed(2)} (${ratio.toFixed(2)})`);
    }

    if (calm && storm) {
      await warm(server.url, SHAPES.jsonLogout, calm, calm.size - 150, 0.5);
      const calmBefore = affected(dbPath, calm);
      const quiet = await load(jobFor(server.url, SHAPES.jsonLogout, { valuesFile: calm.file, ...atRate, maxRequests: calm.size - 200 }));
      const quietErrors = errorsOf(quiet, calm, dbPath, calmBefore);
      rows.push({ scenario: `Zato JSON log-out at ${RATE} req/s`, workers, rps: quiet.rps, p50: quiet.p50, p99: quiet.p99, errors: quietErrors });
      const storming = load(jobFor(server.url, SHAPES.jsonLogin, { valuesFile: logins, firstValue: 50_000, connections: LOGIN_CONNECTIONS, seconds: P99_SECONDS + 3 }));
      await sleep(1500);
      const stormBefore = affected(dbPath, storm);
      const loud = await load(jobFor(server.url, SHAPES.jsonLogout, { valuesFile: storm.file, ...atRate, maxRequests: storm.size }));
      const loudErrors = errorsOf(loud, storm, dbPath, stormBefore);
      const stormLogins = await storming;
      const ratio = loud.p99 / quiet.p99;
      rows.push({
        scenario: `Zato JSON log-out at ${RATE} req/s during a log-in storm`,
        note: `${stormLogins.rps.toFixed(1)} log-ins/s, ${LOGIN_CONNECTIONS} in flight`,
        workers,
        rps: loud.rps,
        p50: loud.p50,
        p99: loud.p99,
        errors: loudErrors + stormLogins.errors + stormLogins.non2xx,
        ratio,
        ratioOf: '× p99 calm',
        target: '≤ 2.00',
        met: ratio <= 2 && loudErrors + quietErrors + stormLogins.errors + stormLogins.non2xx === 0,
      });
      log(`storm, ${workers} worker(s): p99 ${quiet.p99.toFixed(2)} → ${loud.p99.toFixed(2)} ms (${ratio.toFixed(2)})`);
    }

    if (wanted('hostileEnvelopes')) await runHostileEnvelopes(server.url, workers);
  } finally {
    const code = await server.stop();
    if (code !== 0) notes.push(`The ${workers}-worker server exited ${code} on SIGTERM (expected 0).`);
  }
}

/** Clients sending hostile envelopes, and how long they last; `/healthz` is probed this often meanwhile. */
const HOSTILE_CLIENTS = 12;
const HOSTILE_SECONDS = 8;
const HOSTILE_ELEMENTS = 15_000;
const HEALTH_RATE = 50;

/**
 * Issue 21's target: while 12 clients send 64 KiB envelopes of 15,000 elements for 8 s, `/healthz` from
 * another client keeps a median under 50 ms. `/healthz` is measured alone first, then under the envelopes.
 */
async function runHostileEnvelopes(url: string, workers: number): Promise<void> {
  const envelope = hostileEnvelope(HOSTILE_ELEMENTS);
  const health = { url: `${url}/healthz`, method: 'GET' as const, headers: {}, connections: 1, seconds: HOSTILE_SECONDS, rate: HEALTH_RATE };
  const calm = await load(health);
  rows.push({ scenario: `/healthz at ${HEALTH_RATE} req/s, alone`, workers, rps: calm.rps, p50: calm.p50, p99: calm.p99, errors: calm.errors + calm.non2xx });
  const flood = load({
    url: `${url}/zato/soap`,
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"zato.security.jwt.log-in"' },
    body: envelope,
    connections: HOSTILE_CLIENTS,
    seconds: HOSTILE_SECONDS + 1,
  });
  await sleep(500);
  const probed = await load(health);
  const flooded = await flood;
  // Every envelope must be refused (a fault, HTTP 500), none dropped: socket errors count, 500s do not.
  const refused = flooded.statusCodes['500'] ?? 0;
  rows.push({
    scenario: `SOAP envelopes of ${HOSTILE_ELEMENTS.toLocaleString('en')} elements (${(Buffer.byteLength(envelope) / 1024).toFixed(0)} KiB)`,
    note: `${HOSTILE_CLIENTS} clients, each refused with a fault`,
    workers,
    rps: flooded.rps,
    p50: flooded.p50,
    p99: flooded.p99,
    errors: flooded.errors + (flooded.responses - refused),
  });
  rows.push({
    scenario: `/healthz at ${HEALTH_RATE} req/s during those envelopes`,
    workers,
    rps: probed.rps,
    p50: probed.p50,
    p99: probed.p99,
    errors: probed.errors + probed.non2xx,
    ratio: probed.p50,
    ratioOf: 'ms median',
    target: '< 50 ms',
    met: probed.p50 < 50 && probed.errors + probed.non2xx === 0,
  });
  log(`hostile envelopes, ${workers} worker(s): /healthz median ${calm.p50.toFixed(2)} → ${probed.p50.toFixed(2)} ms; ${Math.round(flooded.rps)} envelopes/s refused`);
}

async function runScale(workersList: number[], dir: string, passwordHash: string): Promise<void> {
  const dbPath = join(dir, 'scale.db');
  const seeder = await openSeeder(dbPath, JWT_SECRET);
  const users = await seeder.accounts('user', ACCOUNTS, 'user', passwordHash);
  const fixedSize = Math.ceil(RATE * P99_SECONDS * 1.2) + 200;
  const perWorkers = workersList.length * (fixedSize + 500);
  let stored = 0;
  const p99At = new Map<string, number>();

  /** Adds sessions up to `total`: the measured pools spread among background ones, like sessions of many ages. */
  async function grow(total: number, label: string): Promise<Pool[]> {
    const background = total - stored - perWorkers;
    if (background < 0) throw new Error(`${total} sessions cannot hold the pools`);
    const chunks = 20;
    const parts: string[][] = workersList.map(() => []);
    const warmParts: string[][] = workersList.map(() => []);
    for (let c = 0; c < chunks; c++) {
      const n = Math.floor(background / chunks) + (c < background % chunks ? 1 : 0);
      await seeder.sessions(`scale-background`, 'guid', users, n, 'xweb');
      for (let i = 0; i < workersList.length; i++) {
        const share = Math.floor(fixedSize / chunks) + (c < fixedSize % chunks ? 1 : 0);
        parts[i]!.push(...(await seeder.sessions(`scale-${label}-w${workersList[i]}`, 'jwt', users, share, 'zato')));
        const warmShare = Math.floor(500 / chunks) + (c < 500 % chunks ? 1 : 0);
        warmParts[i]!.push(...(await seeder.sessions(`scale-${label}-w${workersList[i]}-warm`, 'jwt', users, warmShare, 'zato')));
      }
    }
    stored = total;
    const result: Pool[] = [];
    for (let i = 0; i < workersList.length; i++) {
      const shuffle = (list: string[]) => list.map((v) => [Math.random(), v] as const).sort((a, b) => a[0] - b[0]).map(([, v]) => v);
      const file = join(dir, `scale-${label}-w${workersList[i]}.values`);
      writeFileSync(file, `${shuffle(parts[i]!).join('\n')}\n`);
      const warmFile = join(dir, `scale-${label}-w${workersList[i]}-warm.values`);
      writeFileSync(warmFile, `${warmParts[i]!.join('\n')}\n`);
      result.push({ name: `scale-${label}-w${workersList[i]}`, file, size: parts[i]!.length, effect: 'revoked' });
      result.push({ name: `scale-${label}-w${workersList[i]}-warm`, file: warmFile, size: warmParts[i]!.length, effect: 'revoked' });
    }
    return result;
  }

  for (const [total, label] of [
    [SCALE_SMALL, '10k'],
    [SCALE_LARGE, SCALE_LARGE === 1_000_000 ? '1M' : String(SCALE_LARGE)],
  ] as const) {
    log(`scale: seeding up to ${total} sessions`);
    const started = Date.now();
    const grown = await grow(total, label);
    log(`scale: ${total} sessions stored (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    for (let i = 0; i < workersList.length; i++) {
      const workers = workersList[i]!;
      const pool = grown[2 * i]!;
      const warmPool = grown[2 * i + 1]!;
      const server = await dualgate(dbPath, workers, join(dir, `scale-${label}-w${workers}.log`), `scale-${label}-w${workers}`);
      try {
        await load(jobFor(server.url, SHAPES.jsonLogout, { valuesFile: warmPool.file, maxRequests: warmPool.size, seconds: 2 }));
        const before = affected(dbPath, pool);
        const result = await load(jobFor(server.url, SHAPES.jsonLogout, { valuesFile: pool.file, ...atRate, maxRequests: pool.size - 100 }));
        const errors = errorsOf(result, pool, dbPath, before);
        const rss = server.rssMb();
        p99At.set(`${label}-${workers}`, result.p99);
        const small = p99At.get(`10k-${workers}`);
        const large = label !== '10k';
        rows.push({
          scenario: `Zato JSON log-out at ${RATE} req/s, ${total.toLocaleString('en')} stored sessions`,
          note: large ? `RSS after: ${Math.round(rss)} MB` : undefined,
          workers,
          rps: result.rps,
          p50: result.p50,
          p99: result.p99,
          errors,
          ratio: large && small ? result.p99 / small : undefined,
          ratioOf: large ? '× p99 at 10,000' : undefined,
          target: large ? '≤ 1.30; RSS < 300 MB' : undefined,
          met: large && small ? result.p99 / small <= 1.3 && errors === 0 && (workers > 1 || rss < 300) : undefined,
        });
        log(`scale ${label}, ${workers} worker(s): p99 ${result.p99.toFixed(2)} ms, RSS ${Math.round(rss)} MB, ${errors} errors`);
      } finally {
        await server.stop();
      }
    }
  }
  seeder.close();
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'dualgate-bench-'));
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  log(`bcrypt cost ${BCRYPT_COST}; DUALGATE_LOGIN_RATE=0 (the log-in limit is off for the bench); data in ${dir}`);
  try {
    const passwordHash = await bcrypt.hash(PASSWORD, BCRYPT_COST);
    const dbPath = join(dir, 'bench.db');
    const seeder = await openSeeder(dbPath, JWT_SECRET);
    const owners: Owners = {
      users: await seeder.accounts('user', ACCOUNTS, 'user', passwordHash),
      integrators: await seeder.accounts('integrator', 10, 'integrator', passwordHash),
    };
    const mainScenarios = ['jsonLogout', 'soapLogout', 'xwebValidate', 'crafterValidate', 'login', 'storm', 'hostileEnvelopes'];
    if (mainScenarios.some(wanted)) for (const workers of WORKERS) await runWorkers(workers, dir, dbPath, seeder, owners);
    let postgres = '';
    if (wanted('postgres')) {
      log('PostgreSQL beside SQLite, one node each');
      postgres = comparisonTable(
        await comparePostgres({
          dir,
          dbPath,
          seeder,
          owners,
          jwtSecret: JWT_SECRET,
          bcryptCost: BCRYPT_COST,
          seconds: SECONDS,
          connections: CONNECTIONS,
          poolSize: Number(env.BENCH_PG_POOL ?? 30_000),
          loginSeconds: LOGIN_SECONDS,
          loginConnections: LOGIN_CONNECTIONS,
          log,
          profileDir: PROFILE_DIR,
        }),
      );
    }
    seeder.close();
    if (wanted('scale')) await runScale(WORKERS, dir, passwordHash);
    let reader = '';
    if (wanted('xmlReader')) {
      log('XML reader cost');
      reader = measureXmlReader(REPO);
    }
    let hosting = '';
    if (wanted('soapHosting')) {
      log('SOAP hosting comparison');
      hosting = soapHostingTable(await measureSoapHosting(SECONDS, CONNECTIONS));
    }

    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const report = [
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\` (${minutes} min) on ${machine()};`,
      `load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (other work on the machine shows there).`,
      `bcrypt cost ${BCRYPT_COST}; UV_THREADPOOL_SIZE ${env.UV_THREADPOOL_SIZE ?? '4 (default)'}; DUALGATE_LOGIN_RATE=0 (log-in limit off for the bench);`,
      `log level ${config.logLevel} (request lines to a file); ${CONNECTIONS} connections; ${SECONDS} s runs, better of ${REPEATS};`,
      'autocannon in a process of its own, on the same machine; latencies from every response, in ms; the bare Express',
      'baseline gets the very same requests; server CPU is user + system time of all its processes per answered request.',
      '',
      table(),
      ...(notes.length ? ['', ...notes] : []),
      ...(postgres ? ['', 'PostgreSQL beside SQLite (one node each, the same seeded data, PostgreSQL on the same machine):', '', postgres] : []),
      ...(hosting ? ['', 'SOAP hosting (xWeb WebValidate, fixed answer, no core call):', '', hosting] : []),
      ...(reader ? ['', 'The SOAP reader alone, per envelope (best of 7 rounds, in the bench process):', '', reader] : []),
    ].join('\n');
    process.stdout.write(`${report}\n`);
    const target = env.BENCH_RESULTS ?? join(REPO, 'bench', 'results.md');
    if (target !== '-') {
      writeFileSync(target, `# Benchmark results\n\n${report}\n`);
      log(`written to ${target}`);
    }
  } finally {
    if (!env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
