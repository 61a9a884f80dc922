import { spawn } from 'node:child_process';

/**
 * Runs a program on a pseudo-terminal (Debian's python3 and its pty module), as an operator at a terminal would: each time its output
 * ends with one of `answers`' prompts, the answer is typed. Answers the exit code and the
 * terminal's output, less its control sequences.
 */
const DRIVER = `
import os, pty, re, signal, sys, json
answers = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
def give_up(*_):
    os.kill(pid, signal.SIGKILL)
    sys.stdout.write('[no answer within 20 s: killed]')
signal.signal(signal.SIGALRM, give_up)
signal.alarm(20)
def shown(raw):
    return re.sub(r'\\x1b\\[[0-9;]*[A-Za-z]', '', raw.decode('utf8', 'replace'))
seen = b''
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    for prompt, answer in list(answers):
        if shown(seen).rstrip(' ').endswith(prompt.rstrip(' ')):
            os.write(fd, answer.encode())
            answers.remove([prompt, answer])
sys.stdout.write(shown(seen))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

export function runOnTerminal(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  answers: [prompt: string, answer: string][],
): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', DRIVER, JSON.stringify(answers), command, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}
