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

/** Deeper than any SOAP request dualgate accepts; stops deep-nesting attacks before any recursion. */
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
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
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
  if (exceedsDepth(xml, MAX_DEPTH)) throw new RequestError('MalformedXml', `XML nested deeper than ${MAX_DEPTH} levels`);
  const verdict = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (verdict !== true) {
    throw new RequestError('MalformedXml', `Malformed XML: ${verdict.err.msg} (line ${verdict.err.line})`);
  }
  const roots = toElements(parser.parse(xml) as OrderedNode[], new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), 0);
  if (roots.length !== 1) throw new RequestError('MalformedXml', 'Malformed XML: expected one root element');
  return roots[0]!;
}

/** Counts open tags minus close tags without building anything; CDATA, comments and PIs are skipped. */
function exceedsDepth(xml: string, max: number): boolean {
  let depth = 0;
  const tags = /<(\/?)([A-Za-z_][^\s/>]*)[^>]*?(\/?)>|<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
  for (let m = tags.exec(xml); m; m = tags.exec(xml)) {
    if (m[2] === undefined) continue;
    if (m[1] === '/') depth--;
    else if (m[3] !== '/' && ++depth > max) return true;
  }
  return false;
}

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElements(nodes: OrderedNode[], scope: Map<string, string>, depth: number): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@');
    if (tag === undefined || tag === '#text' || tag === '#comment' || tag.startsWith('?')) continue;
    const raw = node[':@'] ?? {};
    let inner = scope;
    const attrs: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
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
    for (const child of content) if (typeof child['#text'] === 'string') text += child['#text'];
    elements.push({
      ns: ns ?? '',
      name: colon < 0 ? tag : tag.slice(colon + 1),
      attrs,
      children: depth < MAX_DEPTH ? toElements(content, inner, depth + 1) : [],
      text,
    });
  }
  return elements;
}

/** The first child of `parent` with this local name, whatever its namespace (clients differ on qualification). */
export function child(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((c) => c.name === name);
}
