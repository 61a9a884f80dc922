import { SaxesParser, type SaxesAttributeNS, type SaxesTagNS } from 'saxes';
import { RequestError } from '../request-errors';

/** An element with its namespace resolved; text is the concatenation of its text nodes. */
export interface XmlElement {
  ns: string;
  name: string;
  /** Attributes by their name as written (prefix included), namespace declarations left out. */
  attrs: Record<string, string>;
  /** The same attributes by namespace and local name (`attribute` reads them). */
  attrList: { ns: string; name: string; value: string }[];
  children: XmlElement[];
  text: string;
  /** The namespace declarations made on this element, by prefix ('' for the default): to resolve QNames in values. */
  declared: Record<string, string>;
}

/**
 * How much of a document the reader builds before it gives up: the shape of an envelope is bounded while it
 * is read, so its cost stays near a normal one's whatever it holds. The largest real request of the WSDLs (Zato
 * 2.0's `zato_http_soap_edit_request`, with a WS-Security UsernameToken, a Timestamp and WS-Addressing) has 35
 * elements, 14 attributes and namespace declarations and 5 levels; the limits leave several times that.
 */
export interface XmlLimits {
  /** Levels of nesting, the root being the first. */
  depth: number;
  elements: number;
  /** Attributes and namespace declarations, over the whole document. */
  attributes: number;
}

export const REQUEST_LIMITS: XmlLimits = { depth: 32, elements: 256, attributes: 256 };

// No DTD of any kind: that shuts out external entities, billion laughs and quadratic blow-up at once.
const DTD_MARKUP = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/** Characters XML 1.0 does not allow anywhere, not even as a character reference (its `Char` production). */
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const utf16le = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: false });
const utf16be = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: false });

/**
 * The guard every SOAP body passes before anything reads it: UTF-8 (or UTF-16 with a byte order mark), not
 * empty, no DTD markup, no processing instruction, only characters XML allows, well-formed and namespace-
 * well-formed, within `limits`. Answers the document's root element.
 */
export function parseUntrustedXml(body: Buffer, limits: XmlLimits = REQUEST_LIMITS): XmlElement {
  const xml = decodeXml(body);
  if (xml.trim().length === 0) throw new RequestError('EmptyBody', 'Empty request body');
  if (DTD_MARKUP.test(xml)) throw new RequestError('ForbiddenMarkup', 'DOCTYPE and ENTITY declarations are not allowed');
  const bad = NOT_XML_CHAR.exec(xml);
  if (bad) throw new RequestError('MalformedXml', `Malformed XML: character ${codePoint(bad[0])} is not allowed`);
  return readXml(xml, limits);
}

/**
 * One pass of saxes (strict XML 1.0 and Namespaces in XML: it refuses what is not well-formed) building the
 * element tree. Every limit is checked as the element or attribute is met, so a document past one costs no
 * more than its first few hundred elements; the handlers throw, which stops the parser where it is.
 */
class TreeReader {
  private readonly parser = new SaxesParser({ xmlns: true, position: true });
  private stack: XmlElement[] = [];
  private root: XmlElement | undefined;
  private elements = 0;
  private attributes = 0;
  private limits: XmlLimits = REQUEST_LIMITS;
  private xml = '';

  constructor() {
    // Handlers are set once: a parser made and given its handlers per document costs several times the parse.
    const parser = this.parser;
    parser.on('error', (err) => {
      // saxes starts its message with `line:column: `.
      const [, line, message] = /^(\d+):\d+: (.*)$/s.exec(err.message) ?? [undefined, undefined, err.message];
      const known = explain(message!, this.xml);
      throw new RequestError('MalformedXml', `Malformed XML: ${known ?? `${said(message!)}${line ? ` (line ${line})` : ''}`}`);
    });
    parser.on('doctype', () => {
      throw new RequestError('ForbiddenMarkup', 'DOCTYPE and ENTITY declarations are not allowed');
    });
    parser.on('processinginstruction', () => {
      throw new RequestError('ForbiddenMarkup', 'Processing instructions are not allowed');
    });
    parser.on('opentagstart', () => {
      const { limits } = this;
      if (++this.elements > limits.elements) throw new RequestError('MalformedXml', `XML with more than ${limits.elements} elements`);
      if (this.stack.length >= limits.depth) throw new RequestError('MalformedXml', `XML nested deeper than ${limits.depth} levels`);
    });
    parser.on('attribute', () => {
      if (++this.attributes > this.limits.attributes) {
        throw new RequestError('MalformedXml', `XML with more than ${this.limits.attributes} attributes`);
      }
    });
    parser.on('opentag', (tag: SaxesTagNS) => {
      const element: XmlElement = { ns: tag.uri, name: tag.local, attrs: {}, attrList: [], children: [], text: '', declared: tag.ns };
      for (const name in tag.attributes) {
        const attr = tag.attributes[name] as SaxesAttributeNS;
        if (attr.prefix === 'xmlns' || name === 'xmlns') continue;
        element.attrs[name] = attr.value;
        element.attrList.push({ ns: attr.uri, name: attr.local, value: attr.value });
      }
      const parent = this.stack[this.stack.length - 1];
      if (parent) parent.children.push(element);
      else this.root = element;
      this.stack.push(element);
    });
    parser.on('closetag', () => {
      this.stack.pop();
    });
    const onText = (text: string) => {
      const current = this.stack[this.stack.length - 1];
      if (current) current.text += text;
    };
    parser.on('text', onText);
    parser.on('cdata', onText);
  }

