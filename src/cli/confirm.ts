import { createInterface } from 'node:readline/promises';
import { CliError } from './errors';

/**
 * Asks a yes/no question on the terminal (default no). Without a terminal there is nobody to ask: the
 * command must have been given `--yes`, and says so.
 */
export async function confirm(
  question: string,
  refusal: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<void> {
  if (!input.isTTY) throw new CliError(refusal);
  const terminal = createInterface({ input, output, terminal: true });
  const interrupted = new Promise<never>((_resolve, reject) => terminal.once('SIGINT', () => reject(new CliError('cancelled'))));
  try {
    const answer = await Promise.race([terminal.question(`${question} [y/N] `), interrupted]);
    if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CliError('cancelled');
  } finally {
    terminal.close();
  }
}
