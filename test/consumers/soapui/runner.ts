/**
 * Replays a SoapUI 5 project (the `con:` format SoapUI itself saves) against a live server, as SoapUI's
 * testrunner would: every enabled TestSuite, TestCase and TestStep in order, with property expansion,
 * request steps over HTTP, property transfers by XPath, and the assertions. What it cannot run exactly (a
 * step type, an assertion type, an option it does not implement) throws `Unsupported`, so a project that
 * grows past it fails instead of passing by skipping.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { attr, childNamed, childrenNamed, parseXml, rootOf, stringValue, type XDocument, type XElement } from './xml';
import { evaluate, firstValue, readProlog, Unsupported } from './xpath';

export { Unsupported };

export const CON_NS = 'http://eviware.com/soapui/config';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const WSDL_SOAP11_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
const WSDL_SOAP12_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';
const SOAP11_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12_ENV_NS = 'http://www.w3.org/2003/05/soap-envelope';
const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
const BASE64_BINARY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

export interface AssertionResult {
  name: string;
  type: string;
  ok: boolean;
  message?: string;
}

export interface StepResult {
  suite: string;
  testCase: string;
  step: string;
  type: string;
  /** Request steps: the HTTP status. */
  status?: number;
  assertions: AssertionResult[];
  /** Transfer steps: each transfer's name and the value it moved. */
  transfers: { name: string; value: string }[];
  /** Why the step failed, beyond its assertions (a transfer without a source, a network error). */
  error?: string;
  ok: boolean;
}

export interface RunReport {
  steps: StepResult[];
  ok: boolean;
}

/** The `con:` child elements of `el` with this local name. */
const cons = (el: XElement, local: string) => childrenNamed(el, CON_NS, local);
const con = (el: XElement, local: string) => childNamed(el, CON_NS, local);
const conText = (el: XElement, local: string) => {
  const found = con(el, local);
  return found ? stringValue(found) : undefined;
};
/** An unqualified child's text (assertion configurations hold plain `<path>`, `<codes>`...). */
const plainText = (el: XElement | undefined, local: string) => {
  const found = el && childNamed(el, '', local);
  return found ? stringValue(found) : undefined;
};
const isTrue = (value: string | undefined) => value?.trim() === 'true';

/** A `con:properties` block as an ordered map. */
function properties(holder: XElement): Map<string, string> {
  const map = new Map<string, string>();
  const block = con(holder, 'properties');
  for (const p of block ? cons(block, 'property') : []) map.set(conText(p, 'name') ?? '', conText(p, 'value') ?? '');
  return map;
}

interface WsdlInterface {
  name: string;
  soapVersion: string;
  /** SOAPAction of each operation, read from the binding of the cached WSDL. */
  soapActions: Map<string, string>;
}

/** The binding's soapAction for each operation, from the WSDL SoapUI cached in `con:definitionCache`. */
function readInterface(el: XElement): WsdlInterface {
  const name = attr(el, 'name')!;
  if (attr(el, 'type') !== 'wsdl') throw new Unsupported(`interface ${name}: only WSDL interfaces are supported`);
  const binding = /^\{(.*)\}(.+)$/.exec(attr(el, 'bindingName') ?? '');
  if (!binding) throw new Unsupported(`interface ${name}: bindingName must be {namespace}local`);
  const cache = con(el, 'definitionCache');
  const rootPart = cache && attr(cache, 'rootPart');
  const part = cache && cons(cache, 'part').find((p) => conText(p, 'url') === rootPart);
  if (!part) throw new Unsupported(`interface ${name}: no cached definition part for ${rootPart ?? '(no rootPart)'}`);
  const wsdl = rootOf(parseXml(conText(part, 'content') ?? ''));
  if (wsdl.ns !== WSDL_NS || attr(wsdl, 'targetNamespace') !== binding[1]) {
    throw new Unsupported(`interface ${name}: the cached definition is not the WSDL of ${binding[1]}`);
  }
  const wsdlBinding = childrenNamed(wsdl, WSDL_NS, 'binding').find((b) => attr(b, 'name') === binding[2]);
  if (!wsdlBinding) throw new Unsupported(`interface ${name}: the WSDL has no binding ${binding[2]}`);
  const soapActions = new Map<string, string>();
  const soapVersion = attr(el, 'soapVersion') ?? '1_1';
  if (soapVersion !== '1_1' && soapVersion !== '1_2') throw new Unsupported(`interface ${name}: SOAP ${soapVersion} is not supported`);
  for (const op of childrenNamed(wsdlBinding, WSDL_NS, 'operation')) {
    const soapOp = childNamed(op, soapVersion === '1_2' ? WSDL_SOAP12_NS : WSDL_SOAP11_NS, 'operation');
    soapActions.set(attr(op, 'name')!, soapOp ? (attr(soapOp, 'soapAction') ?? '') : '');
  }
  return { name, soapVersion, soapActions };
}

