import { RequestError } from '../request-errors';
import { attribute, type XmlElement } from './guard';
import { ENVELOPE_NS, type SoapRequest } from './envelope';

export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
export const PASSWORD_TEXT = `${TOKEN_PROFILE}#PasswordText`;
export const PASSWORD_DIGEST = `${TOKEN_PROFILE}#PasswordDigest`;
const BASE64_BINARY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';
/** SOAP 1.1's actor (1.2's role) that means "the next node": this one. */
const NEXT = ['http://schemas.xmlsoap.org/soap/actor/next', 'http://www.w3.org/2003/05/soap-envelope/role/next'];

/** A UsernameToken older than this is refused (its `Created`), and so is one dated further ahead than the skew. */
export const TOKEN_MAX_AGE_MS = 5 * 60_000;
export const CLOCK_SKEW_MS = 60_000;

/** What a WS-Security UsernameToken carries, checked for form and freshness (the nonce is not claimed yet). */
export interface UsernameToken {
  username: string;
  password: string;
  nonce?: Buffer;
  /** `Created`, epoch ms. */
  created?: number;
}

/**
 * The request's WS-Security header addressed to this node, read for a UsernameToken (WSS UsernameToken Profile
 * 1.0/1.1, `PasswordText`). Undefined when there is none. `processes` says whether the service reads
 * credentials at all: when it does not, a `mustUnderstand` Security header is a `MustUnderstand` fault, as is
 * one holding what this door cannot process (a signature, an encrypted key, a binary token). Refuses a
 * `PasswordDigest` (it needs the clear password on the server, and passwords are kept as bcrypt hashes), a
 * `Created` too old or in the future, and anything two readers could read differently.
 */
export function readUsernameToken(request: SoapRequest, processes: boolean, now: number): UsernameToken | undefined {
  const envelopeNs = ENVELOPE_NS[request.version];
  const ours = request.headers.filter((h) => h.ns === WSSE_NS && h.name === 'Security' && forThisNode(h, envelopeNs));
  if (ours.length === 0) return undefined;
  if (ours.length > 1) throw new RequestError('Ambiguous', `${ours.length} wsse:Security headers for this node; one at most is allowed`);
  const security = ours[0]!;
  const mustUnderstand = isTrue(attribute(security, envelopeNs, 'mustUnderstand'));
  const tokens = security.children.filter((c) => c.ns === WSSE_NS && c.name === 'UsernameToken');
  const unprocessable = security.children.find((c) => !(c.ns === WSSE_NS && c.name === 'UsernameToken') && !(c.ns === WSU_NS && c.name === 'Timestamp'));
  if (mustUnderstand && !processes) {
    throw new RequestError('MustUnderstand', 'wsse:Security is not processed by this service: it takes no caller credentials');
  }
  if (mustUnderstand && unprocessable) {
    throw new RequestError('MustUnderstand', `wsse:Security holds ${unprocessable.name}, which this service does not process`);
  }
  if (!processes) return undefined;
  if (tokens.length === 0) return undefined;
  if (tokens.length > 1) throw new RequestError('Ambiguous', `wsse:Security holds ${tokens.length} UsernameTokens; one at most is allowed`);
  return usernameToken(tokens[0]!, now);
}

function usernameToken(token: XmlElement, now: number): UsernameToken {
  const username = single(token, WSSE_NS, 'Username');
  const password = single(token, WSSE_NS, 'Password');
  const nonce = single(token, WSSE_NS, 'Nonce');
  const created = single(token, WSU_NS, 'Created');
  if (!username) throw new RequestError('SecurityRefused', 'The UsernameToken has no Username');
  if (!password) throw new RequestError('SecurityRefused', 'The UsernameToken has no Password');
  const type = password.attrs.Type?.trim() ?? PASSWORD_TEXT;
  if (type === PASSWORD_DIGEST) {
    throw new RequestError(
      'SecurityRefused',
      'PasswordDigest cannot be checked: passwords are kept as bcrypt hashes, never in the clear; send PasswordText (over TLS)',
    );
  }
  if (type !== PASSWORD_TEXT) throw new RequestError('SecurityRefused', 'Unsupported password type; send PasswordText');
  const result: UsernameToken = { username: username.text.trim(), password: password.text };
  if (created) result.created = freshCreated(created.text.trim(), now);
  if (nonce) {
    const encoding = nonce.attrs.EncodingType?.trim() ?? BASE64_BINARY;
    if (encoding !== BASE64_BINARY || !/^[A-Za-z0-9+/]+={0,2}$/.test(nonce.text.trim())) {
      throw new RequestError('SecurityRefused', 'The UsernameToken Nonce must be base64 (Base64Binary)');
    }
    result.nonce = Buffer.from(nonce.text.trim(), 'base64');
  }
  return result;
}

/**
 * `Created` as epoch ms, when the token is fresh: at most `TOKEN_MAX_AGE_MS` old, and no more than the skew
 * ahead of this server's clock.
 */
function freshCreated(text: string, now: number): number {
  // xsd:dateTime with a zone (WSS requires UTC; any offset is read as given).
  const match = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const created = match ? Date.parse(text) : NaN;
  if (Number.isNaN(created)) throw new RequestError('SecurityRefused', 'The UsernameToken Created is not a UTC dateTime');
  if (now - created > TOKEN_MAX_AGE_MS) throw new RequestError('SecurityRefused', 'The UsernameToken is older than 5 minutes (its Created)');
  if (created - now > CLOCK_SKEW_MS) throw new RequestError('SecurityRefused', 'The UsernameToken Created lies in the future');
  return created;
}

/** The one child `{ns}name`, if any; given twice it is ambiguous; holding an element, too. */
function single(parent: XmlElement, ns: string, name: string): XmlElement | undefined {
  const found = parent.children.filter((c) => c.ns === ns && c.name === name);
  if (found.length > 1) throw new RequestError('Ambiguous', `Element ${name} is given more than once in UsernameToken`);
  const element = found[0];
  if (element && element.children.length > 0) {
    throw new RequestError('Ambiguous', `Element ${name} must hold text only, not the element ${element.children[0]!.name}`);
  }
  return element;
}

function forThisNode(header: XmlElement, envelopeNs: string): boolean {
  const actor = attribute(header, envelopeNs, 'actor') ?? attribute(header, envelopeNs, 'role');
  return actor === undefined || NEXT.includes(actor.trim());
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && (value.trim() === '1' || value.trim() === 'true');
}

/**
 * How long a nonce must be remembered so that a replay is always refused: while its `Created` is fresh
 * (plus the skew), or, without `Created`, for `retentionMs`.
 */
export function nonceKeptUntil(token: UsernameToken, now: number, retentionMs: number): number {
  return token.created === undefined ? now + retentionMs : Math.max(token.created, now) + TOKEN_MAX_AGE_MS + CLOCK_SKEW_MS;
}
