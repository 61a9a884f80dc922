import { BadInput, Forbidden, InvalidCredentials, InvalidToken, NotFound, TokenExpired, type Account, type Core, type RequestContext } from '../../core';
import { basicCredentials } from '../../http/credentials';
import { RequestError } from '../../http/request-errors';

/** A field value on the wire: JSON gives any of these, XML text only. */
type Scalar = string | number | boolean | null;
export type Fields = Record<string, Scalar>;

/** What a service answers besides `zato_env`. */
export type Reply =
  /** `<item>` in XML, an object in JSON. */
  | { kind: 'item'; item: Fields }
  /** `<item_list><item>…` in XML, an array in JSON. */
  | { kind: 'list'; items: Fields[] }
  /** `zato_env` alone in XML; `json` under the response key in JSON (the seeds' log-out). */
  | { kind: 'env'; json: Fields };

/**
 * `text` must be a string; `id` a whole number from 1, given as a number or digits; `ttl` and `flag` are
 * passed on as they came and checked by the core (one parser for the CLI and every door).
 */
type FieldType = 'text' | 'id' | 'ttl' | 'flag';

interface Field {
  name: string;
  type: FieldType;
  required: boolean;
}

type Values = Record<string, unknown>;

export interface ZatoService {
  /** The service name: also the SOAP operation, the SOAPAction and the JSON path's last segment. */
  name: string;
  /** Needs HTTP Basic credentials of an `admin` account, or a live Zato JWT of one as a Bearer token. */
  admin: boolean;
  fields: readonly Field[];
  run(input: Values, core: Core, ctx: RequestContext): Promise<Reply>;
}

const required = (name: string, type: FieldType = 'text'): Field => ({ name, type, required: true });
const optional = (name: string, type: FieldType = 'text'): Field => ({ name, type, required: false });

/** A JWT definition as `get-list` shows it: the account, by its id. */
function definition(account: Account): Fields {
  return { id: account.id, name: account.name, is_active: account.isActive, username: account.username, ttl: account.ttl };
}

async function definitionId(core: Core, input: Values): Promise<number> {
  if (input.id !== undefined) return input.id as number;
  if (input.name === undefined) throw new BadInput('id', 'missing', 'id or name is required');
  const account = await core.accounts.findByName(input.name as string);
  if (!account) throw new NotFound(`No such account: ${input.name as string}`);
  return account.id;
}

/** Every service of the Zato door: adding one is a row here, its elements in wsdl/zato.wsdl, and a test. */
export const SERVICES: readonly ZatoService[] = [
  {
    name: 'zato.security.jwt.log-in',
    admin: false,
    fields: [required('username'), required('password'), optional('token')],
    async run({ username, password, token }, core, ctx) {
      const issued = await core.sessions.login(username, password, { kind: 'jwt', renewToken: token as string | undefined }, ctx);
      return { kind: 'item', item: { token: issued.token } };
    },
  },
  {
    name: 'zato.security.jwt.log-out',
    admin: false,
    fields: [required('token')],
    async run({ token }, core, ctx) {
      await core.sessions.logout(token, ctx);
      return { kind: 'env', json: { result: '' } };
    },
  },
  {
    name: 'zato.security.jwt.create',
    admin: true,
    fields: [required('name'), required('username'), optional('password'), optional('is_active', 'flag'), optional('ttl', 'ttl')],
    async run({ name, username, password, is_active, ttl }, core, ctx) {
      const account = await core.accounts.create({ name, username, password, isActive: is_active, ttl, role: 'user' }, ctx);
      return { kind: 'item', item: { id: account.id, name: account.name } };
    },
  },
  {
    name: 'zato.security.jwt.edit',
    admin: true,
    fields: [required('id', 'id'), optional('name'), optional('username'), optional('is_active', 'flag'), optional('ttl', 'ttl')],
    async run({ id, name, username, is_active, ttl }, core, ctx) {
      const account = await core.accounts.edit(id as number, { name, username, isActive: is_active, ttl }, ctx);
      return { kind: 'item', item: { id: account.id, name: account.name } };
    },
  },
  {
    name: 'zato.security.jwt.change-password',
    admin: true,
    fields: [optional('id', 'id'), optional('name'), required('password1'), required('password2')],
    async run(input, core, ctx) {
      if (input.password1 !== input.password2) throw new BadInput('password2', 'invalid', 'password1 and password2 do not match');
      const id = await definitionId(core, input);
      await core.accounts.setPassword(id, input.password1, ctx, 'password1');
      return { kind: 'item', item: { id } };
    },
  },
  {
    name: 'zato.security.jwt.delete',
    admin: true,
    fields: [required('id', 'id')],
    async run({ id }, core, ctx) {
      await core.accounts.remove(id as number, ctx);
      return { kind: 'env', json: {} };
    },
  },
  {
    name: 'zato.security.jwt.get-list',
    admin: true,
    fields: [optional('query')],
    async run({ query }, core) {
      return { kind: 'list', items: (await core.accounts.list(query as string | undefined)).map(definition) };
    },
  },
];