interface Response {
  status: number;
  text: string;
  /** Parsed once, when an XPath or SOAP assertion asks. */
  xml?: XDocument;
}

interface CaseState {
  project: Map<string, string>;
  suite: Map<string, string>;
  testCase: Map<string, string>;
  /** Request steps run so far in this test case: their expanded request and their response. */
  requests: Map<string, { request: string; response: Response }>;
}

export interface RunOptions {
  /** Project properties to override, as `testrunner.sh -Pname=value` does. */
  properties?: Record<string, string>;
}

export interface LoadedProject {
  doc: XDocument;
  root: XElement;
  name: string;
  properties: Map<string, string>;
}

export function loadProject(path: string): LoadedProject {
  return readProject(readFileSync(path, 'utf8'));
}

/** A project from its text (tests replay altered copies). */
export function readProject(xml: string): LoadedProject {
  const doc = parseXml(xml);
  const root = rootOf(doc);
  if (root.ns !== CON_NS || root.local !== 'soapui-project') throw new Unsupported('not a SoapUI project');
  return { doc, root, name: attr(root, 'name') ?? '', properties: properties(root) };
}

export async function runProject(project: LoadedProject, options: RunOptions = {}): Promise<RunReport> {
  const { root } = project;
  const interfaces = new Map<string, WsdlInterface>();
  for (const el of cons(root, 'interface')) {
    const xsiType = el.attrs.find((a) => a.ns === XSI_NS && a.local === 'type')?.value;
    if (xsiType !== 'con:WsdlInterface') throw new Unsupported(`interface ${attr(el, 'name')}: ${xsiType} is not supported`);
    const wsdl = readInterface(el);
    interfaces.set(wsdl.name, wsdl);
  }
  const projectProps = new Map(project.properties);
  for (const [k, v] of Object.entries(options.properties ?? {})) projectProps.set(k, v);

  const steps: StepResult[] = [];
  for (const suiteEl of cons(root, 'testSuite')) {
    if (isTrue(attr(suiteEl, 'disabled'))) continue;
    const suiteProps = properties(suiteEl);
    for (const caseEl of cons(suiteEl, 'testCase')) {
      if (isTrue(attr(caseEl, 'disabled'))) continue;
      const state: CaseState = { project: projectProps, suite: suiteProps, testCase: properties(caseEl), requests: new Map() };
      for (const stepEl of cons(caseEl, 'testStep')) {
        if (isTrue(attr(stepEl, 'disabled'))) continue;
        const result: StepResult = {
          suite: attr(suiteEl, 'name') ?? '',
          testCase: attr(caseEl, 'name') ?? '',
          step: attr(stepEl, 'name') ?? '',
          type: attr(stepEl, 'type') ?? '',
          assertions: [],
          transfers: [],
          ok: true,
        };
        steps.push(result);
        const config = con(stepEl, 'config');
        if (!config) throw new Unsupported(`step ${result.step} has no con:config`);
        switch (result.type) {
          case 'request':
            await runRequestStep(config, result, state, interfaces);
            break;
          case 'transfer':
            runTransferStep(config, result, state);
            break;
          default:
            throw new Unsupported(`step "${result.step}": step type "${result.type}" is not supported`);
        }
        result.ok = result.error === undefined && result.assertions.every((a) => a.ok);
        // failOnError (SoapUI's default): a failed step ends its test case.
        if (!result.ok && attr(caseEl, 'failOnError') !== 'false') break;
      }
    }
  }
  return { steps, ok: steps.every((s) => s.ok) };
}

