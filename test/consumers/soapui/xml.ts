import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * A namespace-aware XML tree over fast-xml-parser's ordered output: what the SoapUI replay reads the project
 * file, the cached WSDLs and every response with, and what the XPath evaluator walks.
 */
export interface XElement {
  kind: 'element';
  /** The resolved namespace URI ('' for none). */
  ns: string;
  local: string;
  /** The name as written, prefix included. */
  qname: string;
  attrs: XAttribute[];
  children: XChild[];
  parent: XElement | XDocument;
  /** Document order, for sorting node sets. */
  order: number;
}

export interface XAttribute {
  kind: 'attribute';
  ns: string;
  local: string;
  qname: string;
  value: string;
  parent: XElement;
  order: number;
}

export interface XText {
  kind: 'text';
  value: string;
  parent: XElement;
  order: number;
}

export interface XDocument {
  kind: 'document';
  children: XElement[];
  order: number;
}

export type XChild = XElement | XText;
export type XNode = XDocument | XElement | XAttribute | XText;

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

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
  cdataPropName: '#cdata',
});

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

/** Parses a whole document; throws with the parser's reason when it is not well-formed. */
export function parseXml(xml: string): XDocument {
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) throw new Error(`not well-formed XML: ${verdict.err.msg} (line ${verdict.err.line})`);
  const doc: XDocument = { kind: 'document', children: [], order: 0 };
  let order = 1;
  const build = (nodes: Ordered[], parent: XElement | XDocument, scope: Map<string, string>): XChild[] => {
    const out: XChild[] = [];
    for (const node of nodes) {
      const tag = Object.keys(node).find((k) => k !== ':@');
      if (tag === undefined || tag.startsWith('?')) continue;
      if (tag === '#text' || tag === '#cdata') {
        if (parent.kind === 'document') continue;
        const value = tag === '#text' ? String(node[tag]) : cdataText(node[tag] as Ordered[]);
        const last = out[out.length - 1];
        // Text and CDATA side by side are one text node, as the XPath data model has it.
        if (last?.kind === 'text') last.value += value;
        else out.push({ kind: 'text', value, parent, order: order++ });
        continue;
      }
      const raw = node[':@'] ?? {};
      let inner = scope;
      for (const [name, value] of Object.entries(raw)) {
        if (name === 'xmlns' || name.startsWith('xmlns:')) {
          if (inner === scope) inner = new Map(scope);
          inner.set(name === 'xmlns' ? '' : name.slice(6), value);
        }
      }
      const [prefix, local] = split(tag);
      const ns = inner.get(prefix);
      if (ns === undefined) throw new Error(`undeclared namespace prefix "${prefix}" on <${tag}>`);
      const element: XElement = { kind: 'element', ns, local, qname: tag, attrs: [], children: [], parent, order: order++ };
      for (const [name, value] of Object.entries(raw)) {
        if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
        const [attrPrefix, attrLocal] = split(name);
        // An unprefixed attribute is in no namespace, whatever the default namespace.
        const attrNs = attrPrefix === '' ? '' : inner.get(attrPrefix);
        if (attrNs === undefined) throw new Error(`undeclared namespace prefix "${attrPrefix}" on attribute ${name}`);
        element.attrs.push({ kind: 'attribute', ns: attrNs, local: attrLocal, qname: name, value, parent: element, order: order++ });
      }
      element.children = build(node[tag] as Ordered[], element, inner);
      out.push(element);
    }
    return out;
  };
  doc.children = build(parser.parse(xml) as Ordered[], doc, new Map([['', ''], ['xml', XML_NS]])).filter(isElement);
  if (doc.children.length !== 1) throw new Error(`expected one root element, found ${doc.children.length}`);
  return doc;
}

function cdataText(parts: Ordered[]): string {
  return parts.map((p) => (typeof p['#text'] === 'string' ? p['#text'] : '')).join('');
}

function split(name: string): [string, string] {
  const colon = name.indexOf(':');
  return colon < 0 ? ['', name] : [name.slice(0, colon), name.slice(colon + 1)];
}

export function isElement(node: XNode | undefined): node is XElement {
  return node?.kind === 'element';
}

/** The XPath string value: an element's (or the document's) descendant text, an attribute's or a text node's value. */
export function stringValue(node: XNode): string {
  if (node.kind === 'attribute' || node.kind === 'text') return node.value;
  return node.children.map((c) => stringValue(c)).join('');
}

export function rootOf(doc: XDocument): XElement {
  return doc.children[0]!;
}

/** Child elements in `ns` named `local`. */
export function childrenNamed(parent: XElement, ns: string, local: string): XElement[] {
  return parent.children.filter((c): c is XElement => c.kind === 'element' && c.ns === ns && c.local === local);
}

export function childNamed(parent: XElement, ns: string, local: string): XElement | undefined {
  return childrenNamed(parent, ns, local)[0];
}

export function attr(element: XElement, local: string): string | undefined {
  return element.attrs.find((a) => a.ns === '' && a.local === local)?.value;
}