/** The element names of a service: `zato.security.jwt.log-in` → `zato_security_jwt_log_in`. */
export function elementOf(service: ZatoService): string {
  return service.name.replace(/[.-]/g, '_');
}

/** A request's field by name, as the wire gave it (XML text or a JSON value); undefined when absent. */
export type FieldSource = (name: string) => unknown;

/** A caller's user name and password, from whichever credential source carried them. */
export interface Credentials {
  username: string;
  password: string;
}

export interface ServiceCall {
  ctx: RequestContext;
  /** The Authorization header, for the admin services. */
  authorization: string | undefined;
  /**
   * Over SOAP, the WS-Security UsernameToken, when the request has one: a credential source beside the
   * Authorization header. Called only for an admin service; it checks freshness and claims the nonce.
   */
  wsSecurity?: () => Promise<Credentials>;
  /** Reads the request's fields; called only once the caller may call the service. */
  input(): Promise<FieldSource>;
}

/** One call of a service, whatever the protocol: authenticate the caller, read the fields, run. */
export async function callService(service: ZatoService, core: Core, call: ServiceCall): Promise<Reply> {
  const ctx = service.admin ? await asAdmin(core, call) : call.ctx;
  return service.run(readFields(service.fields, await call.input()), core, ctx);
}

function readFields(fields: readonly Field[], source: FieldSource): Values {
  const values: Values = {};
  for (const field of fields) {
    const value = source(field.name);
    // XML cannot tell an empty element from an absent one; JSON's "" and null are read the same way.
    if (value === undefined || value === null || value === '') {
      if (field.required) throw new BadInput(field.name, 'missing', `${field.name} is required`);
      continue;
    }
    values[field.name] = checkType(field, value);
  }
  return values;
}

function checkType(field: Field, value: unknown): unknown {
  switch (field.type) {
    case 'text':
      if (typeof value !== 'string') throw new BadInput(field.name, 'invalid', `Invalid ${field.name}: expected a string`);
      return value;
    case 'id': {
      const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
        throw new BadInput(field.name, 'invalid', `Invalid ${field.name}: expected a whole number from 1`);
      }
      return n;
    }
    case 'ttl':
    case 'flag':
      return value;
  }
}

const ADMIN_CREDENTIALS_REQUIRED = 'HTTP Basic credentials of an admin account are required';

/**
 * The caller must be an active admin account, shown by one credential source: over SOAP a WS-Security
 * UsernameToken, or the Authorization header: `Bearer <token>`, a live Zato JWT from `log-in` (no bcrypt:
 * authenticate once, call many times), or HTTP Basic. A UsernameToken and Basic are a log-in (one core call: a
 * bcrypt, the failure counts). A UsernameToken together with an Authorization header is refused rather than one
 * of them chosen. Answers the context naming the admin.
 */
async function asAdmin(core: Core, call: ServiceCall): Promise<RequestContext> {
  const { ctx, authorization } = call;
  if (call.wsSecurity) {
    if (authorization !== undefined) {
      throw new RequestError('Ambiguous', 'Both an Authorization header and a WS-Security UsernameToken; send one of them');
    }
    return asAdminBy(core, ctx, await call.wsSecurity());
  }
  const bearer = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
  if (bearer !== undefined) return { ...ctx, actor: (await adminByToken(core, bearer)).username };
  const credentials = basicCredentials(authorization);
  if (!credentials) throw new RequestError('Unauthenticated', ADMIN_CREDENTIALS_REQUIRED);
  return asAdminBy(core, ctx, credentials);
}

/** The credentials must be an active admin account's (the core's log-in check); answers the context naming it. */
async function asAdminBy(core: Core, ctx: RequestContext, credentials: Credentials): Promise<RequestContext> {
  let account: Account;
  try {
    account = await core.sessions.authenticate(credentials.username, credentials.password, {}, ctx);
  } catch (err) {
    // An empty or over-long name or password in the header is just a wrong one here, not a bad field.
    throw err instanceof BadInput ? new InvalidCredentials() : err;
  }
  if (account.role !== 'admin') throw new Forbidden('Only an admin account may call this service');
  return { ...ctx, actor: account.username };
}

/** The account behind a live Zato JWT; a dead, foreign or non-admin token is refused as no credentials at all. */
async function adminByToken(core: Core, token: string): Promise<Account> {
  let live;
  try {
    live = await core.sessions.verify(token);
  } catch (err) {
    if (err instanceof InvalidToken || err instanceof TokenExpired) throw new RequestError('Unauthenticated', ADMIN_CREDENTIALS_REQUIRED);
    throw err;
  }
  if (live.token.kind !== 'jwt' || live.session.door !== 'zato') throw new RequestError('Unauthenticated', ADMIN_CREDENTIALS_REQUIRED);
  if (live.account.role !== 'admin' || !live.account.isActive) throw new Forbidden('Only an admin account may call this service');
  return live.account;
}


