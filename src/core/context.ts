/** Who is asking, as far as the core needs to know: for audit rows and session records. */
export interface RequestContext {
  cid: string | null;
  door: string;
  clientIp?: string | null;
  userAgent?: string | null;
  /** The admin (or CLI operator) behind an account change, for the audit row. */
  actor?: string | null;
  /**
   * The caller is already authenticated (an xWeb integrator by its live token): its address is not
   * throttled, and the log-ins it relays count failures per end user only.
   */
  trustedCaller?: boolean;
}

/** The context of a command typed at the CLI. */
export const cliContext: RequestContext = { cid: null, door: 'cli', actor: 'cli' };
