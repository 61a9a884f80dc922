import { BadInput, InvalidToken, TokenExpired, type LiveSession, type RequestContext } from '../../core';
import { sameSecret } from '../../http/credentials';
import { admitCaller, admitValidating, handBack, integratorLogin, type Caller, type XwebDeps } from './integrator';

/** The door's name in audit rows, session records and request logs. */
export const XWEB_DOOR = 'xweb';
/** xWeb's namespace: of the WSDL, the SOAP bodies and headers, and Authenticate's result. */
export const XWEB_NS = 'http://www.avectra.com/2005/';
/** WebValidate's answer for a customer token that is unknown or whose session has ended. */
export const NIL_GUID = '00000000-0000-0000-0000-000000000000';

export type { XwebDeps } from './integrator';

export interface Field {
  /** The wire name: the WSDL element and the JSON key or query parameter. */
  name: string;
  required: boolean;
  /** The core's name for the same value, so a `BadInput` from the core can be told with the wire name. */
  core?: 'username' | 'password';
}

/** A request's fields by wire name; undefined when absent (or `xsi:nil`). */
export type Params = Readonly<Record<string, string | undefined>>;

export interface Outcome {
  /** Authenticate only: the integrator token it opened. */
  token?: string;
  /** The `<Op>Result` value; absent for an empty response (WebLogout). */
  result?: string;
}

export interface XwebOperation {
  name: 'Authenticate' | 'WebLogin' | 'WebValidate' | 'WebLogout';
  soapAction: string;
  fields: readonly Field[];
  /** Needs the integrator token (SOAP header, JSON Bearer or Basic), and answers it (rotated) on success. */
  integrator: boolean;
  /** JSON over GET allowed: never for an operation that takes a password, which must not travel in a URL. */
  get: boolean;
  run(deps: XwebDeps, params: Params, ctx: RequestContext): Promise<Outcome>;
  /**
   * For an operation that only checks a customer token: the field that holds it, and the outcome for its live
   * session (undefined: unknown or ended). With a token caller, the integrator's admission and this check are
   * then one store call (`admitValidating`) instead of `run` after the admission.
   */
  validates?: { field: string; answer(customer: LiveSession | undefined): Outcome };
}

/** WebValidate's outcome: the customer key of a live session, else the nil GUID. */
const customerKeyOf = (customer: LiveSession | undefined): Outcome => ({ result: customer ? customer.account.customerKey : NIL_GUID });

/** The xWeb door's operations: adding one is adding a row here (and to the WSDL), and a test. */
export const OPERATIONS: readonly XwebOperation[] = [
  {
    name: 'Authenticate',
    soapAction: `${XWEB_NS}Authenticate`,
    fields: [
      { name: 'userName', required: true, core: 'username' },
      { name: 'password', required: true, core: 'password' },
    ],
    integrator: false,
    get: false,
    async run({ core, xweb }, p, ctx) {
      const issued = await core.sessions.login(p.userName, p.password, integratorLogin(xweb), ctx);
      return { token: issued.token, result: XWEB_NS };
    },
  },
  {
    name: 'WebLogin',
    soapAction: `${XWEB_NS}WebLogin`,
    fields: [
      { name: 'userLoginPlain', required: true, core: 'username' },
      { name: 'passwordPlain', required: true, core: 'password' },
      { name: 'keyOverride', required: false },
    ],
    integrator: true,
    get: false,
    async run({ core, xweb }, p, ctx) {
      if (keyOverrideHonoured(p.keyOverride, xweb.keyOverride)) {
        const account = await core.sessions.authenticate(p.userLoginPlain, p.passwordPlain, {}, ctx);
        return { result: account.customerKey };
      }
      const issued = await core.sessions.login(p.userLoginPlain, p.passwordPlain, { kind: 'guid' }, ctx);
      return { result: issued.token };
    },
  },
  {
    name: 'WebValidate',
    soapAction: `${XWEB_NS}WebValidate`,
    fields: [{ name: 'authenticationToken', required: true }],
    integrator: true,
    get: true,
    validates: { field: 'authenticationToken', answer: customerKeyOf },
    async run({ core }, p) {
      try {
        return customerKeyOf(await core.sessions.verify(p.authenticationToken!.trim()));
      } catch (err) {
        if (err instanceof InvalidToken || err instanceof TokenExpired) return customerKeyOf(undefined);
        throw err;
      }
    },
  },
  {
    name: 'WebLogout',
    soapAction: `${XWEB_NS}WebLogout`,
    fields: [{ name: 'authenticationToken', required: true }],
    integrator: true,
    get: true,
    async run({ core }, p, ctx) {
      try {
        await core.sessions.logout(p.authenticationToken!.trim(), ctx);
      } catch (err) {
        // As RFC 7009 has it: a token that names no session is nothing to end, not an error. Only the
        // header token is ever answered with InvalidToken, so a client never mistakes one for the other.
        if (!(err instanceof InvalidToken)) throw err;
      }
      return {};
    },
  },
];

const byName = new Map(OPERATIONS.map((op) => [op.name.toLowerCase(), op]));

/** The operation of this name, in any case (xWeb's method names are not case-sensitive). */
export function findOperation(name: string): XwebOperation | undefined {
  return byName.get(name.toLowerCase());
}

export interface Performed {
  /** The integrator token to answer in the header: new, rotated or the same, by the settings. */
  token: string;
  result?: string;
}

/** One call, whichever the wire: check the fields, admit the caller, run the operation, hand the token back. */
export async function perform(deps: XwebDeps, op: XwebOperation, params: Params, caller: Caller, ctx: RequestContext): Promise<Performed> {
  for (const field of op.fields) {
    if (field.required && params[field.name] === undefined) {
      throw new BadInput(field.name, 'missing', `${field.name} is required`);
    }
  }
  if (!op.integrator) {
    const { token, result } = await op.run(deps, params, ctx);
    return { token: token!, result };
  }
  if (op.validates && caller.scheme === 'token') {
    const { admitted, customer } = await admitValidating(deps, caller, params[op.validates.field]!.trim());
    return { token: await handBack(deps, admitted, ctx), result: op.validates.answer(customer).result };
  }
  const integrator = await admitCaller(deps, caller, ctx);
  // A live integrator token vouches for the caller: its address is not throttled, and the end users it
  // logs in count their failures per end user (Basic credentials vouch for nothing beyond this call).
  const { result } = await op.run(deps, params, integrator.live ? { ...ctx, trustedCaller: true } : ctx);
  return { token: await handBack(deps, integrator, ctx), result };
}

/** keyOverride is off unless configured, and then honoured only for the exact secret (compared in constant time). */
function keyOverrideHonoured(given: string | undefined, configured: string | undefined): boolean {
  if (configured === undefined || given === undefined) return false;
  return sameSecret(given, configured);
}
