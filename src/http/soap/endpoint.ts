import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../../core';
import { readBody } from '../body';
import { baseUrlOf } from '../client';
import { requestContext } from '../context';
import { queryOf, type Exchange } from '../exchange';
import { notFound } from '../pipeline';
import { reply, SOAP12_TYPE, XML_TYPE } from '../reply';
import type { Handler, Route } from '../routes';
import { RequestError } from '../request-errors';
import { escapeXml } from './markup';
import { readEnvelope, type SoapRequest, type SoapVersion } from './envelope';
import { parseUntrustedXml } from './guard';

/** One call as a SOAP operation handler sees it. */
export interface SoapCall {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: RequestContext;
  cid: string;
  /** The endpoint's own URL as the client reached it (xWeb faults name it as `faultactor`). */
  endpointUrl: string;
  /** Set once dispatch has found the operation. */
  operation?: string;
  /** The SOAP version the answer is written in: the request's, as its media type announced it. */
  version: SoapVersion;
}

export interface SoapOperation {
  name: string;
  soapAction: string;
  /** Local name of the body element, in the door's namespace. */
  requestElement: string;
  /** Answers the whole response envelope. */
  handle(request: SoapRequest, call: SoapCall): Promise<string>;
}

export interface SoapDoor {
  namespace: string;
  path: string;
  wsdlFile: string;
  operations: readonly SoapOperation[];
  xmlLimit: number;
  /** The SOAP versions spoken: `['1.1']` (Zato), or `['1.1', '1.2']` on one URL as ASMX does (xWeb). */
  versions: readonly SoapVersion[];
  /** Renders any error, the core's, the request's or an unexpected one, as this door's fault. */
  fault(err: unknown, call: SoapCall): { status: number; xml: string };
}

/** Answers GET with the door's WSDL, its soap:address set to where the client came from. */
export function wsdlResponder(door: Pick<SoapDoor, 'wsdlFile' | 'path'>): Handler {
  const wsdl = readFileSync(door.wsdlFile, 'utf8');
  return async (x) => {
    const location = escapeXml(`${baseUrlOf(x)}${door.path}`);
    // A function, not a replacement string: `$&`, `$'`... in the client's Host header must stay literal.
    reply(x.res, 200, XML_TYPE, wsdl.replace(/(<soap(?:12)?:address\s+location=")[^"]*(")/g, (_match, open: string, close: string) => open + location + close));
  };
}

function hasWsdlQuery(x: Exchange): boolean {
  return Object.keys(queryOf(x)).some((k) => k.toLowerCase() === 'wsdl');
}

/**
 * The SOAP endpoint of a door: `POST` is the guard, the envelope, dispatch by action and body element, and
 * the door's faults; `GET ?wsdl` (any case) is the WSDL. SOAP 1.2 (where the door speaks it) comes as
 * `application/soap+xml`, its action a parameter of that media type.
 */
export function soapEndpoint(door: SoapDoor): Route[] {
  const byAction = new Map(door.operations.map((op) => [op.soapAction, op]));
  const byElement = new Map(door.operations.map((op) => [op.requestElement, op]));
  const sendWsdl = wsdlResponder(door);
  const versionOf = (req: IncomingMessage, media = mediaOf(req.headers['content-type'])): SoapVersion =>
    media.soap12 && door.versions.includes('1.2') ? '1.2' : '1.1';
  const callOf = (x: Exchange, version: SoapVersion): SoapCall => ({
    req: x.req,
    res: x.res,
    ctx: requestContext(x),
    cid: x.cid,
    endpointUrl: `${baseUrlOf(x)}${door.path}`,
    version,
    operation: x.operation ?? undefined,
  });

  const post: Route = {
    methods: ['POST'],
    path: door.path,
    async handle(x) {
      const media = mediaOf(x.req.headers['content-type']);
      const version = versionOf(x.req, media);
      const request = readEnvelope(parseUntrustedXml(await readBody(x.req, door.xmlLimit)), version, door.versions);
      const action = version === '1.2' ? (media.action ?? soapActionOf(x.req)) : soapActionOf(x.req);
      const operation = dispatch(request, action, byAction, byElement, door.namespace);
      x.operation = operation.name;
      const xml = await operation.handle(request, callOf(x, version));
      reply(x.res, 200, version === '1.2' ? SOAP12_TYPE : XML_TYPE, xml);
    },
    fail(x, err) {
      const version = versionOf(x.req);
      const { status, xml } = door.fault(err, callOf(x, version));
      reply(x.res, status, version === '1.2' ? SOAP12_TYPE : XML_TYPE, xml);
    },
  };
  const get: Route = { methods: ['GET'], path: door.path, handle: async (x) => (hasWsdlQuery(x) ? sendWsdl(x) : notFound(x)) };
  return [post, get];
}

/** Whether the media type is SOAP 1.2's, and its `action` parameter (RFC 3902), unquoted. */
function mediaOf(contentType: string | undefined): { soap12: boolean; action?: string } {
  if (contentType === undefined) return { soap12: false };
  const semicolon = contentType.indexOf(';');
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (type !== 'application/soap+xml') return { soap12: false };
  const action = /;\s*action\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const value = action?.[1] ?? action?.[2];
  return { soap12: true, action: value === undefined || value === '' ? undefined : value };
}

/** SOAPAction without its quotes; undefined when the header is absent or empty. */
function soapActionOf(req: IncomingMessage): string | undefined {
  const raw = req.headers.soapaction;
  if (typeof raw !== 'string') return undefined;
  let action = raw.trim();
  if (action.length >= 2 && action.startsWith('"') && action.endsWith('"')) action = action.slice(1, -1);
  return action === '' ? undefined : action;
}

function dispatch(
  request: SoapRequest,
  action: string | undefined,
  byAction: Map<string, SoapOperation>,
  byElement: Map<string, SoapOperation>,
  namespace: string,
): SoapOperation {
  const { body } = request;
  const fromBody = body.ns === namespace ? byElement.get(body.name) : undefined;
  const fromAction = action === undefined ? undefined : byAction.get(action);
  if (action !== undefined && !fromAction) {
    throw new RequestError('UnknownOperation', `Unknown operation: ${action.slice(0, 128)}`);
  }
  if (!fromBody) {
    const element = body.ns ? `{${body.ns.slice(0, 128)}}${body.name.slice(0, 128)}` : body.name.slice(0, 128);
    throw new RequestError('UnknownOperation', `Unknown operation: ${element}`);
  }
  if (fromAction && fromAction !== fromBody) {
    throw new RequestError(
      'ActionMismatch',
      `SOAPAction ${fromAction.soapAction} does not match the body element ${fromBody.requestElement}`,
    );
  }
  return fromBody;
}
