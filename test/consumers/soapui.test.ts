import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type Settings, type TestServer } from '../support/server';
import { CON_NS, loadProject, readProject, runProject, Unsupported, type LoadedProject, type RunReport } from './soapui/runner';
import { attr, childNamed, childrenNamed, parseXml, rootOf, stringValue, type XElement } from './soapui/xml';
import { evaluate, firstValue } from './soapui/xpath';

const ROOT = join(__dirname, '..', '..');
const PROJECT_FILE = join(ROOT, 'fixtures', 'soapui', 'dualgate-soapui-project.xml');
const PROJECT_TEXT = readFileSync(PROJECT_FILE, 'utf8');

const cons = (el: XElement, local: string) => childrenNamed(el, CON_NS, local);
const conText = (el: XElement, local: string) => {
  const found = childNamed(el, CON_NS, local);
  return found === undefined ? undefined : stringValue(found);
};

/** The accounts the project's properties name, created through the core as the CLI would. */
async function serverFor(project: LoadedProject, settings: Settings = {}): Promise<TestServer> {
  const server = await startTestServer(settings);
  const p = project.properties;
  await server.addUser(p.get('username')!, p.get('password')!, 'user');
  await server.addUser(p.get('integratorUser')!, p.get('integratorPassword')!, 'integrator');
  await server.addUser(p.get('adminUser')!, p.get('adminPassword')!, 'admin');
  return server;
}

/** Every failed assertion or step, readable in a test failure. */
function failures(report: RunReport): string[] {
  return report.steps.flatMap((s) => [
    ...(s.error ? [`${s.suite} / ${s.testCase} / ${s.step}: ${s.error}`] : []),
    ...s.assertions.filter((a) => !a.ok).map((a) => `${s.suite} / ${s.testCase} / ${s.step} / ${a.name}: ${a.message}`),
  ]);
}

/** Every enabled test step of the project file, as "suite / case / step". */
function stepsOf(project: LoadedProject): string[] {
  return cons(project.root, 'testSuite').flatMap((suite) =>
    cons(suite, 'testCase').flatMap((testCase) =>
      cons(testCase, 'testStep').map((step) => `${attr(suite, 'name')} / ${attr(testCase, 'name')} / ${attr(step, 'name')}`),
    ),
  );
}

