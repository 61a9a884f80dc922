import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router, type Request, type Response } from 'express';
import type { RequestContext } from '../../core';
import { readBody } from '../body';
import { baseUrlOf } from '../client';
import { requestContext } from '../context';
import { exchangeOf } from '../exchange';
import type { DirectRoute } from '../front';
import { reply, SOAP12_TYPE, XML_TYPE } from '../reply';
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
  door: string;
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

/** Answers `?wsdl` (any case) on GET: the door's WSDL with its soap:address set to where the client came from. */
export function wsdlResponder(door: Pick<SoapDoor, 'wsdlFile' | 'path'>): (req: Request, res: Response) => void {
  const wsdl = readFileSync(door.wsdlFile, 'utf8');
  return (req, res) => {
    const location = escapeXml(`${baseUrlOf(req, res)}${door.path}`);
    res
      .status(200)
      .set('Content-Type', XML_TYPE)
      // A function, not a replacement string: `$&`, `$'`... in the client's Host header must stay literal.
      .send(wsdl.replace(/(<soap(?:12)?:address\s+location=")[^"]*(")/g, (_match, open: string, close: string) => open + location + close));
  };
}

export function hasWsdlQuery(req: Request): boolean {
  return Object.keys(req.query as object).some((k) => k.toLowerCase() === 'wsdl');
}

/**
 * The SOAP endpoint of a door: guard, envelope, dispatch by action and body element, fault mapping. SOAP 1.2
 * (where the door speaks it) comes as `application/soap+xml`, its action a parameter of that media type.
 * `POST` is a direct route (answered ahead of Express); `GET ?wsdl` is an Express route.
 */
export function soapEndpoint(door: SoapDoor): { router: Router; route: DirectRoute } {
  const byAction = new Map(door.operations.map((op) => [op.soapAction, op]));
  const byElement = new Map(door.operations.map((op) => [op.requestElement, op]));
  const sendWsdl = wsdlResponder(door);
  const router = Router();
  router.get(door.path, (req, res, next) => (hasWsdlQuery(req) ? sendWsdl(req, res) : next()));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const exchange = exchangeOf(res);
    const ctx = requestContext(req, res, door.door);
    const media = mediaOf(req.headers['content-type']);
    const version: SoapVersion = media.soap12 && door.versions.includes('1.2') ? '1.2' : '1.1';
    const call: SoapCall = { req, res, ctx, cid: exchange.cid, endpointUrl: `${baseUrlOf(req, res)}${door.path}`, version };
    const type = version === '1.2' ? SOAP12_TYPE : XML_TYPE;
    try {
      const request = readEnvelope(parseUntrustedXml(await readBody(req, door.xmlLimit)), version, door.versions);
      const action = version === '1.2' ? (media.action ?? soapActionOf(req)) : soapActionOf(req);
      const operation = dispatch(request, action, byAction, byElement, door.namespace);
      call.operation = operation.name;
      exchange.operation = operation.name;
      const xml = await operation.handle(request, call);
      exchange.outcome ??= 'ok';
      reply(res, 200, type, xml);
    } catch (err) {
      const { status, xml } = door.fault(err, call);
      exchange.outcome = 'error';
      exchange.error = err;
      reply(res, status, type, xml);
    }
  };
  return { router, route: { path: door.path, methods: ['POST'], handle } };
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