  read(xml: string, limits: XmlLimits): XmlElement {
    this.xml = xml;
    this.limits = limits;
    this.stack = [];
    this.root = undefined;
    this.elements = 0;
    this.attributes = 0;
    // close() resets the parser for the next document.
    this.parser.write(xml).close();
    const root = this.root;
    this.root = undefined;
    this.xml = '';
    if (!root) throw new RequestError('MalformedXml', 'Malformed XML: expected one root element');
    return root;
  }
}

/** One reader for every document (reading is synchronous); replaced after a refusal, which leaves it mid-document. */
let reader = new TreeReader();

function readXml(xml: string, limits: XmlLimits): XmlElement {
  try {
    return reader.read(xml, limits);
  } catch (err) {
    reader = new TreeReader();
    throw err;
  }
}

/**
 * saxes's own words for what it refused, said as this gateway says them. A value the client forgot to
 * escape (which could be a password) is never quoted: only what is named here, or an XML name, is.
 */
function explain(message: string, xml: string): string | undefined {
  if (message.includes('"]]>"')) return ']]> outside a CDATA section';
  if (message.startsWith('incorrect syntax')) return '<! that begins no comment and no CDATA section';
  if (message.startsWith('malformed name')) return 'an element name that is no XML name';
  if (message.startsWith('invalid attempt to undefine prefix')) return 'a namespace prefix bound to no namespace';
  if (message.startsWith('an XML declaration must be at the start')) return 'an XML declaration is only allowed at the start';
  if (message.startsWith('malformed character entity')) {
    const ref = badCharacterReference(xml);
    return ref ? `bad character reference ${ref}` : 'bad character reference';
  }
  if (message.startsWith('undefined entity')) {
    const name = /&(?!(?:lt|gt|amp|quot|apos);)([A-Za-z_][\w.-]{0,15});/.exec(xml)?.[1];
    return name ? `undefined entity &${name};` : 'undefined entity';
  }
  const unbound = /^unbound namespace prefix: "([^"]*)"/.exec(message);
  if (unbound) return `undeclared namespace prefix ${safeName(unbound[1]!)}`;
  const duplicate = /^duplicate attribute: (.*)\.$/.exec(message);
  if (duplicate) return `duplicate attribute ${safeName(duplicate[1]!)}`;
  return undefined;
}

/** saxes's other messages are fixed sentences ("disallowed character.", "unclosed tag: x"...): names at most. */
function said(message: string): string {
  return message.replace(/: (.*)$/, (_m, rest: string) => `: ${safeName(rest.replace(/\.$/, ''))}`).replace(/\.$/, '');
}

/** `name` when it is an XML name (safe and useful to show), else an ellipsis. */
function safeName(name: string): string {
  return /^[A-Za-z_][\w.-]{0,63}(:[A-Za-z_][\w.-]{0,63})?$/.test(name) ? name : '…';
}

/** The first character reference in `xml` that names no character XML allows (`&#0;`). */
function badCharacterReference(xml: string): string | undefined {
  for (const match of xml.matchAll(/&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});/g)) {
    const ref = match[1]!;
    const code = ref[0] === 'x' ? parseInt(ref.slice(1), 16) : parseInt(ref, 10);
    if (!isXmlChar(code)) return match[0].slice(0, 16);
  }
  return undefined;
}

/** XML 1.0's `Char`: what a character reference may name. */
function isXmlChar(code: number): boolean {
  if (code < 0x20) return code === 0x9 || code === 0xa || code === 0xd;
  return code <= 0xd7ff || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/**
 * The document's text. UTF-8, or UTF-16 when it starts with a byte order mark (XML 1.0 §4.3.3 requires one,
 * and WS-I Basic Profile R1012 lets a SOAP client send either); a declared encoding must agree.
 */
function decodeXml(body: Buffer): string {
  const utf16 = body[0] === 0xff && body[1] === 0xfe ? utf16le : body[0] === 0xfe && body[1] === 0xff ? utf16be : undefined;
  if (!utf16 && body.length >= 2 && ((body[0] === 0x3c && body[1] === 0) || (body[0] === 0 && body[1] === 0x3c))) {
    throw new RequestError('UnsupportedEncoding', 'UTF-16 without a byte order mark; send UTF-8, or UTF-16 with a byte order mark');
  }
  let xml: string;
  try {
    xml = (utf16 ?? utf8).decode(body);
  } catch {
    throw new RequestError('UnsupportedEncoding', utf16 ? 'The request is not valid UTF-16' : 'The request is not valid UTF-8');
  }
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(xml)?.[1];
  if (declared && !(utf16 ? /^utf-?16(le|be)?$/i : /^utf-?8$/i).test(declared)) {
    throw new RequestError(
      'UnsupportedEncoding',
      `Unsupported encoding: ${declared.slice(0, 32)}; send UTF-8${utf16 ? ', or UTF-16 declared as such' : ''}`,
    );
  }
  return xml;
}

/** `U+0000` */
function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first child of `parent` with this local name, whatever its namespace. Only for what no schema describes. */
export function child(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((c) => c.name === name);
}

/** The value of the attribute `{ns}name` of `element`. */
export function attribute(element: XmlElement, ns: string, name: string): string | undefined {
  return element.attrList.find((a) => a.ns === ns && a.name === name)?.value;
}
