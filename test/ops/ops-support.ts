import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { NIL_GUID } from '../support/wire';

/**
 * Clients of the three doors over their JSON wires, as the ops tests use them: each answers what the door
 * said (token, liveness), or throws with the status when the door refused.
 */
export { NIL_GUID };
const STUDIO = '/studio/api/1/services/api/1/security';
const XSRF = 'ops-test-xsrf';

export class DoorError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

async function call(url: string, init: RequestInit): Promise<{ res: Response; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status !== 200) throw new DoorError(res.status, text);
  return { res, text };
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

export type Door = 'zato' | 'xweb' | 'crafter';
export const DOORS: readonly Door[] = ['zato', 'xweb', 'crafter'];

export class Doors {
  constructor(
    readonly url: string,
    /** An integrator token, for the xWeb calls that need one. */
    public integrator = '',
  ) {}

  async xwebAuthenticate(username: string, password: string): Promise<string> {
    const { text } = await call(`${this.url}/xweb/JSON/Authenticate`, json({ Authenticate: { userName: username, password } }));
    return (JSON.parse(text) as { Token: string }).Token;
  }

  /** Logs in at `door`; the token it handed out. */
  async login(door: Door, username: string, password: string): Promise<string> {
    switch (door) {
      case 'zato': {
        const { text } = await call(`${this.url}/zato/json/zato.security.jwt.log-in`, json({ username, password }));
        return (JSON.parse(text) as { zato_security_jwt_log_in_response: { token: string } }).zato_security_jwt_log_in_response.token;
      }
      case 'xweb': {
        const { text } = await call(`${this.url}/xweb/JSON/WebLogin`, {
          ...json({ WebLogin: { userLoginPlain: username, passwordPlain: password } }),
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.integrator}` },
        });
        return (JSON.parse(text) as { WebLoginResult: string }).WebLoginResult;
      }
      case 'crafter': {
        const { res } = await call(`${this.url}${STUDIO}/login.json`, {
          ...json({ username, password }),
          headers: { 'Content-Type': 'application/json', Cookie: `XSRF-TOKEN=${XSRF}`, 'X-XSRF-TOKEN': XSRF },
        });
        const cookie = res.headers.getSetCookie().find((c) => c.startsWith('JSESSIONID='));
        if (!cookie) throw new Error('no JSESSIONID in the Crafter log-in answer');
        return cookie.slice('JSESSIONID='.length).split(';')[0]!;
      }
    }
  }

  /** Logs `token` out at `door` (any door ends any door's session). */
  async logout(door: Door, token: string): Promise<void> {
    switch (door) {
      case 'zato':
        await call(`${this.url}/zato/json/zato.security.jwt.log-out`, json({ token }));
        return;
      case 'xweb':
        await call(`${this.url}/xweb/JSON/WebLogout`, {
          ...json({ WebLogout: { authenticationToken: token } }),
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.integrator}` },
        });
        return;
      case 'crafter':
        await call(`${this.url}${STUDIO}/logout.json`, { method: 'POST', headers: { Cookie: `JSESSIONID=${token}` } });
        return;
    }
  }

  /** xWeb's WebValidate: the customer key of the live session behind `token`, or the nil GUID. */
  async xwebValidate(token: string): Promise<string> {
    const { text } = await call(`${this.url}/xweb/JSON/WebValidate?authenticationToken=${encodeURIComponent(token)}`, {
      headers: { Authorization: `Bearer ${this.integrator}` },
    });
    return (JSON.parse(text) as { WebValidateResult: string }).WebValidateResult;
  }

  /** Crafter's validate-session with `token` as the session cookie: whether it is active. */
  async crafterActive(token: string): Promise<boolean> {
    const { text } = await call(`${this.url}${STUDIO}/validate-session.json`, { headers: { Cookie: `JSESSIONID=${token}` } });
    return (JSON.parse(text) as { active: boolean }).active;
  }

  /** Whether `token` is alive, asked at every door that can tell (xWeb and Crafter); they must agree. */
  async alive(token: string): Promise<boolean> {
    const [key, active] = await Promise.all([this.xwebValidate(token), this.crafterActive(token)]);
    const xweb = key !== NIL_GUID;
    if (xweb !== active) throw new Error(`the doors disagree on a token: xWeb says ${xweb}, Crafter says ${active}`);
    return xweb;
  }
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function eachLimit<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Resolves with the exit code (or signal) of `child`, or rejects after `ms`. */
export function exitWithin(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** Whether a TCP connection to `url`'s port is refused now. */
export function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Polls `probe` until it answers true; throws after `ms`. */
export async function until(what: string, ms: number, probe: () => Promise<boolean> | boolean, everyMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** SQLite's own consistency check of the file, through a connection of its own. */
export function integrityCheck(path: string): string {
  const db = new Database(path);
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

/**
 * Checkpoints the whole write-ahead log into the database and cuts the log to nothing, from a connection of
 * its own. SQLite otherwise reuses the log's space, so a write that fits there commits even on a full disk;
 * after this, every write needs new space.
 */
export function emptyLog(path: string): void {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (result?.busy !== 0) throw new Error(`the log of ${path} could not be emptied`);
  } finally {
    db.close();
  }
}

/** One value out of Prometheus text: the sample whose name and labels match, summed over the rest. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      total += Number(m[4]);
      found = true;
    }
  }
  if (!found) throw new Error(`no sample ${name}${JSON.stringify(labels)} in the metrics`);
  return total;
}

/* ---- privileged file system faults: each tells why when this machine cannot make it ---- */

function tryRun(file: string, args: string[]): string | undefined {
  try {
    execFileSync(file, args, { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return (e.stderr?.toString().trim() || e.message).split('\n')[0];
  }
}

/** Why a size-limited tmpfs cannot be mounted here, or undefined when it can. */
export const cannotMountTmpfs: string | undefined = (() => {
  if (process.platform !== 'linux') return 'not Linux';
  const dir = mkdtempSync(join(tmpdir(), 'dualgate-mount-probe-'));
  const why = tryRun('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  if (why === undefined) tryRun('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return why && `mount -t tmpfs failed: ${why}`;
})();

/** Why a loop-mounted ext4 image whose errors remount it read-only cannot be made here. */
export const cannotMountExt4: string | undefined = (() => {
  if (cannotMountTmpfs) return cannotMountTmpfs;
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (no loop devices)';
  for (const tool of ['losetup', 'mkfs.ext4', 'e2fsck']) {
    if (tryRun('sh', ['-c', `command -v ${tool}`]) !== undefined) return `${tool} is not installed`;
  }
  if (!existsSync('/sys/fs/ext4')) return 'no ext4 in this kernel';
  return undefined;
})();

/** Tells, once, why a test that needs a capability is skipped. */
export function skipNote(what: string, why: string | undefined): void {
  if (why) process.stderr.write(`dualgate ops tests: skipping "${what}": ${why}\n`);
}

export interface Tmpfs {
  dir: string;
  /** Writes a file until the file system is full; removing it frees the space. */
  fill(): string;
  unmount(): void;
}

/** A tmpfs of `size` (e.g. "8m") mounted at a fresh directory. */
export function mountTmpfs(size: string): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'dualgate-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return {
    dir,
    fill() {
      const filler = join(dir, 'filler');
      const chunk = Buffer.alloc(64 * 1024, 1);
      const fd = openSync(filler, 'w');
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      return filler;
    },
    unmount() {
      if (tryRun('umount', [dir]) !== undefined) tryRun('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Ext4 {
  dir: string;
  /** Makes the kernel see a file system error: with errors=remount-ro it turns the mount read-only. */
  triggerError(): void;
  /** Unmounts, repairs (e2fsck) and mounts the image again, writable. */
  repairAndRemount(): void;
  unmount(): void;
}

/** A small ext4 image on a loop device, mounted with errors=remount-ro at a fresh directory. */
export function mountExt4(sizeMb: number): Ext4 {
  const base = mkdtempSync(join(tmpdir(), 'dualgate-ext4-'));
  const image = join(base, 'image');
  const dir = join(base, 'mnt');
  mkdirSync(dir);
  writeFileSync(image, '');
  execFileSync('truncate', ['-s', `${sizeMb}M`, image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
  let device = '';
  const mount = () => {
    device = execFileSync('losetup', ['--find', '--show', image]).toString().trim();
    execFileSync('mount', ['-o', 'errors=remount-ro', device, dir]);
  };
  const release = () => {
    if (tryRun('umount', [dir]) !== undefined) tryRun('umount', ['-l', dir]);
    if (device) tryRun('losetup', ['-d', device]);
    device = '';
  };
  mount();
  return {
    dir,
    triggerError() {
      writeFileSync(`/sys/fs/ext4/${device.replace('/dev/', '')}/trigger_fs_error`, '1');
    },
    repairAndRemount() {
      release();
      tryRun('e2fsck', ['-f', '-y', image]); // exit 1: errors corrected
      mount();
    },
    unmount() {
      release();
      rmSync(base, { recursive: true, force: true });
    },
  };
}
