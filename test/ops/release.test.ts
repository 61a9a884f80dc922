import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Crafter } from '../cross-door/doors';
import { runProcess } from '../support/process';
import { tempDir } from '../support/server';
import { docsBlock, nginxConfig, selfSignedCertificate } from './docs-config';

const ROOT = join(__dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** For dualgate: a PATH with node, fast bcrypt, and nothing else that could steer it. */
const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, DUALGATE_BCRYPT_COST: '4' });

/** For npm: this environment (its registry, proxy and certificate settings) without any DUALGATE_* variable. */
const npmEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DUALGATE_'))),
  DUALGATE_BCRYPT_COST: '4',
});

const closed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });

/** `dualgate serve` from an installed release, until it says where it listens. */
async function serveInstalled(bin: string, env: NodeJS.ProcessEnv, cwd: string) {
  const serve = spawn(bin, ['serve', '--port', '0'], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => serve.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const found = /dualgate listening on (http:\/\/[^\s"]+)/.exec(out)?.[1];
      if (found) resolve(found);
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
  return {
    url,
    stop() {
      serve.kill('SIGTERM');
      return exited;
    },
  };
}

describe('the release tarball', () => {
  let dir: string;
  /** /opt/dualgate/current of the docs: a link to the release in use. */
  let prefix: string;
  let tarball: string;

  beforeAll(async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'opt', 'dualgate', 'releases'), { recursive: true });
    prefix = join(dir, 'opt', 'dualgate', 'current');
    symlinkSync(join(dir, 'opt', 'dualgate', 'releases', VERSION), prefix);
    // `npm test` has built dist/ already; npm pack's own build (prepare) would rewrite it under the other suites' feet.
    const packed = await runProcess('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], npmEnv(), { cwd: ROOT });
    expect(packed.code).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, info!.filename);
    files = info!.files.map((f) => f.path);
    // npm's own install, as the docs show it, into a prefix of its own (npm builds better-sqlite3 here).
    const installed = await runProcess('npm', ['install', '-g', '--prefix', join(dir, 'opt', 'dualgate', 'releases', VERSION), tarball], npmEnv(), { cwd: dir });
    if (installed.code !== 0) throw new Error(`npm install -g failed: ${installed.stderr}`);
  }, 900_000);
  let files: string[];

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the built code, the WSDLs, the OpenAPI document, the console and the docs, and no tests or sources', () => {
    for (const needed of [
      'package.json',
      'README.md',
      'dist/cli.js',
      'dist/server.js',
      'dist/console/app.js',
      'wsdl/zato.wsdl',
      'wsdl/xweb.wsdl',
      'openapi/dualgate.openapi.json',
      'console/index.html',
      'console/console.css',
      'docs/operations.md',
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => /^(test|src|bench|fixtures|console\/src)\//.test(f) || f.endsWith('.ts'))).toEqual([]);
  });

  it('installs `dualgate` on PATH, which initialises, serves every door and stops', async () => {
    const env = { ...baseEnv(), PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const work = join(dir, 'work');
    mkdirSync(work);
    expect(await runProcess('dualgate', ['--version'], env, { cwd: work })).toEqual({ code: 0, stdout: `dualgate ${VERSION}\n`, stderr: '' });
    const db = join(dir, 'data', 'dualgate.db');
    expect((await runProcess('dualgate', ['init'], { ...env, DUALGATE_DB: db }, { cwd: work })).code).toBe(0);

    const serve = spawn('dualgate', ['serve', '--port', '0'], { env: { ...env, DUALGATE_DB: db }, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => serve.on('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      serve.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const found = /dualgate listening on (http:\/\/[^\s"]+)/.exec(out)?.[1];
        if (found) resolve(found);
      });
      void exited.then((code) => reject(new Error(`serve exited (${code}): ${out}`)));
    });
    try {
      expect((await fetch(`${url}/zato/soap?wsdl`)).status).toBe(200);
      expect(await (await fetch(`${url}/xweb/secure/netForumXML.asmx?WSDL`)).text()).toContain('<wsdl:definitions');
      expect(((await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string }).openapi).toBe('3.1.0');
      expect(await (await fetch(`${url}/console/`)).text()).toContain('<html');
      expect((await fetch(`${url}/console/app.js`)).status).toBe(200);
    } finally {
      serve.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('upgrades to the next tarball as operations.md says: install beside, back up, stop, switch, start; nothing is lost', async () => {
    // The next release: this very tarball with its version raised, as the next `npm pack` would make it.
    const next = `${VERSION}-next.1`;
    const unpacked = join(dir, 'next');
    mkdirSync(unpacked);
    expect((await runProcess('tar', ['-xzf', tarball, '-C', unpacked], baseEnv())).code).toBe(0);
    const manifest = join(unpacked, 'package', 'package.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(`"version": "${VERSION}"`, `"version": "${next}"`));
    const nextTarball = join(dir, `dualgate-${next}.tgz`);
    expect((await runProcess('tar', ['-czf', nextTarball, '-C', unpacked, 'package'], baseEnv())).code).toBe(0);

    const releases = join(dir, 'opt', 'dualgate', 'releases');
    const bin = join(prefix, 'bin', 'dualgate');
    const db = join(dir, 'upgrade', 'dualgate.db');
    const env = { ...baseEnv(), DUALGATE_DB: db };
    expect((await runProcess(bin, ['init'], env, { cwd: dir })).code).toBe(0);
    expect((await runProcess(bin, ['user', 'add', 'alice', '--password-stdin'], env, { cwd: dir, stdin: 'alice-pw\n' })).code).toBe(0);
    const old = await serveInstalled(bin, env, dir);
    const session = await new Crafter(old.url).logIn('alice', 'alice-pw');

    // 1. Install beside the running release.
    const installed = await runProcess('npm', ['install', '-g', '--prefix', join(releases, next), nextTarball], npmEnv(), { cwd: dir });
    expect(installed.code).toBe(0);
    // 2. A backup, with the old version, while it serves.
    const backup = join(dir, 'upgrade', `before-${next}.db`);
    expect(await runProcess(bin, ['backup', backup], env, { cwd: dir })).toEqual({ code: 0, stdout: `backed up to ${backup}\n`, stderr: '' });
    // 3. Stop. 4. Switch the link, as `ln -sfn` does it.
    expect(await old.stop()).toBe(0);
    expect((await runProcess('ln', ['-sfn', join(releases, next), prefix], baseEnv())).code).toBe(0);
    // 5. Start the new release on the same database. 6. Check.
    expect(await runProcess(bin, ['--version'], env, { cwd: dir })).toEqual({ code: 0, stdout: `dualgate ${next}\n`, stderr: '' });
    const upgraded = await serveInstalled(bin, env, dir);
    try {
      expect((await fetch(`${upgraded.url}/healthz`)).status).toBe(200);
      expect(await new Crafter(upgraded.url).isActive(session)).toBe(true);
    } finally {
      expect(await upgraded.stop()).toBe(0);
    }
    // And back, for the systemd test below: `current` is the first release again.
    expect((await runProcess('ln', ['-sfn', join(releases, VERSION), prefix], baseEnv())).code).toBe(0);
  }, 900_000);

  it("the docs' systemd unit passes systemd-analyze verify with the installed release", async () => {
    const unit = docsBlock('systemd unit');
    expect(unit).toMatch(/^\[Unit\]$/m);
    expect(unit).toMatch(/^\[Install\]$/m);
    for (const line of ['User=dualgate', 'ProtectSystem=strict', 'NoNewPrivileges=true', 'ReadWritePaths=/var/lib/dualgate /var/backups/dualgate']) {
      expect(unit.split('\n')).toContain(line);
    }
    if (!existsSync('/usr/bin/systemd-analyze')) {
      console.warn('systemd-analyze is not installed: the unit was only parsed');
      return;
    }
    // The one change: the unit's /opt/dualgate/current is this test's install of the tarball.
    const path = join(dir, 'dualgate.service');
    writeFileSync(path, unit.replaceAll('/opt/dualgate/current', prefix));
    const verified = await runProcess('systemd-analyze', ['verify', path], baseEnv());
    expect(verified).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe("the docs' nginx config", () => {
  it('passes nginx -t with a throwaway self-signed certificate', async () => {
    const dir = tempDir();
    try {
      const certificate = selfSignedCertificate(dir);
      writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, { upstream: 8080, plain: 8081, tls: 8443 }, certificate));
      const tested = await runProcess('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], baseEnv());
      expect(tested.code).toBe(0);
      expect(tested.stderr).toContain('syntax is ok');
      expect(tested.stderr).toContain('test is successful');
      expect(tested.stderr).not.toMatch(/\[(warn|emerg)\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the README's start command", () => {
  it('`npm start` stops with its server on SIGTERM to npm, as a supervisor sends it', async () => {
    const dir = tempDir();
    try {
      const npm = spawn('npm', ['start'], {
        cwd: ROOT,
        env: { ...npmEnv(), DUALGATE_DB: join(dir, 'dualgate.db'), PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const exited = new Promise<number | null>((resolve) => npm.on('exit', resolve));
      const url = await new Promise<string>((resolve, reject) => {
        npm.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const found = /dualgate listening on (http:\/\/[^\s"]+)/.exec(out)?.[1];
          if (found) resolve(found);
        });
        void exited.then((code) => reject(new Error(`npm start exited (${code}): ${out}`)));
      });
      const serverPid = /"pid":(\d+)/.exec(out)![1]!;
      npm.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('dualgate stopped');
      expect(await closed(Number(new URL(url).port))).toBe(true);
      // And no server left behind, orphaned.
      expect(() => process.kill(Number(serverPid), 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
