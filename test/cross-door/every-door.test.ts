import { startTestServer, type TestServer } from '../support/server';
import { Crafter, NIL_GUID, XWeb, Zato } from './doors';

/** One session core behind every door: a session ended at any door is dead at all of them. */
describe('a session ended at one door', () => {
  let server: TestServer;
  let zato: Zato;
  let xweb: XWeb;
  let crafter: Crafter;
  let annKey: string;

  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser('ann', 'ann-pw', 'user', { firstName: 'Ann' });
    await server.addUser('integ', 'integ-pw', 'integrator');
    annKey = (await server.core.accounts.findByUsername('ann'))!.customerKey;
    zato = new Zato(server.url);
    xweb = new XWeb(server.url);
    crafter = new Crafter(server.url);
    await xweb.authenticate('integ', 'integ-pw');
  });
  afterEach(() => server.stop());

  it('a Zato JWT logged out through xWeb WebLogout is dead at Zato, xWeb and Crafter', async () => {
    const jwt = await zato.logIn('ann', 'ann-pw');
    expect(await xweb.webValidate(jwt)).toBe(annKey);
    expect(await crafter.isActive(jwt)).toBe(true);

    expect((await xweb.webLogout(jwt)).status).toBe(200);

    expect(await xweb.webValidate(jwt)).toBe(NIL_GUID);
    expect(await crafter.isActive(jwt)).toBe(false);
    // Renewal through Zato refuses it: log-in with the dead token opens a new session instead.
    const fresh = await zato.logIn('ann', 'ann-pw', jwt);
    expect(fresh).not.toBe(jwt);
    expect(await xweb.webValidate(jwt)).toBe(NIL_GUID);
    expect(await xweb.webValidate(fresh)).toBe(annKey);
  });

  it('an xWeb customer token logged out through the Zato SOAP door is dead at xWeb and Crafter', async () => {
    const guid = await xweb.webLogin('ann', 'ann-pw');
    expect(await crafter.isActive(guid)).toBe(true);
    const answer = await zato.soapLogOut(guid);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('<result>ZATO_OK</result>');
    expect(await xweb.webValidate(guid)).toBe(NIL_GUID);
    expect(await crafter.isActive(guid)).toBe(false);
  });

  it('a Crafter cookie session logged out through Zato JSON, or through xWeb, is inactive at Crafter', async () => {
    const first = await crafter.logIn('ann', 'ann-pw');
    const second = await crafter.logIn('ann', 'ann-pw');
    expect(await xweb.webValidate(first)).toBe(annKey);

    const viaZato = await zato.logOut(first);
    expect(viaZato.status).toBe(200);
    expect(viaZato.body.zato_security_jwt_log_out_response).toEqual({ result: '' });
    expect(await crafter.isActive(first)).toBe(false);

    expect((await xweb.webLogout(second)).status).toBe(200);
    expect(await crafter.isActive(second)).toBe(false);
    expect(await xweb.webValidate(second)).toBe(NIL_GUID);
  });

  it('a Zato token logged out at the Crafter door (as a JSESSIONID) is dead at Zato and xWeb', async () => {
    const jwt = await zato.logIn('ann', 'ann-pw');
    expect((await crafter.logOut(jwt)).status).toBe(200);
    expect(await xweb.webValidate(jwt)).toBe(NIL_GUID);
    // Logging it out again at Zato is fine: it is dead, not unknown.
    expect((await zato.logOut(jwt)).status).toBe(200);
  });

  it('an operator revoking a session from the CLI side ends it at every door', async () => {
    const jwt = await zato.logIn('ann', 'ann-pw');
    const [session] = await server.core.sessions.list({ username: 'ann', alive: true });
    expect(await server.core.sessions.revoke(session!.id, 'test', { cid: null, door: 'cli' })).toBe('revoked');
    expect(await xweb.webValidate(jwt)).toBe(NIL_GUID);
    expect(await crafter.isActive(jwt)).toBe(false);
  });
});
