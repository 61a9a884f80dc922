import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { RequestError } from '../request-errors';

/** An element with its namespace resolved; text is the concatenation of its text nodes. */
export interface XmlElement {
  ns: string;
  name: string;
  /** Attributes by their name as written (prefix included), namespace declarations left out. */
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Deeper than any SOAP request dualgate accepts; the tree walk stops there, so deep nesting cannot exhaust the stack. */
const MAX_DEPTH = 32;

// No DTD of any kind: that shuts out external entities, billion laughs and quadratic blow-up at once.
const DTD_MARKUP = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/** Characters XML 1.0 does not allow anywhere, not even as a character reference (its `Char` production). */
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const utf16le = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: false });
const utf16be = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: false });

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // There is no DTD (the guard refuses one), so only XML's five entities and character references
  // can occur; `decodeText` resolves them, cheaper than the parser's general entity machinery.
  processEntities: false,
  // Kept, so that the walk can refuse them: SOAP 1.1 §3 allows no processing instruction, and an XML
  // declaration anywhere but at the start is malformed.
  ignoreDeclaration: false,
  ignorePiTags: false,
  cdataPropName: '#cdata',
  // No callback is set, so none needs the element's path; as a string it would be built for every element.
  jPath: false,
});

/**
 * The guard every SOAP body passes before anything reads it: UTF-8 (or UTF-16 with a byte order mark), not
 * empty, no DTD markup, no processing instruction, only characters XML allows, well-formed, not nested too
 * deep. Answers the document's root element.
 */
export function parseUntrustedXml(body: Buffer): XmlElement {
  const xml = decodeXml(body);
  if (xml.trim().length === 0) throw new RequestError('EmptyBody', 'Empty request body');
  if (DTD_MARKUP.test(xml)) throw new RequestError('ForbiddenMarkup', 'DOCTYPE and ENTITY declarations are not allowed');
  const bad = NOT_XML_CHAR.exec(xml);
  if (bad) throw new RequestError('MalformedXml', `Malformed XML: character ${codePoint(bad[0])} is not allowed`);
  const verdict = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (verdict !== true) {
    throw new RequestError('MalformedXml', `Malformed XML: ${quoteSafely(verdict.err.msg)} (line ${verdict.err.line})`);
  }
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(xml) as OrderedNode[];
  } catch (err) {
    // The parser has limits of its own (nesting among them); past one, the document is refused like any other.
    const message = String((err as Error).message);
    if (/nested/i.test(message)) throw new RequestError('MalformedXml', `XML nested deeper than ${MAX_DEPTH} levels`);
    throw new RequestError('MalformedXml', `Malformed XML: ${quoteSafely(message).slice(0, 80)}`);
  }
  const roots = toElements(withoutDeclaration(nodes), new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), 0);
  if (roots.length !== 1) throw new RequestError('MalformedXml', 'Malformed XML: expected one root element');
  return roots[0]!;
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

/**
 * The validator quotes the piece of the document it stumbled on. A piece that is an XML name (a tag or an
 * attribute name) is kept, which is what helps a client; anything else (a run of text, markup soup, a value
 * the client forgot to escape, which could be a password) is not echoed into the fault or the log.
 */
function quoteSafely(message: string): string {
  return message.replace(/'([^']*)'/g, (quoted, inner: string) =>
    /^[A-Za-z_][\w.-]{0,63}(:[A-Za-z_][\w.-]{0,63})?$/.test(inner) ? quoted : "'…'",
  );
}

/** The top-level nodes without the XML declaration, which may only come first; a later one is malformed. */
function withoutDeclaration(nodes: OrderedNode[]): OrderedNode[] {
  const rest = nodes[0] && '?xml' in nodes[0] ? nodes.slice(1) : nodes;
  if (rest.some((node) => '?xml' in node)) {
    throw new RequestError('MalformedXml', 'Malformed XML: an XML declaration is only allowed at the start');
  }
  return rest;
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Resolves XML's predefined entities and character references; anything else is malformed. */
function decodeText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new RequestError('MalformedXml', 'Malformed XML: a bare & in text');
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!isXmlChar(code)) throw new RequestError('MalformedXml', `Malformed XML: bad character reference ${whole.slice(0, 16)}`);
      return String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[ref];
    if (named === undefined) throw new RequestError('MalformedXml', `Malformed XML: undefined entity &${ref.slice(0, 16)};`);
    return named;
  });
}

