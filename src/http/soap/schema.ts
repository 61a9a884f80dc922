import { readFileSync } from 'node:fs';
import { RequestError } from '../request-errors';
import { attribute, parseUntrustedXml, type XmlElement } from './guard';

const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';

/** One element of a sequence, as the schema declares it. */
export interface FieldRule {
  name: string;
  minOccurs: number;
  maxOccurs: number;
  /** A simple type (`xsd:string`, `xsd:int`...): text only, no element inside. */
  simple: boolean;
  nillable: boolean;
}

/** A global element of a complex type: the namespace its fields are in, and each field by local name. */
export interface ElementRule {
  name: string;
  /** The fields' namespace: the target namespace under `elementFormDefault="qualified"`, else none. */
  fieldNs: string;
  fields: ReadonlyMap<string, FieldRule>;
}

/**
 * The reading rules of a WSDL's schema: each global element with its sequence of fields. The doors read
 * requests by these rules, so what the WSDL tells a client and what the door accepts are written once.
 */
export function schemaRules(wsdlFile: string): ReadonlyMap<string, ElementRule> {
  // Our own file, but read by the same reader: a WSDL is larger than any request, so with wider limits.
  const definitions = parseUntrustedXml(readFileSync(wsdlFile), { depth: 32, elements: 100_000, attributes: 100_000 });
  const rules = new Map<string, ElementRule>();
  for (const types of definitions.children.filter((c) => c.ns === WSDL_NS && c.name === 'types')) {
    for (const schema of types.children.filter((c) => c.ns === XSD_NS && c.name === 'schema')) {
      const target = schema.attrs.targetNamespace ?? '';
      const fieldNs = schema.attrs.elementFormDefault === 'qualified' ? target : '';
      // Type names are QNames, resolved by the declarations in scope at the schema element.
      const prefixes = { ...definitions.declared, ...types.declared, ...schema.declared };
      const named = new Map<string, XmlElement>();
      for (const type of xsd(schema, 'complexType')) if (type.attrs.name) named.set(type.attrs.name, type);
      const fieldsOf = (type: XmlElement) => sequenceOf(type, prefixes);
      for (const element of xsd(schema, 'element')) {
        const name = element.attrs.name;
        if (!name) continue;
        const type = xsd(element, 'complexType')[0] ?? (element.attrs.type ? named.get(localPart(element.attrs.type)) : undefined);
        if (!type) continue;
        rules.set(name, { name, fieldNs, fields: fieldsOf(type) });
      }
    }
  }
  return rules;
}

function sequenceOf(type: XmlElement, prefixes: Record<string, string>): Map<string, FieldRule> {
  const fields = new Map<string, FieldRule>();
  for (const sequence of xsd(type, 'sequence')) {
    for (const field of xsd(sequence, 'element')) {
      const name = field.attrs.name ?? (field.attrs.ref ? localPart(field.attrs.ref) : undefined);
      if (!name) continue;
      const max = field.attrs.maxOccurs ?? '1';
      fields.set(name, {
        name,
        minOccurs: Number(field.attrs.minOccurs ?? '1'),
        maxOccurs: max === 'unbounded' ? Infinity : Number(max),
        simple: field.attrs.type !== undefined ? isXsdType(field.attrs.type, prefixes) : xsd(field, 'simpleType').length > 0,
        nillable: field.attrs.nillable === 'true',
      });
    }
  }
  return fields;
}

function xsd(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c) => c.ns === XSD_NS && c.name === name);
}

function localPart(qname: string): string {
  return qname.slice(qname.indexOf(':') + 1);
}

/** Whether a `type="s:string"` names one of XML Schema's own (simple) types. */
function isXsdType(qname: string, prefixes: Record<string, string>): boolean {
  const prefix = qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '';
  return prefixes[prefix] === XSD_NS;
}

const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/**
 * The fields of `element` by the rule, strictly: a field is matched by namespace and local name, and an element
 * of another namespace or of no declared field is ignored (as ASMX's serializer ignores unknown elements).
 * What two readers could read differently is refused, naming it: a field given more often than its
 * `maxOccurs`, an element inside a simple value. Answers each field's element (the first of several allowed).
 */
export function readFields(element: XmlElement, rule: ElementRule): Map<string, XmlElement> {
  const found = new Map<string, XmlElement>();
  const counts = new Map<string, number>();
  for (const part of element.children) {
    if (part.ns !== rule.fieldNs) continue;
    const field = rule.fields.get(part.name);
    if (!field) continue;
    const count = (counts.get(field.name) ?? 0) + 1;
    counts.set(field.name, count);
    if (count > field.maxOccurs) {
      throw new RequestError(
        'Ambiguous',
        `Element ${field.name} is given more than ${field.maxOccurs === 1 ? 'once' : `${field.maxOccurs} times`} in ${rule.name}`,
      );
    }
    if (field.simple && part.children.length > 0) {
      throw new RequestError('Ambiguous', `Element ${field.name} must hold text only, not the element ${part.children[0]!.name}`);
    }
    if (count === 1) found.set(field.name, part);
  }
  return found;
}

/** Whether the element says `xsi:nil="true"`: no value, which is not an empty one. */
export function isNil(element: XmlElement): boolean {
  const nil = attribute(element, XSI_NS, 'nil')?.trim();
  return nil === 'true' || nil === '1';
}
