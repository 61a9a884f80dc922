import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Settings } from './server';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for a CLI run: nothing inherited that could steer it, fast bcrypt, quiet logs. */
export function cliEnv(settings: Settings): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    DUALGATE_BCRYPT_COST: '4',
    DUALGATE_LOG_LEVEL: 'warn',
    ...settings,
  };
}

/** Runs a program to its end, feeding it `stdin`, and answers its exit code and output. */
export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, options: { stdin?: string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // No stdin to give: /dev/null, not a pipe (bash reads bashrc when its stdin is Node's socket pair).
    const child = spawn(command, args, { env, cwd: options.cwd, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(options.stdin);
  });
}

/** Runs `dualgate <args>` (the built CLI) to its end. */
export function runCli(args: string[], settings: Settings, stdin?: string): Promise<CliResult> {
  return runProcess(process.execPath, [CLI, ...args], cliEnv(settings), { stdin });
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `dualgate serve` in its own process and waits for its listening line. */
export function startServeProcess(settings: Settings, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: cliEnv({ PORT: '0', HOST: '127.0.0.1', DUALGATE_LOG_LEVEL: 'info', ...settings }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /dualgate listening on (http:\/\/[^\s"]+)/.exec(out)?.[1];
      if (url) {
        resolve({
          child,
          url,
          stdout: () => out,
          stderr: () => err,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
          exited,
        });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then((code) => reject(new Error(`dualgate serve exited (${code}) before listening: ${err}${out}`)));
  });
}
