import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** The three files of a database in WAL mode. */
const SUFFIXES = ['', '-wal', '-shm'] as const;

/**
 * Watches that the database file and its `-wal` and `-shm` are still, at their paths, the files this process
 * opened. SQLite keeps a file that was deleted or renamed open and goes on writing into it: every write
 * after that would be lost at the next start (a forgotten log-out among them), and a second process opening
 * the path would see another database. So a file gone from its path, or another file in its place, is a
 * fault that makes the store refuse work, until the same file is back at its path.
 *
 * A directory watch (inotify) notices within moments and costs requests nothing; `check()` looks again on
 * demand (the health probe calls it), and is the only check where watching is not possible.
 */
export class FileIdentity {
  private readonly expected = new Map<string, string>();
  private readonly names = new Set<string>();
  private watcher: FSWatcher | undefined;
  private problem: string | undefined;
  /** The directory holding the three files. */
  readonly directory: string;

  constructor(dbPath: string) {
    const path = resolve(dbPath);
    this.directory = dirname(path);
    for (const suffix of SUFFIXES) {
      const id = identity(path + suffix);
      if (id !== undefined) {
        this.expected.set(path + suffix, id);
        this.names.add(basename(path + suffix));
      }
    }
    try {
      // Only 'rename' (a name appearing or going): every commit also sends a 'change' for the -wal file,
      // and looking at the files for those would cost each write three stat calls.
      this.watcher = watch(this.directory, { persistent: false }, (event, name) => {
        if (event === 'rename' && (name === null || this.names.has(String(name)))) this.check();
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = undefined; // no inotify here: the health probe's check() still looks
    }
  }

  /** The fault last seen: undefined while every file is the one opened. */
  get fault(): string | undefined {
    return this.problem;
  }

  /** Looks at the files again; the fault, if any. A file back at its path clears it. */
  check(): string | undefined {
    this.problem = undefined;
    for (const [path, id] of this.expected) {
      const now = identity(path);
      if (now === undefined) {
        this.problem = 'database file was removed';
        break;
      }
      if (now !== id) {
        this.problem = 'database file was replaced';
        break;
      }
    }
    return this.problem;
  }

  close(): void {
    this.stopWatching();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

function identity(path: string): string | undefined {
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat && `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined; // a parent that is no longer a directory, or unreadable: gone all the same
  }
}
