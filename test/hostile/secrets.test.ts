import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLogger } from '../../src/logger';
import { runCli, startServeProcess } from '../support/process';
import { startTestServer, tempDir } from '../support/server';
import { basicAuth, checkTemplate, loginTemplate, renderXml, send, SOAP11, STUDIO, xmlText, XWEB_NS, type Answer, type Outgoing } from './harness';

/**
 * A whole scenario at every door with known passwords, tokens and secrets, the failures included (wrong
 * passwords, lockout, malformed bodies that carry a password), then a search of every log line (at trace level)
 * and every error body for them: none may appear. Passwords appear in no answer at all; a token only in the
 * success that hands it out. Once in-process, with a pino destination the test reads, and once through a real
 * `node dist/cli.js serve`, whose stdout and stderr are searched.
 */

const JWT_SECRET = 'Sx-jwt-secret-7f3a9c-0123456789-abcdef';
const KEY_OVERRIDE = 'Sx-key-override-4d2b8e';
const PW = {
  alice: 'Sx-alice-pw-91ac',
  integ: 'Sx-integ-pw-5be0',
  root: 'Sx-root-pw-c3d7',
  bob: 'Sx-bob-pw-0e44',
  bob2: 'Sx-bob-pw2-7a19',
  wrong: 'Sx-wrong-pw-2f6d',
};

const XML = { 'Content-Type': 'text/xml; charset=utf-8' };
const CSRF = { Cookie: 'XSRF-TOKEN=Sx-xsrf-value-1', 'X-XSRF-TOKEN': 'Sx-xsrf-value-1' };

interface Run {
  answers: { what: string; answer: Answer }[];
  /** Every token the scenario was handed. */
  tokens: string[];
}

