#!/usr/bin/env node
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type Config, type SettingKey } from './config';
import { isCoreError } from './core';
import { createLogger } from './logger';
import { listenAggregatedMetrics } from './http/metrics';
import { ListenError, startServer, startWarnings, type RunningServer } from './server';
import { initialPasswordPath } from './initial-password-file';
import { StoreFault } from './store/errors';
import * as admin from './cli/admin-commands';
import { confirm } from './cli/confirm';
import { CliError } from './cli/errors';
import { passwordFromStdin, promptNewPassword } from './cli/password';

/** The installed package's version (`dualgate --version`). */
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function wholeNumber(min: number, max: number) {
  return (value: string): string => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

async function newPassword(fromStdin: boolean): Promise<string> {
  return fromStdin ? passwordFromStdin() : promptNewPassword();
}

/** The settings of a command; what they warn about (an unknown DUALGATE_* variable) goes to stderr. */
function config(overrides: Partial<Record<SettingKey, string>> = {}): Config {
  const settings = loadConfig(process.env, overrides);
  for (const warning of settings.warnings) process.stderr.write(`dualgate: warning: ${warning}\n`);
  return settings;
}

// The first admin's password goes to a file only its owner can read, never to the log stream; a person at a
// terminal also sees it.
const announceAdmin = (password: string, file: string) => {
  if (process.stdout.isTTY) {
    print(`Created the account "admin" with the password: ${password}\n(also in ${file}). Change it with: dualgate user passwd admin`);
  }
};

/** `dualgate init`: creates the configured database (schema, first admin), as a first `serve` does. */
async function init(): Promise<void> {
  const settings = config();
  // A PostgreSQL database counts as there: init brings its schema up to date, and creates the first admin.
  const existed = admin.databaseExists(settings);
  await admin.withCore(
    settings,
    async (core) => {
      const password = await core.accounts.bootstrapAdmin({ cid: null, door: 'startup', actor: 'init' });
      const name = admin.databaseName(settings);
      print(existed ? `the database ${name} exists already${password === undefined ? '; nothing created' : ''}` : `created the database ${name}`);
      if (password === undefined) return;
      const file = resolve(initialPasswordPath(settings.dbPath, settings.initialPasswordFile));
      print(`created the account "admin"; its password is in ${file}`);
      announceAdmin(password, file);
    },
    { create: true },
  );
}

async function serve(options: { port?: string; host?: string; workers: string }): Promise<void> {
  // The start's warnings go to the log, once: by the primary, or by the one process (startServer).
  const settings = loadConfig(process.env, { PORT: options.port, HOST: options.host });
  const workers = Number(options.workers);

  if (workers > 1 && cluster.isPrimary && settings.metrics && settings.metricsPort === undefined) {
    // Each worker counts only its own requests: the sum needs the primary's listener.
    throw new ConfigError('invalid setting DUALGATE_METRICS_PORT: required with --workers when DUALGATE_METRICS is on');
  }
  if (workers > 1 && cluster.isPrimary) {
    const log = createLogger(settings.logLevel);
    // The primary prepares the database once (migrations, first admin) so workers do not race for it.
    await admin.withCore(
      settings,
      async (core) => {
        const password = await core.accounts.bootstrapAdmin({ cid: null, door: 'startup', actor: 'startup' });
        if (password !== undefined) {
          const file = initialPasswordPath(settings.dbPath, settings.initialPasswordFile);
          log.info({ file }, `created the account "admin"; its password is in ${file}`);
          announceAdmin(password, file);
        }
      },
      { create: true },
    );
    for (const warning of startWarnings(settings)) log.warn(warning);
    const metrics =
      settings.metricsPort === undefined
        ? undefined
        : await listenAggregatedMetrics(settings.metricsHost, settings.metricsPort, log);
    let stopping = false;
    // Counted here: cluster.workers may still list a worker when its 'exit' comes before its 'disconnect'.
    const alive = new Set<number>();
    let unclean = false;
    // Workers re-enter `serve` without the command line: the resolved address goes to them in their environment.
    const fork = () => alive.add(cluster.fork({ PORT: String(settings.port), HOST: settings.host }).id);
    for (let i = 0; i < workers; i++) fork();
    cluster.on('exit', (worker, code, signal) => {
      alive.delete(worker.id);
      if (!stopping) {
        process.stderr.write(`dualgate: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
        fork();
        return;
      }
      if (code !== 0) unclean = true;
      if (alive.size === 0) process.exit(unclean ? 1 : 0);
    });
    const stop = () => {
      if (stopping) return;
      stopping = true;
      metrics?.close();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      // Each worker stops within its grace; one that does not is killed, and the stop reports it.
      setTimeout(() => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        unclean = true;
      }, settings.stopGraceSeconds * 1000 + 5000).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return;
  }

  // Signals may come as soon as the listening line is out, so the handlers go in before the server starts.
  let running: Promise<RunningServer> | undefined;
  const stop = () => {
    void running?.then((server) => server.close()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  running = startServer(settings, { onAdminCreated: announceAdmin });
  const server = await running;
  // The log line says it at `info`; at a quieter level the operator still learns where to connect.
  if (!server.log.isLevelEnabled('info')) print(`dualgate listening on ${server.url}`);
}

function program(): Command {
  const root = new Command('dualgate')
    .description('SOAP and JSON session gateway: Zato, netFORUM xWeb and Crafter Studio doors over one session core')
    .version(`dualgate ${VERSION}`, '-v, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      // Every argument error is one `dualgate:` line; help asked for by mistake (a missing command) is kept
      // back and made one line by `fail`.
      outputError: (message) => process.stderr.write(`dualgate: ${oneLine(message)}\n`),
      writeErr: (text) => {
        helpShownOnError += text;
      },
    });

  root
    .command('init')
    .description('create the configured database (schema, and the first admin), as a first serve does')
    .action(init);

  root
    .command('serve')
    .description('serve every door over HTTP')
    .option('--port <n>', 'port to listen on (0 picks a free one); overrides PORT', wholeNumber(0, 65535))
    .option('--host <h>', 'address to listen on; overrides HOST')
    .addOption(new Option('--workers <n>', 'worker processes sharing the port and the database').default('1').argParser(wholeNumber(1, 64)))
    .action(serve);

  const user = root.command('user').description('manage accounts');
  user
    .command('add <username>')
    .description('create an account (the password is prompted for without echo)')
    .option('--password-stdin', 'read the password from standard input')
    .addOption(new Option('--role <role>', 'the account role').choices(['user', 'integrator', 'admin']).default('user'))
    .option('--first-name <text>')
    .option('--last-name <text>')
    .option('--email <text>')
    .option('--ttl <seconds>', 'idle session TTL for this account', wholeNumber(1, 315_360_000))
    .action(async (username: string, o: { passwordStdin?: boolean } & admin.NewUserOptions) => {
      const settings = config();
      const password = await newPassword(Boolean(o.passwordStdin));
      print(await admin.withCore(settings, (core) => admin.addUser(core, username, password, o)));
    });
  user
    .command('passwd <username>')
    .description("change an account's password")
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username: string, o: { passwordStdin?: boolean }) => {
      const settings = config();
      const password = await newPassword(Boolean(o.passwordStdin));
      print(await admin.withCore(settings, (core) => admin.changePassword(core, username, password)));
    });
  user
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => print(await admin.withCore(config(), (core) => admin.listUsers(core, Boolean(o.json)))));
  user
    .command('delete <username>')
    .description('delete an account and end its sessions')
    .action(async (username: string) => print(await admin.withCore(config(), (core) => admin.deleteUser(core, username))));
  user
    .command('lock <username>')
    .description('lock an account until it is unlocked')
    .action(async (username: string) => print(await admin.withCore(config(), (core) => admin.lockUser(core, username))));
  user
    .command('deactivate <username>')
    .description('deactivate an account (it cannot log in) and end its sessions')
    .action(async (username: string) => print(await admin.withCore(config(), (core) => admin.deactivateUser(core, username))));
  user
    .command('activate <username>')
    .description('activate an account again')
    .action(async (username: string) => print(await admin.withCore(config(), (core) => admin.activateUser(core, username))));
  user
    .command('unlock <username>')
    .description('unlock an account and clear its failed log-ins')
    .action(async (username: string) => print(await admin.withCore(config(), (core) => admin.unlockUser(core, username))));

  const session = root.command('session').description('inspect and end sessions');
  session
    .command('list')
    .description('list live sessions')
    .option('--user <username>', 'only this user\'s')
    .option('--json', 'print JSON')
    .action(async (o: { user?: string; json?: boolean }) =>
      print(await admin.withCore(config(), (core) => admin.listSessions(core, o.user, Boolean(o.json)))),
    );
  session
    .command('revoke [session-id]')
    .description('end a session at every door')
    .option('--user <username>', "end every live session of this user")
    .option('--all', 'end every live session (after restoring a backup); asks first on a terminal')
    .option('--yes', 'with --all: do not ask (scripts)')
    .action(async (id: string | undefined, o: { user?: string; all?: boolean; yes?: boolean }) => {
      if ([id !== undefined, o.user !== undefined, Boolean(o.all)].filter(Boolean).length !== 1) {
        throw new CliError('give a session id, --user <username> or --all');
      }
      const settings = config();
      if (o.all) {
        admin.requireDatabase(settings); // no database, no question
        if (!o.yes) {
          await confirm(
            `End every live session at every door, in ${admin.databaseName(settings)}?`,
            'session revoke --all ends every live session: confirm with --yes (there is no terminal to ask on)',
          );
        }
        print(await admin.withCore(settings, (core) => admin.revokeAllSessions(core)));
      } else if (o.user !== undefined) {
        print(await admin.withCore(settings, (core) => admin.revokeUserSessions(core, o.user!)));
      } else {
        print(await admin.withCore(settings, (core) => admin.revokeSession(core, id!)));
      }
    });
  session
    .command('purge')
    .description('delete sessions that ended longer ago than the retention')
    .action(async () => print(await admin.withCore(config(), (core) => admin.purgeSessions(core))));

  root
    .command('backup <path>')
    .description('write an online, consistent copy of the database to the new file <path> (safe while serving; SQLite)')
    .option('--force', 'overwrite <path> if it exists')
    .action(async (path: string, o: { force?: boolean }) => {
      const settings = config();
      if (settings.store.kind === 'postgres') throw new CliError(admin.postgresBackupAdvice(settings.store.where));
      admin.checkBackupTarget(path, Boolean(o.force));
      print(await admin.withCore(settings, (core) => admin.backup(core, path, Boolean(o.force))));
    });

  root
    .command('store')
    .description('move the store')
    .command('copy')
    .description('copy the configured SQLite store into an empty PostgreSQL database, in one transaction')
    .requiredOption('--to <url>', 'the PostgreSQL database (postgres://user:password@host:port/database)')
    .action(async (o: { to: string }) => print(await admin.copyStore(config(), o.to)));

  return root;
}

/** Help that commander shows on an error (a command group without its command), held back by `fail`. */
let helpShownOnError = '';

/** Commander's message (`error: …`, perhaps a suggestion on a line of its own) as one line. */
function oneLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .replace(/\(Did you mean/g, '(did you mean')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

/** One clear line on stderr and a non-zero exit; the stack only when DUALGATE_DEBUG is set. */
function fail(err: unknown): never {
  if (err instanceof CommanderError && err.code === 'commander.help' && err.exitCode !== 0) {
    const usage = /Usage: (\S+(?: [a-z-]+)*)/.exec(helpShownOnError)?.[1] ?? 'dualgate';
    process.stderr.write(`dualgate: missing command: ${usage} <command> (see: ${usage} --help)\n`);
    process.exit(2);
  }
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  const known =
    err instanceof ConfigError || err instanceof CliError || err instanceof StoreFault || err instanceof ListenError || isCoreError(err);
  const message = known ? (err as Error).message : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  process.stderr.write(`dualgate: ${message}\n`);
  if (!known && process.env.DUALGATE_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
  process.exit(1);
}

if (cluster.isWorker) {
  serve({ workers: '1', port: process.env.PORT, host: process.env.HOST }).catch(fail);
} else {
  program().parseAsync(process.argv).catch(fail);
}
