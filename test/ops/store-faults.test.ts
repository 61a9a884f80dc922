import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readlinkSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliContext } from '../../src/core/context';
import { StoreFault } from '../../src/store/errors';
import { openSqliteStore } from '../../src/store/sqlite';
import { openTestCore } from '../support/core';
import { startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';
import {
  cannotMountExt4,
  cannotMountTmpfs,
  Doors,
  emptyLog,
  integrityCheck,
  mountExt4,
  mountTmpfs,
  skipNote,
  until,
  type Ext4,
  type Tmpfs,
} from './ops-support';

/**
 * Store faults, made for real under a `dualgate serve` process: a lock held by another process, a full file
 * system, a file system gone read-only, the database file renamed away, the database files deleted. Each
 * door must answer its internal-error format, /healthz 503, the process must live on, and service must come
 * back once the fault is gone.
 */
const USER = { username: 'ann', password: 'ann-password' };
const INTEGRATOR = { username: 'integ', password: 'integ-password' };

const ZATO_LOGIN = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:zato="https://zato.io/ns/20130518"><soapenv:Body><zato:zato_security_jwt_log_in_request><zato:username>${USER.username}</zato:username><zato:password>${USER.password}</zato:password></zato:zato_security_jwt_log_in_request></soapenv:Body></soapenv:Envelope>`;
const XWEB_AUTHENTICATE = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Authenticate xmlns="http://www.avectra.com/2005/"><userName>${INTEGRATOR.username}</userName><password>${INTEGRATOR.password}</password></Authenticate></soap:Body></soap:Envelope>`;
const STUDIO_LOGIN = '/studio/api/1/services/api/1/security/login.json';

const started: ServeProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const server of started.splice(0)) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Accounts in a new database at `dbPath`, then a server process over it. */
async function serveAt(dbPath: string, settings: Record<string, string> = {}, seed = true): Promise<ServeProcess> {
  if (seed) {
    const { core } = await openTestCore({}, { dbPath });
    await core.accounts.create({ ...USER }, cliContext);
    await core.accounts.create({ ...INTEGRATOR, role: 'integrator' }, cliContext);
    await core.close();
  }
  const server = await startServeProcess({ DUALGATE_DB: dbPath, DUALGATE_LOGIN_RATE: '0', DUALGATE_BUSY_TIMEOUT_MS: '200', ...settings });
  started.push(server);
  return server;
}

/** A complete checkpoint that leaves the log file at its size, as a server's background checkpoints do. */
function emptyLogKeepingItsSpace(path: string): void {
  const db = new Database(path);
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    expect(result!.checkpointed).toBe(result!.log);
  } finally {
    db.close();
  }
}

const post = (url: string, body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers, body });