// ---------------------------------------------------------------------------------------------------------
// Property expansion

/** Expands every `${...}` of `text`, as SoapUI does before sending a request or checking an assertion. */
function expand(text: string, state: CaseState): string {
  const out = text.replace(/\$\{([^{}]*)\}/g, (_whole, ref: string) => resolve(ref, state));
  if (out.includes('${')) throw new Unsupported(`unsupported property expansion in: ${text}`);
  return out;
}

function resolve(ref: string, state: CaseState): string {
  if (ref.startsWith('=')) throw new Unsupported(`script expansions are not supported: \${${ref}}`);
  const scoped = /^#(Project|TestSuite|TestCase)#([^#]+)$/.exec(ref);
  if (scoped) {
    const holder = { Project: state.project, TestSuite: state.suite, TestCase: state.testCase }[scoped[1] as 'Project'];
    return lookup(holder, scoped[2]!, ref);
  }
  if (ref.startsWith('#')) throw new Unsupported(`unsupported property scope: \${${ref}}`);
  const [stepName, property, ...xpath] = ref.split('#');
  if (property === undefined) {
    // SoapUI's "search properties": the test case, then its suite, then the project.
    for (const holder of [state.testCase, state.suite, state.project]) if (holder.has(stepName!)) return holder.get(stepName!)!;
    throw new Error(`no property ${stepName} in the test case, its suite or the project`);
  }
  const run = state.requests.get(stepName!);
  if (!run) throw new Error(`\${${ref}}: step ${stepName} has not run (or is not a request step)`);
  const source = property === 'Response' ? run.response.text : property === 'Request' ? run.request : undefined;
  if (source === undefined) throw new Unsupported(`\${${ref}}: only the Request and Response properties of a step are supported`);
  if (xpath.length === 0) return source;
  const value = firstValue(evaluate(xpath.join('#'), parseXml(source)));
  if (value === undefined) throw new Error(`\${${ref}}: the XPath selects nothing`);
  return value;
}

function lookup(holder: Map<string, string>, name: string, ref: string): string {
  if (!holder.has(name)) throw new Error(`\${${ref}}: no such property`);
  return holder.get(name)!;
}

// ---------------------------------------------------------------------------------------------------------
// Request steps

