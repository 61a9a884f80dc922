import {
  crafterJson,
  expand,
  expectAnswer,
  expectStillServing,
  hostileFile,
  loginTemplate,
  renderXml,
  SOAP11,
  startHostileServer,
  STUDIO,
  victimsAlive,
  xmlText,
  xwebFault,
  xwebJson,
  XWEB_CHALLENGE,
  XWEB_NS,
  zatoFault,
  zatoJson,
  ZATO_CHALLENGE,
  type DoorName,
  type Expected,
  type Hostile,
  type Outgoing,
} from './harness';

/**
 * fixtures/hostile/credentials.json, to every way of logging in: wrong JSON types, NUL and CR/LF (which must
 * never reach a response header), SQL metacharacters, over-long fields. Over SOAP only what XML can carry
 * (strings without NUL; the XML corpus has the NUL documents).
 */

interface CredentialItem {
  id: string;
  what: string;
  username: unknown;
  password: unknown;
  expect: string;
}

const ITEMS = (JSON.parse(hostileFile('credentials.json').toString('utf8')) as CredentialItem[]).map((item) => ({
  ...item,
  username: expand(item.username),
  password: expand(item.password),
}));

type Cause = { kind: 'wrong-type' | 'too-long'; field: 'username' | 'password' } | { kind: 'invalid-credentials' };

function causeOf(item: CredentialItem): Cause {
  const [kind, field] = item.expect.split(':') as [string, 'username' | 'password' | undefined];
  if (kind === 'invalid-credentials') return { kind };
  if ((kind === 'wrong-type' || kind === 'too-long') && field) return { kind, field };
  throw new Error(`unknown expectation ${item.expect} in credentials.json`);
}

const TOO_LONG = { username: 'longer than 128 characters', password: 'longer than 72 bytes' };

interface Channel {
  id: string;
  door: DoorName;
  protocol: 'json' | 'soap';
  /** The wire's names of the two fields. */
  names: { username: string; password: string };
  request(h: Hostile, username: unknown, password: unknown): Outgoing;
  /** The wrong-credentials answer here. */
  wrong(): Expected;
}

const json = (path: string, wrap?: string, bearer = false): Pick<Channel, 'request'> & { names: Channel['names'] } => {
  const names = wrap === 'WebLogin' ? { username: 'userLoginPlain', password: 'passwordPlain' } : wrap ? { username: 'userName', password: 'password' } : { username: 'username', password: 'password' };
  return {
    names,
    request: (h, username, password) => {
      const fields = { [names.username]: username, [names.password]: password };
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (bearer) headers.Authorization = `Bearer ${h.integratorToken}`;
      if (path.startsWith(STUDIO)) Object.assign(headers, { Cookie: 'XSRF-TOKEN=pair', 'X-XSRF-TOKEN': 'pair' });
      return { path, headers, body: JSON.stringify(wrap ? { [wrap]: fields } : fields) };
    },
  };
};