/** Every door's answer to a log-in while the store fails with `reason`, in the door's own internal-error format. */
async function expectInternalErrors(url: string, reason: string): Promise<void> {
  const zatoJson = await post(`${url}/zato/json/zato.security.jwt.log-in`, JSON.stringify(USER), { 'Content-Type': 'application/json' });
  expect(zatoJson.status).toBe(500);
  expect(((await zatoJson.json()) as { zato_env: unknown }).zato_env).toEqual({ result: 'ZATO_ERROR', cid: zatoJson.headers.get('x-zato-cid'), details: `Store unavailable: ${reason}` });

  const zatoSoap = await post(`${url}/zato/soap`, ZATO_LOGIN, { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"zato.security.jwt.log-in"' });
  expect(zatoSoap.status).toBe(500);
  const zatoFault = await zatoSoap.text();
  expect(zatoFault).toContain('<faultcode>soap:Server</faultcode>');
  expect(zatoFault).toContain(`faultstring [Store unavailable: ${reason}]`);

  const xwebSoap = await post(`${url}/xweb/secure/netForumXML.asmx`, XWEB_AUTHENTICATE, {
    'Content-Type': 'text/xml; charset=utf-8',
    SOAPAction: '"http://www.avectra.com/2005/Authenticate"',
  });
  expect(xwebSoap.status).toBe(500);
  const xwebFault = await xwebSoap.text();
  expect(xwebFault).toContain('<faultcode>soap:Server</faultcode>');
  expect(xwebFault).toContain('The service is temporarily unavailable');

  const xwebJson = await post(`${url}/xweb/JSON/Authenticate`, JSON.stringify({ Authenticate: { userName: INTEGRATOR.username, password: INTEGRATOR.password } }), {
    'Content-Type': 'application/json',
  });
  expect(xwebJson.status).toBe(503);
  expect(await xwebJson.json()).toEqual({ Message: 'The service is temporarily unavailable', ExceptionType: 'SystemException' });

  const crafter = await post(`${url}${STUDIO_LOGIN}`, JSON.stringify(USER), {
    'Content-Type': 'application/json',
    Cookie: 'XSRF-TOKEN=x',
    'X-XSRF-TOKEN': 'x',
  });
  expect(crafter.status).toBe(500);
  expect(await crafter.json()).toEqual({ message: `Internal server error. ${reason}` });

  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(503);
  expect(await health.json()).toEqual({ status: 'unavailable' });
}

/** Every door logs in again, /healthz is 200, and sessions from before the fault are as they were. */
async function expectServing(server: ServeProcess, before: { alive: string; dead: string }): Promise<void> {
  expect(server.child.exitCode).toBeNull();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  const doors = new Doors(server.url);
  doors.integrator = await doors.xwebAuthenticate(INTEGRATOR.username, INTEGRATOR.password);
  for (const door of ['zato', 'xweb', 'crafter'] as const) expect(await doors.alive(await doors.login(door, USER.username, USER.password))).toBe(true);
  expect(await doors.alive(before.alive)).toBe(true);
  expect(await doors.alive(before.dead)).toBe(false);
}

/** A session alive and one logged out, both acknowledged before the fault. */
async function sessionsBefore(url: string): Promise<{ alive: string; dead: string }> {
  const doors = new Doors(url);
  const alive = await doors.login('zato', USER.username, USER.password);
  const dead = await doors.login('crafter', USER.username, USER.password);
  await doors.logout('zato', dead);
  return { alive, dead };
}

/** Another process holding SQLite's write lock on `dbPath` until told to let go. */
async function holdWriteLock(dbPath: string): Promise<{ release(): Promise<void> }> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.on('data', () => {}).on('end', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script, dbPath], { cwd: join(__dirname, '..', '..'), stdio: ['pipe', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  return {
    release: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

describe('store faults under a running server', () => {
  it('a write lock held by another process past busy_timeout: internal errors and 503, then service', async () => {
    const db = join(tempDir(), 'locked.db');
    const server = await serveAt(db);
    const before = await sessionsBefore(server.url);
    const lock = await holdWriteLock(db);
    await expectInternalErrors(server.url, 'database is locked');
    await lock.release();
    await expectServing(server, before);
    expect(await server.stop()).toBe(0);
    expect(integrityCheck(db)).toBe('ok');
  });

  skipNote('a full disk', cannotMountTmpfs);
  (cannotMountTmpfs ? it.skip : it)('a full file system (size-limited tmpfs): internal errors and 503, then service once there is room', async () => {
    const fs: Tmpfs = mountTmpfs('8m');
    cleanups.push(() => fs.unmount());
    const db = join(fs.dir, 'full.db');
    const server = await serveAt(db);
    const before = await sessionsBefore(server.url);
    emptyLog(db);
    const filler = fs.fill();
    await expectInternalErrors(server.url, 'disk is full');
    rmSync(filler);
    await expectServing(server, before);
    expect(await server.stop()).toBe(0);
    expect(integrityCheck(db)).toBe('ok');
  });

  (cannotMountTmpfs ? it.skip : it)('a full file system while the log still has room: a small write commits, and health already reports the disk full', async () => {
    const fs: Tmpfs = mountTmpfs('8m');
    cleanups.push(() => fs.unmount());
    const path = join(fs.dir, 'room.db');
    const store = openSqliteStore({ path, synchronous: 'NORMAL', busyTimeoutMs: 200 });
    cleanups.push(() => void store.close());
    // About a hundred pages through the log, then a checkpoint: the next write starts the log over in its own space.
    for (let i = 0; i < 100; i++) await store.secret(`filler-${i}`, 'x'.repeat(3000));
    emptyLogKeepingItsSpace(path);
    const filler = fs.fill();

    expect(await store.secret('after-the-disk-filled', 'v')).toBe('v');
    await expect(store.ping()).rejects.toThrow(new StoreFault('disk is full'));

    rmSync(filler);
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    expect(integrityCheck(path)).toBe('ok');
  });

  skipNote('a read-only file system', cannotMountExt4);
  (cannotMountExt4 ? it.skip : it)(
    'a file system the kernel turned read-only (ext4, errors=remount-ro): internal errors and 503; after repair every acknowledged write is there',
    async () => {
      const fs: Ext4 = mountExt4(16);
      cleanups.push(() => fs.unmount());
      const db = join(fs.dir, 'ro.db');
      // FULL: each commit is on the disk before it is answered, so the abort of the file system loses none.
      const settings = { DUALGATE_SYNCHRONOUS: 'FULL' };
      const server = await serveAt(db, settings);
      const before = await sessionsBefore(server.url);
      fs.triggerError();
      await expectInternalErrors(server.url, 'database I/O error');
      expect(server.child.exitCode).toBeNull();
      expect(await server.stop()).toBe(0);

      fs.repairAndRemount();
      const again = await serveAt(db, settings, false);
      await expectServing(again, before);
      expect(await again.stop()).toBe(0);
      expect(integrityCheck(db)).toBe('ok');
    },
  );

  it('the database file renamed away: every door refuses at once (no health call needed), and serves again when it is back', async () => {
    const dir = tempDir();
    const db = join(dir, 'moved.db');
    const server = await serveAt(db);
    const before = await sessionsBefore(server.url);
    renameSync(db, join(dir, 'elsewhere.db'));
    // The directory watch, not /healthz, makes the doors refuse: poll a door only.
    await until('a door to refuse', 2000, async () => {
      const res = await post(`${server.url}/zato/json/zato.security.jwt.log-in`, JSON.stringify(USER), { 'Content-Type': 'application/json' });
      return res.status === 500;
    });
    await expectInternalErrors(server.url, 'database file was removed');
    renameSync(join(dir, 'elsewhere.db'), db);
    await until('/healthz to be 200 again', 2000, async () => (await fetch(`${server.url}/healthz`)).status === 200);
    await expectServing(server, before);
    expect(await server.stop()).toBe(0);
    expect(integrityCheck(db)).toBe('ok');
  });

  it('the database files deleted: every door refuses, and the data is recovered from the running process', async () => {
    const dir = tempDir();
    const db = join(dir, 'deleted.db');
    const server = await serveAt(db);
    const before = await sessionsBefore(server.url);
    for (const suffix of ['', '-wal', '-shm']) unlinkSync(db + suffix);
    await expectInternalErrors(server.url, 'database file was removed');
    expect(server.child.exitCode).toBeNull();

    // The documented recovery: the files are still open in the process, which writes nothing more to them.
    // Copy them out through /proc, stop the process, put the copies in place.
    const fds = `/proc/${server.child.pid}/fd`;
    for (const fd of readdirSync(fds)) {
      const target = readlinkSync(join(fds, fd));
      if (target === `${db} (deleted)`) copyFileSync(join(fds, fd), `${db}.recovered`);
      if (target === `${db}-wal (deleted)`) copyFileSync(join(fds, fd), `${db}.recovered-wal`);
    }
    expect(await server.stop()).toBe(0);
    renameSync(`${db}.recovered`, db);
    renameSync(`${db}.recovered-wal`, `${db}-wal`);

    const again = await serveAt(db, {}, false);
    await expectServing(again, before);
    expect(await again.stop()).toBe(0);
    expect(integrityCheck(db)).toBe('ok');
  });
});