async function runRequestStep(
  config: XElement,
  result: StepResult,
  state: CaseState,
  interfaces: Map<string, WsdlInterface>,
): Promise<void> {
  const xsiType = config.attrs.find((a) => a.ns === XSI_NS && a.local === 'type')?.value;
  if (xsiType !== 'con:RequestStep') throw new Unsupported(`step ${result.step}: config ${xsiType} is not a RequestStep`);
  const iface = interfaces.get(conText(config, 'interface') ?? '');
  if (!iface) throw new Unsupported(`step ${result.step}: unknown interface ${conText(config, 'interface')}`);
  const operation = conText(config, 'operation') ?? '';
  const soapAction = iface.soapActions.get(operation);
  if (soapAction === undefined) throw new Unsupported(`step ${result.step}: interface ${iface.name} has no operation ${operation}`);
  const request = con(config, 'request');
  if (!request) throw new Unsupported(`step ${result.step}: no con:request`);

  const encoding = conText(request, 'encoding') ?? 'UTF-8';
  if (!/^utf-?8$/i.test(encoding)) throw new Unsupported(`step ${result.step}: encoding ${encoding}`);
  const credentials = con(request, 'credentials');
  const authType = credentials && conText(credentials, 'authType');
  const username = credentials && conText(credentials, 'username');
  // The request's "WSS-Password Type": SoapUI adds a UsernameToken with those credentials, HTTP sends none.
  const wssPasswordType = attr(request, 'wssPasswordType') ?? '';
  if (wssPasswordType !== '' && wssPasswordType !== 'PasswordText') {
    throw new Unsupported(`step ${result.step}: WSS password type ${wssPasswordType} is not supported`);
  }
  if ((authType !== undefined && authType !== 'No Authorization') || ((username ?? '') !== '' && wssPasswordType === '')) {
    throw new Unsupported(`step ${result.step}: authentication (${authType}) is not supported`);
  }
  for (const flag of ['useWsAddressing', 'useWsReliableMessaging']) {
    if (isTrue(attr(request, flag))) throw new Unsupported(`step ${result.step}: ${flag} is not supported`);
  }
  for (const wss of ['outgoingWss', 'incomingWss']) {
    if ((attr(request, wss) ?? '') !== '') throw new Unsupported(`step ${result.step}: ${wss} is not supported`);
  }
  // As SoapUI sends them: SOAP 1.1 with SOAPAction, SOAP 1.2 with the action in the media type.
  const headers: Record<string, string> =
    iface.soapVersion === '1_2'
      ? { 'Content-Type': `application/soap+xml;charset=UTF-8;action="${soapAction}"`, 'User-Agent': 'dualgate-soapui-replay' }
      : { 'Content-Type': 'text/xml;charset=UTF-8', SOAPAction: `"${soapAction}"`, 'User-Agent': 'dualgate-soapui-replay' };
  refuseCustomHeaders(request, result.step);

  const endpoint = expand(conText(request, 'endpoint') ?? '', state);
  let body = expand(conText(request, 'request') ?? '', state);
  if (wssPasswordType === 'PasswordText') {
    body = withUsernameToken(body, expand(username ?? '', state), expand((credentials && conText(credentials, 'password')) ?? '', state), result.step);
  }
  const envelopeNs = iface.soapVersion === '1_2' ? SOAP12_ENV_NS : SOAP11_ENV_NS;
  let response: Response;
  try {
    const res = await fetch(endpoint, { method: 'POST', headers, body: Buffer.from(body, 'utf8') });
    response = { status: res.status, text: await res.text() };
  } catch (err) {
    result.error = `POST ${endpoint} failed: ${(err as Error).message}`;
    return;
  }
  result.status = response.status;
  state.requests.set(result.step, { request: body, response });
  for (const assertion of cons(request, 'assertion')) {
    if (isTrue(attr(assertion, 'disabled'))) continue;
    result.assertions.push(check(assertion, response, state, result.step, envelopeNs));
  }
}

const escapeText = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * The request with the UsernameToken SoapUI adds for a "WSS-Password Type" of PasswordText (through WSS4J): in a
 * mustUnderstand wsse:Security header, with a random Nonce and the Created time.
 */
function withUsernameToken(envelope: string, username: string, password: string, step: string): string {
  const prefix = /^\s*<([\w.-]+):Envelope\b/.exec(envelope)?.[1];
  if (!prefix) throw new Unsupported(`step ${step}: WS-Security needs a prefixed Envelope element`);
  const security =
    `<wsse:Security ${prefix}:mustUnderstand="1" xmlns:wsse="${WSSE_NS}" xmlns:wsu="${WSU_NS}">` +
    `<wsse:UsernameToken wsu:Id="UsernameToken-${randomUUID()}">` +
    `<wsse:Username>${escapeText(username)}</wsse:Username>` +
    `<wsse:Password Type="${TOKEN_PROFILE}#PasswordText">${escapeText(password)}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${BASE64_BINARY}">${randomBytes(16).toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${new Date().toISOString()}</wsu:Created>` +
    '</wsse:UsernameToken></wsse:Security>';
  const empty = `<${prefix}:Header/>`;
  if (envelope.includes(empty)) return envelope.replace(empty, `<${prefix}:Header>${security}</${prefix}:Header>`);
  const open = new RegExp(`<${prefix}:Header>`);
  if (open.test(envelope)) return envelope.replace(open, (tag) => tag + security);
  return envelope.replace(new RegExp(`<${prefix}:Body\\b`), (tag) => `<${prefix}:Header>${security}</${prefix}:Header>${tag}`);
}

/** SoapUI keeps a request's own HTTP headers as an escaped xml-fragment in a setting: none are supported. */
function refuseCustomHeaders(request: XElement, step: string): void {
  const settings = con(request, 'settings');
  const setting = settings && cons(settings, 'setting').find((s) => attr(s, 'id')?.endsWith('@request-headers'));
  const fragment = setting ? stringValue(setting).trim() : '';
  if (fragment !== '' && fragment !== '<xml-fragment/>') throw new Unsupported(`step ${step}: custom HTTP headers are not supported`);
}