/** The scenario, against any running dualgate whose accounts alice, integ (integrator) and root (admin) exist. */
async function scenario(url: string): Promise<Run> {
  const run: Run = { answers: [], tokens: [] };
  const call = async (what: string, out: Outgoing) => {
    const answer = await send(url, out);
    run.answers.push({ what, answer });
    return answer;
  };
  const keep = (token: string | undefined) => {
    expect(token).toEqual(expect.any(String));
    run.tokens.push(token!);
    return token!;
  };
  const zatoSoap = (action: string, xml: string): Outgoing => ({
    path: '/zato/soap',
    headers: { ...XML, SOAPAction: `"zato.security.jwt.${action}"` },
    body: renderXml(Buffer.from(xml), 'zato', ''),
  });
  const xwebSoap = (integrator: string, op: string, fields: string): Outgoing => ({
    path: '/xweb/secure/netForumXML.asmx',
    headers: { ...XML, SOAPAction: `"${XWEB_NS}${op}"` },
    body:
      `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Header><AuthorizationToken xmlns="${XWEB_NS}"><Token>${integrator}</Token></AuthorizationToken></soap:Header>` +
      `<soap:Body><${op} xmlns="${XWEB_NS}">${fields}</${op}></soap:Body></soap:Envelope>`,
  });
  const tokenIn = (xml: string, element: string) => new RegExp(`<${element}>([^<]+)</${element}>`).exec(xml)?.[1];

  // Zato: log in three ways, renew, fail, administer, log out three ways.
  const t1 = keep(JSON.parse((await call('zato json log-in', { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: 'alice', password: PW.alice }) })).text).zato_security_jwt_log_in_response.token);
  const t2 = keep(tokenIn((await call('zato soap log-in', zatoSoap('log-in', loginTemplate('alice', PW.alice)))).text, 'token'));
  const t3 = keep((await call('zato 3 log-in', { path: '/zato/jwt/log-in', body: JSON.stringify({ username: 'alice', password: PW.alice }) })).headers.authorization as string);
  const t4 = keep(JSON.parse((await call('zato renew', { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: 'alice', password: PW.alice, token: t1 }) })).text).zato_security_jwt_log_in_response.token);
  await call('zato json wrong password', { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: 'alice', password: PW.wrong }) });
  await call('zato soap wrong password', zatoSoap('log-in', loginTemplate('alice', PW.wrong)));
  await call('zato renew with a dead token', { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: 'alice', password: PW.wrong, token: t1 }) });
  const root = { Authorization: basicAuth('root', PW.root) };
  await call('zato create', { path: '/zato/json/zato.security.jwt.create', headers: root, body: JSON.stringify({ name: 'Bob', username: 'bob', password: PW.bob }) });
  await call('zato change-password', { path: '/zato/json/zato.security.jwt.change-password', headers: root, body: JSON.stringify({ name: 'Bob', password1: PW.bob2, password2: PW.bob2 }) });
  await call('zato change-password, mismatch', { path: '/zato/json/zato.security.jwt.change-password', headers: root, body: JSON.stringify({ name: 'Bob', password1: PW.bob, password2: PW.wrong }) });
  await call('zato admin, wrong Basic', { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: basicAuth('root', PW.wrong) }, body: '{}' });
  await call('zato admin over SOAP, wrong Basic', { ...zatoSoap('get-list', `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><z:zato_security_jwt_get_list_request xmlns:z="https://zato.io/ns/20130518"/></soap:Body></soap:Envelope>`), headers: { ...XML, SOAPAction: '"zato.security.jwt.get-list"', Authorization: basicAuth('root', PW.wrong) } });
  for (let i = 0; i < 5; i++) await call('bob, wrong password', { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: 'bob', password: PW.wrong }) });
  await call('bob, locked, right password', { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: 'bob', password: PW.bob2 }) });
  await call('zato json malformed, with a password', { path: '/zato/json/zato.security.jwt.log-in', body: `{"username": "alice", "password": "${PW.alice}"` });
  await call('zato soap malformed, with a password', zatoSoap('log-in', loginTemplate('alice', PW.alice).replace('</PASSWORD>', '</PASSWORDS>')));
  await call('zato soap malformed token', zatoSoap('log-out', checkTemplate(`${t2}]]>`)));
  await call('zato token of the wrong type', { path: '/zato/json/zato.security.jwt.log-out', body: JSON.stringify({ token: [t2] }) });
  await call('zato json log-out', { path: '/zato/json/zato.security.jwt.log-out', body: JSON.stringify({ token: t4 }) });
  await call('zato soap log-out', zatoSoap('log-out', checkTemplate(t2)));
  await call('zato 3 log-out', { path: '/zato/jwt/log-out', headers: { Authorization: `Bearer ${t3}` } });
  await call('zato 3 log-out again', { path: '/zato/jwt/log-out', headers: { Authorization: `Bearer ${t3}x` } });

  // xWeb: the integrator both ways, customers, keyOverride, Basic, failures.
  const g1 = keep(JSON.parse((await call('xweb json authenticate', { path: '/xweb/JSON/Authenticate', body: JSON.stringify({ Authenticate: { userName: 'integ', password: PW.integ } }) })).text).Token);
  const g2 = keep(tokenIn((await call('xweb soap authenticate', { ...renderSoapLogin('integ', PW.integ) })).text, 'Token'));
  const c1 = keep(JSON.parse((await call('xweb json weblogin', { path: '/xweb/JSON/WebLogin', headers: { Authorization: `Bearer ${g1}` }, body: JSON.stringify({ WebLogin: { userLoginPlain: 'alice', passwordPlain: PW.alice } }) })).text).WebLoginResult);
  const c2 = keep(tokenIn((await call('xweb soap weblogin', xwebSoap(g2, 'WebLogin', `<userLoginPlain>alice</userLoginPlain><passwordPlain>${PW.alice}</passwordPlain>`))).text, 'WebLoginResult'));
  await call('xweb keyOverride', xwebSoap(g2, 'WebLogin', `<userLoginPlain>alice</userLoginPlain><passwordPlain>${PW.alice}</passwordPlain><keyOverride>${KEY_OVERRIDE}</keyOverride>`));
  await call('xweb keyOverride, wrong password', xwebSoap(g2, 'WebLogin', `<userLoginPlain>alice</userLoginPlain><passwordPlain>${PW.wrong}</passwordPlain><keyOverride>${KEY_OVERRIDE}</keyOverride>`));
  await call('xweb weblogin, wrong password', { path: '/xweb/JSON/WebLogin', headers: { Authorization: `Bearer ${g1}` }, body: JSON.stringify({ WebLogin: { userLoginPlain: 'alice', passwordPlain: PW.wrong } }) });
  await call('xweb authenticate, wrong password', renderSoapLogin('integ', PW.wrong));
  await call('xweb Basic', { method: 'GET', path: `/xweb/JSON/WebValidate?authenticationToken=${c1}`, headers: { Authorization: basicAuth('integ', PW.integ) } });
  await call('xweb Basic, wrong', { method: 'GET', path: `/xweb/JSON/WebValidate?authenticationToken=${c1}`, headers: { Authorization: basicAuth('integ', PW.wrong) } });
  await call('xweb validate', { method: 'GET', path: `/xweb/JSON/WebValidate?authenticationToken=${c1}`, headers: { Authorization: `Bearer ${g1}` } });
  await call('xweb validate, a customer token as the integrator', { method: 'GET', path: `/xweb/JSON/WebValidate?authenticationToken=${c1}`, headers: { Authorization: `Bearer ${c1}` } });
  await call('xweb soap validate with a dead integrator token', xwebSoap(t2, 'WebValidate', `<authenticationToken>${c2}</authenticationToken>`));
  await call('xweb json malformed, with a password', { path: '/xweb/JSON/Authenticate', body: `{"Authenticate": {"userName": "integ", "password": "${PW.integ}"}` });
  await call('xweb logout', xwebSoap(g2, 'WebLogout', `<authenticationToken>${c2}</authenticationToken>`));
  await call('xweb logout json', { path: '/xweb/JSON/WebLogout', headers: { Authorization: `Bearer ${g1}` }, body: JSON.stringify({ WebLogout: { authenticationToken: c1 } }) });

  // Crafter: log in, check, fail, log out.
  const s1 = keep(/JSESSIONID=([^;]+)/.exec(String((await call('crafter login', { path: `${STUDIO}/login.json`, headers: CSRF, body: JSON.stringify({ username: 'alice', password: PW.alice }) })).headers['set-cookie']))?.[1]);
  await call('crafter validate', { method: 'GET', path: `${STUDIO}/validate-session.json`, headers: { Cookie: `JSESSIONID=${s1}` } });
  await call('crafter wrong password', { path: `${STUDIO}/login.json`, headers: CSRF, body: JSON.stringify({ username: 'alice', password: PW.wrong }) });
  await call('crafter without the XSRF pair', { path: `${STUDIO}/login.json`, body: JSON.stringify({ username: 'alice', password: PW.alice }) });
  await call('crafter malformed, with a password', { path: `${STUDIO}/login.json`, headers: CSRF, body: `{"username": "alice", "password": "${PW.alice}"` });
  await call('crafter logout', { path: `${STUDIO}/logout.json`, headers: { Cookie: `JSESSIONID=${s1}` } });
  await call('crafter validate, logged out', { method: 'GET', path: `${STUDIO}/validate-session.json`, headers: { Cookie: `JSESSIONID=${s1}` } });

  // Every door, to make sure the failures above were failures and the successes successes.
  expect(run.answers.filter((a) => a.answer.status >= 400).length).toBeGreaterThan(20);
  return run;
}