describe('the SoapUI project file', () => {
  const project = loadProject(PROJECT_FILE);

  it('is a SoapUI 5 project with the WSDL interfaces (xWeb\'s SOAP 1.2 binding too), cached as the server serves them to npm start', () => {
    expect(project.root.local).toBe('soapui-project');
    const interfaces = cons(project.root, 'interface');
    expect(interfaces.map((i) => [attr(i, 'name'), attr(i, 'bindingName'), attr(i, 'soapVersion')])).toEqual([
      ['zato', '{https://zato.io/ns/20130518}zato', '1_1'],
      ['netForumXMLSoap', '{http://www.avectra.com/2005/}netForumXMLSoap', '1_1'],
      ['netForumXMLSoap12', '{http://www.avectra.com/2005/}netForumXMLSoap12', '1_2'],
    ]);
    const wsdlFiles: Record<string, [string, string]> = {
      zato: ['zato.wsdl', '/zato/soap'],
      netForumXMLSoap: ['xweb.wsdl', '/xweb/secure/netForumXML.asmx'],
      netForumXMLSoap12: ['xweb.wsdl', '/xweb/secure/netForumXML.asmx'],
    };
    for (const iface of interfaces) {
      const [file, path] = wsdlFiles[attr(iface, 'name')!]!;
      const served = readFileSync(join(ROOT, 'wsdl', file), 'utf8').replace(
        /(<soap(?:12)?:address\s+location=")[^"]*(")/g,
        (_m, open: string, close: string) => `${open}http://127.0.0.1:8080${path}${close}`,
      );
      const cache = childNamed(iface, CON_NS, 'definitionCache')!;
      const part = cons(cache, 'part')[0]!;
      expect(conText(part, 'url')).toBe(attr(iface, 'definition'));
      expect(attr(cache, 'rootPart')).toBe(attr(iface, 'definition'));
      // An edited WSDL means this cache (and maybe the test steps) must be brought along.
      expect(conText(part, 'content')).toBe(served);
      expect(cons(childNamed(iface, CON_NS, 'endpoints')!, 'endpoint').map(stringValue)).toEqual([`\${#Project#endpoint}${path}`]);

      // Each con:operation is an operation of the binding, with its soapAction.
      const wsdl = parseXml(served);
      const actions = evaluate(
        "declare namespace w='http://schemas.xmlsoap.org/wsdl/'; declare namespace s='http://schemas.xmlsoap.org/wsdl/soap/'; //w:binding/w:operation/s:operation/@soapAction",
        wsdl,
      );
      const operations = cons(iface, 'operation').map((op) => [attr(op, 'name'), attr(op, 'action')]);
      expect(operations.map(([, action]) => action).sort()).toEqual(actions.kind === 'nodes' ? actions.nodes.map(stringValue).sort() : []);
    }
  });

  it('has one TestSuite per SOAP door, endpoints from ${#Project#endpoint}, and the assertions SoapUI users use', () => {
    expect(cons(project.root, 'testSuite').map((s) => attr(s, 'name'))).toEqual(['Zato SOAP', 'xWeb SOAP']);
    expect([...project.properties.keys()]).toEqual(['endpoint', 'username', 'password', 'integratorUser', 'integratorPassword', 'adminUser', 'adminPassword']);
    expect(project.properties.get('endpoint')).toBe('http://127.0.0.1:8080');

    const requests = evaluate("declare namespace con='http://eviware.com/soapui/config'; //con:testStep/con:config/con:request", project.doc);
    const requestEls = requests.kind === 'nodes' ? (requests.nodes as XElement[]) : [];
    expect(requestEls.length).toBeGreaterThanOrEqual(10);
    for (const request of requestEls) expect(conText(request, 'endpoint')).toMatch(/^\$\{#Project#endpoint\}\//);

    const types = new Set(requestEls.flatMap((r) => cons(r, 'assertion').map((a) => attr(a, 'type'))));
    // SoapUI's type ids: "SOAP Fault Assertion" is the one labelled "Not SOAP Fault", and the other way round.
    expect([...types].sort()).toEqual(
      ['Not SOAP Fault Assertion', 'SOAP Fault Assertion', 'SOAP Response', 'Simple Contains', 'Simple NotContains', 'Valid HTTP Status Codes', 'XPath Match'].sort(),
    );
    const steps = evaluate("declare namespace con='http://eviware.com/soapui/config'; //con:testStep/@type", project.doc);
    expect(new Set(steps.kind === 'nodes' ? steps.nodes.map(stringValue) : [])).toEqual(new Set(['request', 'transfer']));
  });
});

describe('the SoapUI project replayed against a live server', () => {
  const project = loadProject(PROJECT_FILE);
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it.each([
    ['absolute', {}],
    // A new integrator token on every call and no grace: only a client that keeps the token it gets passes.
    ['sliding', { DUALGATE_XWEB_EXPIRATION: 'sliding', DUALGATE_XWEB_GRACE: '0' }],
  ] as [string, Settings][])('passes every TestSuite, every step and every assertion (xWeb tokens %s)', async (_mode, settings) => {
    server = await serverFor(project, settings);
    const report = await runProject(project, { properties: { endpoint: server.url } });
    expect(failures(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => `${s.suite} / ${s.testCase} / ${s.step}`)).toEqual(stepsOf(project));
    for (const step of report.steps) {
      if (step.type === 'request') expect(step.assertions.length).toBeGreaterThanOrEqual(2);
      else expect(step.transfers.length).toBeGreaterThanOrEqual(1);
    }

    // What the suites did is what the server recorded: the user's sessions were all ended.
    expect(await server.core.sessions.list({ username: project.properties.get('username')!, alive: true })).toEqual([]);
    const integratorTokens = report.steps.filter((s) => s.suite === 'xWeb SOAP').flatMap((s) => s.transfers.filter((t) => t.name === 'integratorToken').map((t) => t.value));
    expect(integratorTokens).toHaveLength(4);
    expect(new Set(integratorTokens).size).toBe(settings.DUALGATE_XWEB_EXPIRATION === 'sliding' ? 4 : 1);
    // SOAP 1.2 went to xWeb's 1.2 binding; the admin authenticated by a UsernameToken (and once failed to).
    const statusOf = (step: string) => report.steps.find((s) => s.step === step)?.status;
    expect([statusOf('WebValidate (SOAP 1.2)'), statusOf('Authenticate with a wrong password (SOAP 1.2)')]).toEqual([200, 400]);
    expect([statusOf('get-list as the admin, by WS-Security UsernameToken'), statusOf('get-list with a wrong WS-Security password')]).toEqual([200, 500]);
    const adminLogins = (await server.core.audit.recent(200)).filter((row) => row.event === 'login' && row.username === project.properties.get('adminUser'));
    expect(adminLogins.map((row) => row.outcome).sort()).toEqual(['failed', 'ok']);
  });

  it('fails an assertion whose expectation the server does not meet', async () => {
    server = await serverFor(project);
    const altered = readProject(PROJECT_TEXT.replace('<content>Invalid Credentials Supplied</content>', '<content>Invalid Token Value</content>'));
    const report = await runProject(altered, { properties: { endpoint: server.url } });
    expect(report.ok).toBe(false);
    expect(failures(report)).toEqual([
      'xWeb SOAP / Bad credentials / Authenticate with a wrong password / InvalidCredentialsExceptionInfo message: XPath //ns:InvalidCredentialsExceptionInfo/ns:XWebException/ns:Message: expected "Invalid Token Value", got "Invalid Credentials Supplied"',
    ]);
    // failOnError: the failed step ends its test case.
    expect(report.steps.map((s) => s.step)).not.toContain('WebValidate without an integrator token');
  });

  it('fails the next request when a header token transfer is left out under sliding expiration', async () => {
    server = await serverFor(project, { DUALGATE_XWEB_EXPIRATION: 'sliding', DUALGATE_XWEB_GRACE: '0' });
    const altered = readProject(PROJECT_TEXT.replace('name="Keep the integrator token (WebValidate)"', 'disabled="true" name="Keep the integrator token (WebValidate)"'));
    const report = await runProject(altered, { properties: { endpoint: server.url } });
    const failed = report.steps.find((s) => !s.ok)!;
    expect([failed.testCase, failed.step, failed.status]).toEqual(['Authenticate, WebLogin, WebValidate, WebLogout', 'WebLogout', 500]);
    expect(failed.assertions.find((a) => a.name === 'Not SOAP Fault')).toMatchObject({ ok: false, message: expect.stringContaining('Invalid Token Value') });
  });

  it('fails a transfer whose source XPath selects nothing, and stops the test case there', async () => {
    server = await serverFor(project);
    const altered = readProject(PROJECT_TEXT.replace('/soap:Envelope/soap:Body/zato:zato_security_jwt_log_in_response/zato:item/zato:token</con:sourcePath>', '//zato:item/zato:nothing</con:sourcePath>'));
    const report = await runProject(altered, { properties: { endpoint: server.url } });
    expect(failures(report)[0]).toBe('Zato SOAP / Log in, then log out with the token / Transfer the token: step Transfer the token, transfer token: the source log-in/Response (//zato:item/zato:nothing) gave no value');
    expect(report.steps.filter((s) => s.testCase === 'Log in, then log out with the token').map((s) => s.step)).toEqual(['log-in', 'Transfer the token']);
  });

  it.each([
    ['a step type it cannot run', ['type="transfer" id=', 'type="groovy" id='], /step type "groovy" is not supported/],
    ['an assertion type it does not implement', ['type="Simple Contains"', 'type="Schema Compliance"'], /assertion type "Schema Compliance"/],
    ['a property scope it does not know', ['${#Project#username}', '${#Env#username}'], /unsupported property scope/],
    ['a script expansion', ['${#TestCase#token}', '${=context.token}'], /script expansions are not supported/],
    ['an XPath function it does not implement', ['count(//zato:zato_security_jwt_log_out_response/*)', 'exists(//zato:zato_security_jwt_log_out_response/*)'], /unsupported XPath function exists/],
    ['a regular-expression Contains', ['<useRegEx>false</useRegEx>', '<useRegEx>true</useRegEx>'], /regular expressions are not supported/],
    [
      'custom HTTP headers',
      ['&lt;xml-fragment/>', '&lt;xml-fragment xmlns:con="http://eviware.com/soapui/config">&lt;con:entry key="X-Trace" value="1"/>&lt;/xml-fragment>'],
      /custom HTTP headers are not supported/,
    ],
  ])('refuses %s instead of skipping it', async (_what, [from, to], message) => {
    server = await serverFor(project);
    expect(PROJECT_TEXT).toContain(from);
    const altered = readProject(PROJECT_TEXT.replace(from!, to!));
    const run = runProject(altered, { properties: { endpoint: server.url } });
    await expect(run).rejects.toBeInstanceOf(Unsupported);
    await expect(run).rejects.toThrow(message);
  });
});

describe('the replay\'s XPath', () => {
  const doc = parseXml(
    '<a:r xmlns:a="urn:a" xmlns="urn:d"><a:x n="1">one</a:x><b><a:x n="2">two</a:x><a:x n="3">three</a:x></b><c>plain<![CDATA[ & more]]></c></a:r>',
  );
  const value = (xpath: string) => firstValue(evaluate(`declare namespace p='urn:a'; declare namespace d="urn:d";\n${xpath}`, doc));

  it('reads absolute and descendant paths, positions per parent, attributes, text() and count()', () => {
    expect(value('/p:r/p:x')).toBe('one');
    expect(value('//p:x[2]')).toBe('three');
    expect(value('//d:b/p:x[1]/@n')).toBe('2');
    expect(value('count(//p:x)')).toBe('3');
    expect(value('count(//*:x)')).toBe('3');
    expect(value('/p:r/d:c/text()')).toBe('plain & more');
    expect(value('//x')).toBeUndefined();
    expect(value('/p:r/*[3]')).toBe('plain & more');
  });

  it('refuses what it does not implement, and complex content where SoapUI would compare XML', () => {
    expect(() => value('//p:x[@n="2"]')).toThrow(Unsupported);
    expect(() => value('//q:x')).toThrow(/undeclared XPath prefix "q"/);
    expect(() => value('/p:r')).toThrow(/has child elements/);
    expect(rootOf(doc).local).toBe('r');
  });
});