const CHANNELS: Channel[] = [
  {
    id: 'Zato JSON log-in',
    door: 'zato',
    protocol: 'json',
    ...json('/zato/json/zato.security.jwt.log-in'),
    wrong: () => zatoJson(401, 'Invalid username or password', { 'www-authenticate': ZATO_CHALLENGE }),
  },
  {
    id: 'Zato 3 /zato/jwt/log-in',
    door: 'zato',
    protocol: 'json',
    ...json('/zato/jwt/log-in'),
    wrong: () => zatoJson(401, 'Invalid username or password', { 'www-authenticate': ZATO_CHALLENGE, authorization: null }),
  },
  {
    id: 'Zato SOAP log-in',
    door: 'zato',
    protocol: 'soap',
    names: { username: 'username', password: 'password' },
    request: (h, username, password) => ({
      path: '/zato/soap',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"zato.security.jwt.log-in"' },
      body: renderXml(Buffer.from(loginTemplate(xmlText(username as string), xmlText(password as string))), 'zato', h.integratorToken),
    }),
    wrong: () => zatoFault('Invalid username or password', { headers: { 'www-authenticate': ZATO_CHALLENGE } }),
  },
  {
    id: 'xWeb JSON Authenticate',
    door: 'xweb',
    protocol: 'json',
    ...json('/xweb/JSON/Authenticate', 'Authenticate'),
    wrong: () => xwebJson(401, 'Invalid Credentials Supplied', 'InvalidCredentials', { 'www-authenticate': XWEB_CHALLENGE }),
  },
  {
    id: 'xWeb JSON WebLogin',
    door: 'xweb',
    protocol: 'json',
    ...json('/xweb/JSON/WebLogin', 'WebLogin', true),
    wrong: () => xwebJson(400, 'Unable to login user.', 'System', { 'www-authenticate': null }),
  },
  {
    id: 'xWeb SOAP Authenticate',
    door: 'xweb',
    protocol: 'soap',
    names: { username: 'userName', password: 'password' },
    request: (h, username, password) => ({
      path: '/xweb/secure/netForumXML.asmx',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${XWEB_NS}Authenticate"` },
      body: renderXml(Buffer.from(loginTemplate(xmlText(username as string), xmlText(password as string))), 'xweb', h.integratorToken),
    }),
    wrong: () => xwebFault('Invalid Credentials Supplied', { kind: 'InvalidCredentials', at: 'Authenticate' }),
  },
  {
    id: 'xWeb SOAP WebLogin',
    door: 'xweb',
    protocol: 'soap',
    names: { username: 'userLoginPlain', password: 'passwordPlain' },
    request: (h, username, password) => ({
      path: '/xweb/secure/netForumXML.asmx',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${XWEB_NS}WebLogin"` },
      body:
        `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Header><AuthorizationToken xmlns="${XWEB_NS}"><Token>${h.integratorToken}</Token></AuthorizationToken></soap:Header>` +
        `<soap:Body><WebLogin xmlns="${XWEB_NS}"><userLoginPlain>${xmlText(username as string)}</userLoginPlain>` +
        `<passwordPlain>${xmlText(password as string)}</passwordPlain></WebLogin></soap:Body></soap:Envelope>`,
    }),
    wrong: () => xwebFault('Unable to login user.', { at: 'WebLogin' }),
  },
  {
    id: 'Crafter login.json',
    door: 'crafter',
    protocol: 'json',
    ...json(`${STUDIO}/login.json`),
    wrong: () => crafterJson(401, { message: 'Unauthorized' }),
  },
];

function expected(channel: Channel, item: CredentialItem): Expected {
  const cause = causeOf(item);
  if (cause.kind === 'invalid-credentials') {
    return { ...channel.wrong(), audit: [{ event: 'login', outcome: 'failed', username: item.username as string, door: channel.door, detail: 'unknown user' }] };
  }
  const wire = channel.names[cause.field];
  const message = cause.kind === 'wrong-type' ? (channel.door === 'xweb' ? `Invalid ${wire}: the field must be given once, as a string` : `Invalid ${wire}: expected a string`) : `Invalid ${wire}: ${TOO_LONG[cause.field]}`;
  const at = channel.names.username === 'userLoginPlain' ? 'WebLogin' : 'Authenticate';
  if (channel.door === 'crafter') return crafterJson(400, { message: 'Bad Request', field: cause.field });
  if (channel.door === 'xweb') return channel.protocol === 'json' ? xwebJson(400, message) : xwebFault(message, { at });
  return channel.protocol === 'json' ? zatoJson(400, message) : zatoFault(message);
}

/** XML carries only text, and no NUL. */
const soapCarries = (item: CredentialItem) => [item.username, item.password].every((v) => typeof v === 'string' && !v.includes('\0'));

const CASES = CHANNELS.flatMap((channel) =>
  ITEMS.filter((item) => channel.protocol === 'json' || soapCarries(item)).map((item) => [`${channel.id}: ${item.what}`, channel, item] as const),
);

describe('hostile credentials, at every way of logging in', () => {
  let h: Hostile;
  beforeAll(async () => {
    // Each item goes to every way in from one address; the lockout (which would make the later ones "locked"
    // tallies instead of rows of their own) has its own tests in credential-defense.test.ts.
    h = await startHostileServer({ DUALGATE_LOCKOUT_THRESHOLD: '1000', DUALGATE_LOCKOUT_ACCOUNT_THRESHOLD: '1000' });
  });
  afterAll(() => h.stop());

  it.each(CASES)('%s', async (_name, channel, item) => {
    await expectAnswer(h, channel.request(h, item.username, item.password), expected(channel, item));
    await expectStillServing(h, channel.door, channel.protocol);
  });

  it('still has every account and table, and the victim sessions', async () => {
    expect((await h.server.core.accounts.list()).map((a) => a.username)).toEqual(['admin', 'alice', 'root', 'integ']);
    expect(await victimsAlive(h)).toEqual([true, true, true]);
  });
});