function renderSoapLogin(username: string, password: string): Outgoing {
  return {
    path: '/xweb/secure/netForumXML.asmx',
    headers: { ...XML, SOAPAction: `"${XWEB_NS}Authenticate"` },
    body: renderXml(Buffer.from(loginTemplate(username, xmlText(password))), 'xweb', ''),
  };
}

const PASSWORDS = [...Object.values(PW), JWT_SECRET, KEY_OVERRIDE];

function expectNothingLeaked(run: Run, logs: string, what: string): void {
  for (const secret of [...PASSWORDS, ...run.tokens]) {
    expect(`${what} log: ${logs.includes(secret) ? secret : 'clean'}`).toBe(`${what} log: clean`);
  }
  for (const { what: request, answer } of run.answers) {
    // A password is in no answer at all.
    for (const secret of PASSWORDS) expect(`${request}: ${answer.text.includes(secret) ? secret : 'clean'}`).toBe(`${request}: clean`);
    const failed = answer.status >= 400 || answer.text.includes(':Fault>');
    // A token is only ever in the success that hands it out (or hands it back), never in an error.
    if (failed) for (const token of run.tokens) expect(`${request}: ${answer.text.includes(token) ? token : 'clean'}`).toBe(`${request}: clean`);
  }
}

describe('no password, token or secret in any log line or error body', () => {
  it('in-process, with every log line at trace level captured', async () => {
    const lines: string[] = [];
    const log = createLogger('trace', { write: (line: string) => void lines.push(line) });
    const server = await startTestServer({ DUALGATE_JWT_SECRET: JWT_SECRET, DUALGATE_XWEB_KEY_OVERRIDE: KEY_OVERRIDE }, { log });
    let run: Run;
    try {
      await server.addUser('alice', PW.alice);
      await server.addUser('integ', PW.integ, 'integrator');
      await server.addUser('root', PW.root, 'admin');
      run = await scenario(server.url);
    } finally {
      await server.close(1000);
    }
    // The log saw the whole scenario, failures and their causes included.
    expect(lines.length).toBeGreaterThan(run.answers.length);
    expect(lines.join('')).toContain('"status":401');
    expectNothingLeaked(run, lines.join(''), 'pino');
    // The database holds hashes: none of them in its files either.
    const files = readdirSync(dirname(server.dbPath)).map((f) => readFileSync(join(dirname(server.dbPath), f)).toString('latin1'));
    for (const secret of [...PASSWORDS, ...run.tokens]) expect(`database: ${files.some((f) => f.includes(secret)) ? secret : 'clean'}`).toBe('database: clean');
  });

  it('through `node dist/cli.js serve` at DUALGATE_LOG_LEVEL=trace, stdout and stderr', async () => {
    const settings = {
      DUALGATE_DB: join(tempDir(), 'secrets.db'),
      DUALGATE_JWT_SECRET: JWT_SECRET,
      DUALGATE_XWEB_KEY_OVERRIDE: KEY_OVERRIDE,
      DUALGATE_LOGIN_RATE: '0',
      DUALGATE_LOG_LEVEL: 'trace',
    };
    const added = [await runCli(['init'], settings)];
    for (const [name, password, role] of [['alice', PW.alice, 'user'], ['integ', PW.integ, 'integrator'], ['root', PW.root, 'admin']] as const) {
      added.push(await runCli(['user', 'add', name, '--password-stdin', '--role', role], settings, `${password}\n`));
    }
    for (const r of added) expect(r.code).toBe(0);
    const serve = await startServeProcess(settings);
    let run: Run;
    try {
      run = await scenario(serve.url);
    } finally {
      expect(await serve.stop('SIGTERM')).toBe(0);
    }
    const output = serve.stdout() + serve.stderr() + added.map((r) => r.stdout + r.stderr).join('');
    expect(serve.stdout()).toContain('"status":401');
    expectNothingLeaked(run, output, 'serve');
  });
});
