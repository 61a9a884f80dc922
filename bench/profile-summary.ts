/**
 * Reads `.cpuprofile` files (from `BENCH_PROFILE=<dir> npm run bench`, which starts the servers with
 * --cpu-prof) and prints where the time went: self time by function and by package, and the inclusive
 * time of the functions named on the command line after the files.
 *   node build/bench/profile-summary.js <file.cpuprofile>... [--top N] [--focus name,name]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  if (!url) return '(native)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/(dist|build)\/(.+)$/.exec(url);
  return own ? own[2]!.replace(/\/[^/]+$/, '') : url;
}

function summarize(files: string[], top: number, focus: string[]): void {
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const perNode = new Map<number, number>();
    profile.samples.forEach((id, i) => perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    for (const [id, us] of perNode) {
      const node = byId.get(id)!;
      const { functionName, url, lineNumber } = node.callFrame;
      const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist|build)\//, '$1/')}:${lineNumber + 1}`;
      self.set(name, (self.get(name) ?? 0) + us);
      const pkg = functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)' ? functionName : packageOf(url);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
      total += us;
      // Inclusive time of focused functions: once per sample stack, however deep the recursion.
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const fn = byId.get(at)!.callFrame.functionName;
        if (focus.includes(fn) && !seen.has(fn)) {
          seen.add(fn);
          inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
        }
      }
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const print = (title: string, map: Map<string, number>, n: number) => {
    console.log(`\n${title}`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  };
  console.log(`total ${(total / 1e6).toFixed(2)} s of samples in ${files.length} profile(s)`);
  print('by package', byPackage, top);
  print('self time by function', self, top);
  if (focus.length) print('inclusive time', inclusive, focus.length);
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args.splice(at, 2)[1];
};
const top = Number(option('--top') ?? 30);
const focus = (option('--focus') ?? '').split(',').filter(Boolean);
summarize(args, top, focus);
