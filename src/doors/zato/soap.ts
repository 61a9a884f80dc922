import { join } from 'node:path';
import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { setHeaders } from '../../http/reply';
import type { Route } from '../../http/routes';
import { soapEndpoint, type SoapDoor } from '../../http/soap/endpoint';
import { SOAP11_NS } from '../../http/soap/envelope';
import { escapeXml, textElement } from '../../http/soap/markup';
import { RequestError } from '../../http/request-errors';
import { readFields, schemaRules } from '../../http/soap/schema';
import { nonceKeptUntil, readUsernameToken, type UsernameToken } from '../../http/soap/wss';
import { zatoError } from './errors';
import { callService, elementOf, SERVICES, type Credentials, type Fields, type Reply, type ZatoService } from './services';

export const ZATO_NS = 'https://zato.io/ns/20130518';
export const SOAP_PATH = '/zato/soap';
export const WSDL_FILE = join(__dirname, '..', '..', '..', 'wsdl', 'zato.wsdl');

/** `POST /zato/soap` (and its `?wsdl`): every service of the table as a SOAP 1.1 operation. */
export function zatoSoap(config: DoorSettings['zato'], core: Core): Route[] {
  const rules = schemaRules(WSDL_FILE);
  const soapDoor: SoapDoor = {
    namespace: ZATO_NS,
    path: SOAP_PATH,
    wsdlFile: WSDL_FILE,
    xmlLimit: config.xmlLimit,
    // Zato speaks SOAP 1.1 only; a SOAP 1.2 envelope gets its VersionMismatch fault.
    versions: ['1.1'],
    operations: SERVICES.map((service) => {
      const requestElement = `${elementOf(service)}_request`;
      const rule = rules.get(requestElement);
      if (!rule) throw new Error(`wsdl/zato.wsdl declares no element ${requestElement}`);
      return {
        name: service.name,
        soapAction: service.name,
        requestElement,
        async handle(request, call) {
          const token = readUsernameToken(request, service.admin, core.clock.now());
          const reply = await callService(service, core, {
            ctx: call.ctx,
            authorization: call.req.headers.authorization,
            wsSecurity: token && (() => claimed(core, token, config.sessionRetention * 1000)),
            input: async () => {
              const fields = readFields(request.body, rule);
              return (name) => fields.get(name)?.text;
            },
          });
          return responseEnvelope(service, call.cid, reply);
        },
      };
    }),
    fault(err, call) {
      const error = zatoError(err);
      setHeaders(call.res, error.headers);
      return { status: error.soapStatus, xml: faultEnvelope(error.faultcode, call.cid, error.message) };
    },
  };
  return soapEndpoint(soapDoor);
}

/**
 * The UsernameToken's credentials once its nonce (if any) is claimed: a nonce is good once, across workers
 * and nodes, so a replayed message is refused before any password is checked.
 */
async function claimed(core: Core, token: UsernameToken, retentionMs: number): Promise<Credentials> {
  if (token.nonce) {
    const now = core.clock.now();
    if (!(await core.nonces.claim(token.nonce, nonceKeptUntil(token, now, retentionMs), now))) {
      throw new RequestError('SecurityRefused', 'The UsernameToken Nonce has been used before');
    }
  }
  return { username: token.username, password: token.password };
}

/** The seeds' success envelope: the response element holding `zato_env`, then the reply. */
export function responseEnvelope(service: ZatoService, cid: string, reply: Reply): string {
  const env = `<zato_env>${textElement('cid', cid)}<result>ZATO_OK</result></zato_env>`;
  const element = `${elementOf(service)}_response`;
  return (
    `<soap:Envelope xmlns:soap="${SOAP11_NS}" xmlns="${ZATO_NS}"><soap:Body>` +
    `<${element} xmlns="${ZATO_NS}">${env}${payload(reply)}</${element}>` +
    '</soap:Body></soap:Envelope>'
  );
}

function payload(reply: Reply): string {
  switch (reply.kind) {
    case 'item':
      return item(reply.item);
    case 'list':
      return `<item_list>${reply.items.map(item).join('')}</item_list>`;
    case 'env':
      return '';
  }
}

/** `<item>` with one element per field; a null field is left out (its element is optional in the WSDL). */
function item(fields: Fields): string {
  let xml = '';
  for (const [name, value] of Object.entries(fields)) if (value !== null) xml += textElement(name, String(value));
  return `<item>${xml}</item>`;
}

/** Zato's fault: `faultstring` carries the cid and the human message. */
export function faultEnvelope(faultcode: string, cid: string, message: string): string {
  return (
    `<soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body><soap:Fault>` +
    `<faultcode>${faultcode}</faultcode>` +
    `<faultstring>${escapeXml(`cid [${cid}], faultstring [${message}]`)}</faultstring>` +
    '</soap:Fault></soap:Body></soap:Envelope>'
  );
}
