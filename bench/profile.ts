/**
 * Profiles one scenario: seeds a fresh database, starts the production server with --cpu-prof, drives the
 * scenario at full speed, stops the server and prints where its CPU went (bench/profile-summary.ts).
 *   npx tsc -p tsconfig.build.json && npx tsc -p tsconfig.bench.json
 *   node build/bench/profile.js jsonLogout|soapLogout|xwebValidate|crafterValidate [seconds] [workers]
 */
import bcrypt from 'bcrypt';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstLine, jobFor, PASSWORD, Pools, sample, SHAPES, startDualgate, type ShapeKey } from './harness';
import { load } from './load';
import { openSeeder } from './seed';

const KINDS = { jsonLogout: 'jwt', soapLogout: 'jwt', xwebValidate: 'guid', crafterValidate: 'cookie' } as const;
const DOORS = { jsonLogout: 'zato', soapLogout: 'zato', xwebValidate: 'xweb', crafterValidate: 'crafter' } as const;

async function main(): Promise<void> {
  const key = (process.argv[2] ?? 'jsonLogout') as keyof typeof KINDS & ShapeKey;
  const seconds = Number(process.argv[3] ?? 5);
  const workers = Number(process.argv[4] ?? 1);
  if (!(key in KINDS)) throw new Error(`unknown scenario ${key}; one of ${Object.keys(KINDS).join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'dualgate-profile-'));
  const jwtSecret = randomBytes(48).toString('base64url');
  try {
    const dbPath = join(dir, 'profile.db');
    const seeder = await openSeeder(dbPath, jwtSecret);
    const hash = await bcrypt.hash(PASSWORD, 4);
    const owners = { users: await seeder.accounts('user', 1000, 'user', hash), integrators: await seeder.accounts('integrator', 10, 'integrator', hash) };
    const pools = new Pools(dir, seeder, owners);
    const size = 20_000 * seconds;
    const pool = key === 'xwebValidate' ? await pools.xweb('profile', size) : await pools.tokens('profile', KINDS[key], size, DOORS[key], 'revoked');
    seeder.close();
    const profileDir = join(dir, 'profiles');
    const server = await startDualgate({ dbPath, workers, logFile: join(dir, 'server.log'), jwtSecret, bcryptCost: 4, profileDir });
    const shape = SHAPES[key];
    await sample(server.url, shape, firstLine(pool));
    const result = await load(jobFor(server.url, shape, { valuesFile: pool.file, firstValue: 1, connections: 10, seconds }));
    console.log(`${key}: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${result.errors + result.non2xx} errors`);
    await server.stop();
    const files = readdirSync(profileDir).map((f) => join(profileDir, f));
    const focus = process.env.FOCUS ? ['--focus', process.env.FOCUS] : [];
    process.stdout.write(execFileSync(process.execPath, [join(__dirname, 'profile-summary.js'), ...files, '--top', '40', ...focus], { encoding: 'utf8' }));
  } finally {
    if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
