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

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

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
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
});

/**
 * The guard every SOAP body passes before anything reads it: UTF-8 only, not empty, no DTD markup,
 * well-formed, not nested too deep. Answers the document's root element.
 */
export function parseUntrustedXml(body: Buffer): XmlElement {
  let xml: string;
  try {
    xml = utf8.decode(body);
  } catch {
    throw new RequestError('UnsupportedEncoding', 'The request is not valid UTF-8');
  }
  if (xml.trim().length === 0) throw new RequestError('EmptyBody', 'Empty request body');
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(xml)?.[1];
  if (declared && !/^utf-?8$/i.test(declared)) {
    throw new RequestError('UnsupportedEncoding', `Unsupported encoding: ${declared.slice(0, 32)}; send UTF-8`);
  }
  if (DTD_MARKUP.test(xml)) throw new RequestError('ForbiddenMarkup', 'DOCTYPE and ENTITY declarations are not allowed');
  const verdict = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (verdict !== true) {
    throw new RequestError('MalformedXml', `Malformed XML: ${verdict.err.msg} (line ${verdict.err.line})`);
  }
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(xml) as OrderedNode[];
  } catch (err) {
    // The parser has limits of its own (nesting among them); past one, the document is refused like any other.
    throw new RequestError('MalformedXml', `Malformed XML: ${String((err as Error).message).slice(0, 80)}`);
  }
  const roots = toElements(nodes, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), 0);
  if (roots.length !== 1) throw new RequestError('MalformedXml', 'Malformed XML: expected one root element');
  return roots[0]!;
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Resolves XML's predefined entities and character references; anything else is malformed. */
function decodeText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new RequestError('MalformedXml', 'Malformed XML: a bare & in text');
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (code > 0x10ffff || code === 0) throw new RequestError('MalformedXml', `Malformed XML: bad character reference ${whole.slice(0, 16)}`);
      return String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[ref];
    if (named === undefined) throw new RequestError('MalformedXml', `Malformed XML: undefined entity &${ref.slice(0, 16)};`);
    return named;
  });
}

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElements(nodes: OrderedNode[], scope: Map<string, string>, depth: number): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@');
    if (tag === undefined || tag === '#text' || tag === '#cdata' || tag.startsWith('?')) continue;
    const raw = node[':@'] ?? {};
    let inner = scope;
    const attrs: Record<string, string> = {};
    for (const key in raw) {
      const value = decodeText(raw[key]!);
      if (key === 'xmlns' || key.startsWith('xmlns:')) {
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
      if (typeof child['#text'] === 'string') text += decodeText(child['#text']);
      else if (Array.isArray(child['#cdata'])) text += cdataText(child['#cdata'] as OrderedNode[]);
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