/** A qualified name (Namespaces in XML 1.0): one optional prefix, letters first, no other colon. */
const NAME = '[\\p{L}_][\\p{L}\\p{N}\\p{Mn}\\p{Mc}._\\-\\u00b7\\u203f\\u2040]*';
const QNAME = new RegExp(`^${NAME}(?::${NAME})?$`, 'u');

/** XML 1.0's `Char`: what a character reference may name. */
function isXmlChar(code: number): boolean {
  if (code < 0x20) return code === 0x9 || code === 0xa || code === 0xd;
  return code <= 0xd7ff || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElements(nodes: OrderedNode[], scope: Map<string, string>, depth: number): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@');
    if (tag === undefined || tag === '#text' || tag === '#cdata') continue;
    if (tag.startsWith('?')) {
      if (tag === '?xml') throw new RequestError('MalformedXml', 'Malformed XML: an XML declaration is only allowed at the start');
      throw new RequestError('ForbiddenMarkup', 'Processing instructions are not allowed');
    }
    // The validator lets `<!x>` and names like `a:b:c` or `:a` through, and the parser makes elements of them.
    if (!QNAME.test(tag)) {
      throw new RequestError(
        'MalformedXml',
        tag.startsWith('!') ? 'Malformed XML: <! that begins no comment and no CDATA section' : 'Malformed XML: an element name that is no XML name',
      );
    }
    const raw = node[':@'] ?? {};
    let inner = scope;
    const attrs: Record<string, string> = {};
    for (const key in raw) {
      if (!QNAME.test(key)) throw new RequestError('MalformedXml', 'Malformed XML: an attribute name that is no XML name');
      if (raw[key]!.includes('<')) throw new RequestError('MalformedXml', 'Malformed XML: < in an attribute value');
      const value = decodeText(raw[key]!);
      if (key === 'xmlns' || key.startsWith('xmlns:')) {
        if (key !== 'xmlns' && value === '') throw new RequestError('MalformedXml', 'Malformed XML: a namespace prefix bound to no namespace');
        if (inner === scope) inner = new Map(scope);
        inner.set(key === 'xmlns' ? '' : key.slice(6), value);
      } else {
        attrs[key] = value;
      }
    }
    const colon = tag.indexOf(':');
    const prefix = colon < 0 ? '' : tag.slice(0, colon);
    const ns = inner.get(prefix);
    if (ns === undefined && prefix !== '') {
      throw new RequestError('MalformedXml', `Malformed XML: undeclared namespace prefix ${prefix.slice(0, 32)}`);
    }
    const content = node[tag] as OrderedNode[];
    let text = '';
    for (const child of content) {
      if (typeof child['#text'] === 'string') {
        // `]]>` ends a CDATA section; in plain text it is malformed (XML 1.0 §2.4).
        if (child['#text'].includes(']]>')) throw new RequestError('MalformedXml', 'Malformed XML: ]]> outside a CDATA section');
        text += decodeText(child['#text']);
      } else if (Array.isArray(child['#cdata'])) {
        text += cdataText(child['#cdata'] as OrderedNode[]);
      }
    }
    if (depth >= MAX_DEPTH && content.some((c) => !('#text' in c) && !('#cdata' in c))) {
      throw new RequestError('MalformedXml', `XML nested deeper than ${MAX_DEPTH} levels`);
    }
    elements.push({
      ns: ns ?? '',
      name: colon < 0 ? tag : tag.slice(colon + 1),
      attrs,
      children: toElements(content, inner, depth + 1),
      text,
    });
  }
  return elements;
}

/** CDATA is literal: no entity in it means anything. */
function cdataText(parts: OrderedNode[]): string {
  let text = '';
  for (const part of parts) if (typeof part['#text'] === 'string') text += part['#text'];
  return text;
}

/** The first child of `parent` with this local name, whatever its namespace (clients differ on qualification). */
export function child(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((c) => c.name === name);
}
