import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cliEnv, runProcess, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';

/**
 * The README's "Using each door" examples, run as a reader would paste them: each block marked
 * `<!-- example: name -->` is a ```sh block followed by a ```text block of what it prints, `…` standing for
 * anything on that line. They run with bash -euo pipefail against a real `dualgate serve` on its own database,
 * `http://127.0.0.1:8080` (what `npm start` serves) rewritten to that server's address.
 */
const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const NPM_START_URL = 'http://127.0.0.1:8080';
const SECTION = '## Using each door';

interface Example {
  name: string;
  script: string;
  expected: string;
}

/** The section's examples, in order; throws when a marked example lacks its blocks. */
function examplesOf(markdown: string): Example[] {
  const examples: Example[] = [];
  const marker = /<!-- example: ([\w-]+) -->\n```sh\n([\s\S]*?)\n```\n(?:\n)*```text\n([\s\S]*?)\n```/g;
  for (const m of markdown.matchAll(marker)) examples.push({ name: m[1]!, script: m[2]!, expected: m[3]! });
  const markers = [...markdown.matchAll(/<!-- example: ([\w-]+) -->/g)].map((m) => m[1]);
  if (markers.length !== examples.length) {
    throw new Error(`every example needs a sh block then a text block of its output: ${markers.join(', ')}`);
  }
  return examples;
}

/** The README's own section, up to the next top-level heading. */
function section(markdown: string): string {
  const start = markdown.indexOf(SECTION);
  if (start < 0) throw new Error(`README has no "${SECTION}" section`);
  const end = markdown.indexOf('\n## ', start + SECTION.length);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** `expected` as a pattern: literal text, `…` any run of characters within a line. */
function outputPattern(expected: string): RegExp {
  const parts = expected.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^\\n]*?')}$`);
}


const text = section(README);
const examples = examplesOf(text);

describe('the README\'s examples', () => {
  it('cover every door, JSON and SOAP, and every curl command of the section is in one', () => {
    expect(examples.map((e) => e.name)).toEqual(['accounts', 'zato-json', 'zato-soap', 'zato-3', 'zato-admin', 'zato-wss', 'xweb-json', 'xweb-soap', 'xweb-soap12', 'crafter', 'descriptions']);
    const runnable = examples.map((e) => e.script).join('\n');
    for (const block of text.matchAll(/```sh\n([\s\S]*?)\n```/g)) {
      if (block[1]!.includes('curl')) expect(runnable).toContain(block[1]);
    }
    for (const tool of ['sed', 'grep']) expect(runnable).toContain(tool);
    expect(runnable).not.toMatch(/\bjq\b|node -[ep]|python/);
  });

  describe('run against dualgate serve', () => {
    let server: ServeProcess;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      const settings = { DUALGATE_DB: join(tempDir(), 'readme.db') };
      server = await startServeProcess(settings);
      // The server's database for `node dist/cli.js user add`, node on the PATH, no ~/.curlrc; every other
      // setting (the log-in rate among them) at its default, as under `npm start`.
      env = { ...cliEnv(settings), PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: tempDir() };
    });
    afterAll(async () => {
      expect(await server.stop()).toBe(0);
    });

    it.each(examples.map((e) => [e.name, e] as const))('%s', async (_name, example) => {
      const script = example.script.replaceAll(NPM_START_URL, server.url);
      const expected = example.expected.replaceAll(NPM_START_URL, server.url);
      const result = await runProcess('bash', ['-euo', 'pipefail', '-c', script], env, { cwd: ROOT });
      const stdout = result.stdout.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toMatch(outputPattern(expected));
    });
  });
});