// ---------------------------------------------------------------------------------------------------------
// Assertions

function xmlOf(response: Response): XDocument {
  response.xml ??= parseXml(response.text);
  return response.xml;
}

/** The Body of the response in the interface's SOAP version, or why there is none. */
function soapBody(response: Response, envelopeNs: string): XElement | string {
  let doc: XDocument;
  try {
    doc = xmlOf(response);
  } catch (err) {
    return `the response is not XML: ${(err as Error).message}`;
  }
  const envelope = rootOf(doc);
  if (envelope.ns !== envelopeNs || envelope.local !== 'Envelope') return `the response is not a ${envelopeNs} envelope: <${envelope.qname}>`;
  const body = childNamed(envelope, envelopeNs, 'Body');
  return body ?? 'the SOAP envelope has no Body';
}

const isFault = (body: XElement) => childNamed(body, body.ns, 'Fault') !== undefined;

/** `*` in SoapUI's wildcard mode matches any run of characters; the rest is literal. */
function wildcardMatch(expected: string, actual: string): boolean {
  const pattern = expected
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${pattern}$`).test(actual);
}

function check(assertion: XElement, response: Response, state: CaseState, step: string, envelopeNs: string): AssertionResult {
  const type = attr(assertion, 'type') ?? '';
  const name = attr(assertion, 'name') ?? type;
  const configuration = con(assertion, 'configuration');
  const verdict = (ok: boolean, message?: string): AssertionResult => ({ name, type, ok, message: ok ? undefined : message });
  switch (type) {
    // SoapUI's type ids, with the labels its UI shows in the comments.
    case 'SOAP Response': {
      const body = soapBody(response, envelopeNs);
      return verdict(typeof body !== 'string', typeof body === 'string' ? body : undefined);
    }
    case 'SOAP Fault Assertion': {
      // "Not SOAP Fault"
      const body = soapBody(response, envelopeNs);
      if (typeof body === 'string') return verdict(false, body);
      return verdict(!isFault(body), `the response is a SOAP Fault: ${stringValue(body).trim().slice(0, 200)}`);
    }
    case 'Not SOAP Fault Assertion': {
      // "SOAP Fault"
      const body = soapBody(response, envelopeNs);
      if (typeof body === 'string') return verdict(false, body);
      return verdict(isFault(body), 'the response is not a SOAP Fault');
    }
    case 'Valid HTTP Status Codes': {
      const codes = (plainText(configuration, 'codes') ?? '').split(',').map((c) => c.trim()).filter(Boolean);
      if (codes.length === 0) throw new Unsupported(`${step} / ${name}: no codes`);
      return verdict(codes.includes(String(response.status)), `HTTP ${response.status}, expected one of ${codes.join(', ')}`);
    }
    case 'XPath Match': {
      const path = plainText(configuration, 'path');
      const content = plainText(configuration, 'content');
      if (path === undefined || content === undefined) throw new Unsupported(`${step} / ${name}: XPath Match needs path and content`);
      let actual: string | undefined;
      try {
        actual = firstValue(evaluate(expandPath(path, state), xmlOf(response)));
      } catch (err) {
        if (err instanceof Unsupported) throw err;
        return verdict(false, (err as Error).message);
      }
      const expected = expand(content, state);
      if (actual === undefined) return verdict(false, `missing content for XPath ${readProlog(path).expression}`);
      const ok = isTrue(plainText(configuration, 'allowWildcards')) ? wildcardMatch(expected, actual) : expected === actual;
      return verdict(ok, `XPath ${readProlog(path).expression}: expected "${expected}", got "${actual}"`);
    }
    case 'Simple Contains':
    case 'Simple NotContains': {
      const token = plainText(configuration, 'token');
      if (token === undefined || token === '') throw new Unsupported(`${step} / ${name}: no token`);
      if (isTrue(plainText(configuration, 'useRegEx'))) throw new Unsupported(`${step} / ${name}: regular expressions are not supported`);
      const wanted = expand(token, state);
      const ignoreCase = isTrue(plainText(configuration, 'ignoreCase'));
      const found = ignoreCase ? response.text.toLowerCase().includes(wanted.toLowerCase()) : response.text.includes(wanted);
      return type === 'Simple Contains'
        ? verdict(found, `missing token [${wanted}] in the response`)
        : verdict(!found, `the response contains token [${wanted}]`);
    }
    default:
      throw new Unsupported(`${step}: assertion type "${type}" (${name}) is not supported`);
  }
}

/** An XPath's own text may hold expansions too (SoapUI expands it before evaluating). */
function expandPath(path: string, state: CaseState): string {
  return path.includes('${') ? expand(path, state) : path;
}

// ---------------------------------------------------------------------------------------------------------
// Property transfers

function holderOf(step: string, state: CaseState): Map<string, string> | undefined {
  return { '#Project#': state.project, '#TestSuite#': state.suite, '#TestCase#': state.testCase }[step];
}

function runTransferStep(config: XElement, result: StepResult, state: CaseState): void {
  const xsiType = config.attrs.find((a) => a.ns === XSI_NS && a.local === 'type')?.value;
  if (xsiType !== 'con:PropertyTransfersStep') throw new Unsupported(`step ${result.step}: config ${xsiType} is not a PropertyTransfersStep`);
  for (const transfer of cons(config, 'transfers')) {
    if (isTrue(attr(transfer, 'disabled'))) continue;
    const name = conText(transfer, 'name') ?? '';
    const where = `step ${result.step}, transfer ${name}`;
    for (const option of ['transferToAll', 'entitize', 'transferChildNodes']) {
      if (isTrue(attr(transfer, option))) throw new Unsupported(`${where}: ${option} is not supported`);
    }
    for (const kind of [conText(transfer, 'type'), conText(transfer, 'targetTransferType')]) {
      if (kind !== undefined && kind !== 'XPATH') throw new Unsupported(`${where}: ${kind} transfers are not supported`);
    }
    if ((conText(transfer, 'targetPath') ?? '').trim() !== '') {
      throw new Unsupported(`${where}: a target path is not supported; transfer into a property`);
    }

    // The source: a property of a request step (its Request or Response, read by XPath) or of a holder.
    const sourceStep = conText(transfer, 'sourceStep') ?? '';
    const sourceType = conText(transfer, 'sourceType') ?? '';
    const sourcePath = (conText(transfer, 'sourcePath') ?? '').trim();
    let source: string | undefined;
    const holder = holderOf(sourceStep, state);
    if (holder) {
      source = holder.get(sourceType);
    } else {
      const run = state.requests.get(sourceStep);
      if (!run) throw new Unsupported(`${where}: source step ${sourceStep} has not run or is not a request step`);
      if (sourceType !== 'Response' && sourceType !== 'Request') throw new Unsupported(`${where}: source property ${sourceType}`);
      source = sourceType === 'Response' ? run.response.text : run.request;
    }
    let value = source;
    if (source !== undefined && sourcePath !== '') {
      if (attr(transfer, 'transferTextContent') === 'false') throw new Unsupported(`${where}: only text content is transferred`);
      try {
        value = firstValue(evaluate(sourcePath, parseXml(source)));
      } catch (err) {
        if (err instanceof Unsupported) throw err;
        value = undefined;
      }
    }
    if (value === undefined || (value === '' && isTrue(attr(transfer, 'ignoreEmpty')))) {
      if (attr(transfer, 'failOnError') !== 'false') {
        result.error = `${where}: the source ${sourceStep}/${sourceType} ${sourcePath ? `(${readProlog(sourcePath).expression}) ` : ''}gave no value`;
        return;
      }
      if (!isTrue(attr(transfer, 'setNullOnMissingSource'))) continue;
      value = '';
    }

    // The target: a property of the project, the suite or the test case that must already exist.
    const target = holderOf(conText(transfer, 'targetStep') ?? '', state);
    if (!target) throw new Unsupported(`${where}: target step ${conText(transfer, 'targetStep')} is not #Project#, #TestSuite# or #TestCase#`);
    const targetProperty = conText(transfer, 'targetType') ?? '';
    if (!target.has(targetProperty)) {
      result.error = `${where}: ${conText(transfer, 'targetStep')} has no property ${targetProperty}`;
      return;
    }
    target.set(targetProperty, value);
    result.transfers.push({ name, value });
  }
}
