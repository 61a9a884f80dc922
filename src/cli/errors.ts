/** A failure the CLI reports as its one line on stderr. */
export class CliError extends Error {}
