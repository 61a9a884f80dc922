import * as soap from 'soap';
import { startTestServer, type TestServer } from '../support/server';
import { basic, faultOf, postJson, postSoap, zatoClient, zatoFaultString } from './support';

const ROOT = { username: 'root', password: 'pw-root' };
const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const GET_LIST = 'zato.security.jwt.get-list';
const PASSWORD_TEXT = { passwordType: 'PasswordText', hasNonce: true, hasTokenCreated: true };

/** A node-soap client sending a WS-Security UsernameToken (node-soap's `WSSecurity`) on every call. */
async function wssClient(server: TestServer, username: string, password: string, options: Record<string, unknown> = PASSWORD_TEXT) {
  const zato = await zatoClient(server.url);
  zato.client.setSecurity(new soap.WSSecurity(username, password, options));
  return zato;
}

describe('WS-Security UsernameToken on the Zato admin services', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser('root', ROOT.password, 'admin');
    await server.addUser('carol', 'pw-carol', 'user');
  });
  afterEach(() => server.stop());

  const liveSessions = () => server.core.sessions.list({ alive: true });
  const lastRequest = (zato: { client: soap.Client }) => zato.client.lastRequest!;

  it('authenticates the admin caller by PasswordText with Nonce and Created: create, get-list, delete', async () => {
    const zato = await wssClient(server, ROOT.username, ROOT.password);
    const created = await zato.call('zato.security.jwt.create', { name: 'Sales', username: 'sam', password: 'pw-sam' });
    expect(lastRequest(zato)).toContain(`<wsse:Security xmlns:wsse="${WSSE_NS}"`);
    expect(lastRequest(zato)).toMatch(/<wsse:Nonce [^>]*>[A-Za-z0-9+/=]+<\/wsse:Nonce>/);
    const listed = await zato.call(GET_LIST, { query: 'sam' });
    expect(listed.item_list.item).toMatchObject([{ name: 'Sales', username: 'sam' }]);
    await zato.call('zato.security.jwt.delete', { id: Number(created.item.id) });
    expect(await server.core.accounts.findByUsername('sam')).toBeUndefined();
    const audit = (await server.core.audit.recent(20)).filter((row) => row.event === 'account-create' && row.username === 'sam');
    expect(audit.map((row) => [row.username, row.detail])).toEqual([['sam', 'role user by root']]);
    // The caller is authenticated, never logged in.
    expect(await liveSessions()).toEqual([]);
  });

  it('takes a token without Nonce and Created, and one with mustUnderstand="1" (it is processed)', async () => {
    const plain = await wssClient(server, ROOT.username, ROOT.password, { passwordType: 'PasswordText', hasTimeStamp: false, hasTokenCreated: false });
    expect((await plain.call(GET_LIST, {})).item_list).toBeDefined();
    const must = await wssClient(server, ROOT.username, ROOT.password, { ...PASSWORD_TEXT, mustUnderstand: true });
    expect((await must.call(GET_LIST, {})).item_list).toBeDefined();
    expect(lastRequest(must)).toContain('soap:mustUnderstand="1"');
  });

  it('refuses a replayed nonce, at this server and at another on the same database', async () => {
    const zato = await wssClient(server, ROOT.username, ROOT.password);
    await zato.call(GET_LIST, {});
    const replay = lastRequest(zato);
    const expectReplayRefused = async (url: string) => {
      const answer = await postSoap(url, GET_LIST, replay);
      expect(answer.status).toBe(500);
      expect(faultOf(answer.text)).toEqual({ faultcode: 'soap:Client', faultstring: expect.stringMatching(zatoFaultString('The UsernameToken Nonce has been used before')) });
    };
    await expectReplayRefused(server.url);
    const other = await startTestServer({}, { dir: server.dir, clock: server.clock });
    try {
      await expectReplayRefused(other.url);
    } finally {
      await other.stop();
    }
    // A fresh nonce is fine.
    expect((await zato.call(GET_LIST, {})).item_list).toBeDefined();
  });

  it('refuses a Created older than five minutes, and one further in the future than the skew', async () => {
    const zato = await wssClient(server, ROOT.username, ROOT.password);
    server.clock.advance(5 * 60_000 + 1000);
    let fault = await zato.fault(GET_LIST, {});
    expect(fault).toMatchObject({ status: 500, faultcode: 'soap:Client' });
    expect(fault.faultstring).toMatch(zatoFaultString('The UsernameToken is older than 5 minutes (its Created)'));
    server.clock.advance(-(5 * 60_000 + 1000) - 2 * 60_000);
    fault = await zato.fault(GET_LIST, {});
    expect(fault.faultstring).toMatch(zatoFaultString('The UsernameToken Created lies in the future'));
    server.clock.advance(2 * 60_000);
    expect((await zato.call(GET_LIST, {})).item_list).toBeDefined();
  });

  it('refuses PasswordDigest with a fault that says why, without counting a failure', async () => {
    const zato = await wssClient(server, ROOT.username, ROOT.password, { passwordType: 'PasswordDigest' });
    const fault = await zato.fault(GET_LIST, {});
    expect(fault).toMatchObject({ status: 500, faultcode: 'soap:Client' });
    expect(fault.faultstring).toMatch(
      zatoFaultString('PasswordDigest cannot be checked: passwords are kept as bcrypt hashes, never in the clear; send PasswordText (over TLS)'),
    );
    expect((await server.core.accounts.findByUsername('root'))!.failedLogins).toBe(0);
  });

  it('answers MustUnderstand for a mustUnderstand Security header it does not process', async () => {
    // A public service takes no caller credentials: the header is not processed there.
    const toLogIn = await wssClient(server, ROOT.username, ROOT.password, { ...PASSWORD_TEXT, mustUnderstand: true });
    let fault = await toLogIn.fault('zato.security.jwt.log-in', { username: 'carol', password: 'pw-carol' });
    expect(fault).toMatchObject({ status: 500, faultcode: 'soap:MustUnderstand' });
    expect(fault.faultstring).toMatch(zatoFaultString('wsse:Security is not processed by this service: it takes no caller credentials'));
    // A signature token is nothing this door processes.
    const signed = await wssClient(server, ROOT.username, ROOT.password, {
      ...PASSWORD_TEXT,
      mustUnderstand: true,
      appendElement: '<wsse:BinarySecurityToken ValueType="x">AAAA</wsse:BinarySecurityToken>',
    });
    fault = await signed.fault(GET_LIST, {});
    expect(fault).toMatchObject({ status: 500, faultcode: 'soap:MustUnderstand' });
    expect(fault.faultstring).toMatch(zatoFaultString('wsse:Security holds BinarySecurityToken, which this service does not process'));
    // Without mustUnderstand, a public service ignores the header.
    const optional = await wssClient(server, ROOT.username, ROOT.password, PASSWORD_TEXT);
    expect((await optional.call('zato.security.jwt.log-in', { username: 'carol', password: 'pw-carol' })).item.token).toBeDefined();
  });

  it('counts wrong passwords toward the lockout like every other log-in, and answers as Basic does', async () => {
    // A user account is no admin.
    const carol = await (await wssClient(server, 'carol', 'pw-carol')).fault(GET_LIST, {});
    expect(carol.faultstring).toMatch(zatoFaultString('Only an admin account may call this service'));
    for (let i = 0; i < 5; i++) {
      const fault = await (await wssClient(server, ROOT.username, 'wrong')).fault(GET_LIST, {});
      expect(fault.faultstring).toMatch(zatoFaultString('Invalid username or password'));
    }
    // Locked out from this address: the right password gets a wrong password's answer, by UsernameToken and by
    // Basic alike, since both are the same log-in check.
    const locked = await (await wssClient(server, ROOT.username, ROOT.password)).fault(GET_LIST, {});
    expect(locked.faultstring).toMatch(zatoFaultString('Invalid username or password'));
    const byBasic = await postJson(server.url, `/zato/json/${GET_LIST}`, {}, basic(ROOT.username, ROOT.password));
    expect([byBasic.status, byBasic.body.zato_env.details]).toEqual([401, 'Invalid username or password']);
    const audit = (await server.core.audit.recent(50)).filter((row) => row.event === 'login' && row.outcome === 'failed');
    expect(audit.length).toBeGreaterThanOrEqual(1);
    server.clock.advance(15 * 60_000);
    expect((await postJson(server.url, `/zato/json/${GET_LIST}`, {}, basic(ROOT.username, ROOT.password))).status).toBe(200);
  });

  it('refuses a UsernameToken together with an Authorization header rather than choosing one', async () => {
    const zato = await wssClient(server, ROOT.username, ROOT.password);
    await zato.call(GET_LIST, {});
    const xml = lastRequest(zato).replace(/<wsse:Nonce([^>]*)>[^<]*</, '<wsse:Nonce$1>AAAAAAAAAAAAAAAAAAAAAA==<');
    const answer = await postSoap(server.url, GET_LIST, xml, basic(ROOT.username, ROOT.password));
    expect(answer.status).toBe(500);
    expect(faultOf(answer.text).faultstring).toMatch(zatoFaultString('Both an Authorization header and a WS-Security UsernameToken; send one of them'));
  });

  it('refuses a UsernameToken that could be read two ways: two Usernames, two Security headers', async () => {
    const zato = await wssClient(server, ROOT.username, ROOT.password);
    await zato.call(GET_LIST, {});
    const sent = lastRequest(zato);
    const twoNames = sent.replace('<wsse:Username>root</wsse:Username>', '<wsse:Username>carol</wsse:Username><wsse:Username>root</wsse:Username>');
    let answer = await postSoap(server.url, GET_LIST, twoNames);
    expect(faultOf(answer.text).faultstring).toMatch(zatoFaultString('Element Username is given more than once in UsernameToken'));
    const security = /<wsse:Security[\s\S]*<\/wsse:Security>/.exec(sent)![0];
    answer = await postSoap(server.url, GET_LIST, sent.replace(security, security + security));
    expect(faultOf(answer.text).faultstring).toMatch(zatoFaultString('2 wsse:Security headers for this node; one at most is allowed'));
  });
});
