import { stringValue, type XChild, type XDocument, type XElement, type XNode } from './xml';

/**
 * The part of XPath (as SoapUI writes it, with XQuery-style `declare namespace p='uri';` lines in front) that
 * the replay needs, and nothing else: anything outside it throws, so a project using more fails loudly.
 *
 *   expr  := prolog ( path | 'count(' path ')' )
 *   path  := ('/' | '//')? step (('/' | '//') step)*
 *   step  := ( name | '@' name | 'text()' | '.' ) ( '[' digits ']' )*
 *   name  := '*' | prefix ':' '*' | '*' ':' local | prefix ':' local | local
 *
 * An unprefixed name is in no namespace (XPath 1.0), so namespaced elements need a declared prefix.
 */
export type XPathResult = { kind: 'nodes'; nodes: XNode[] } | { kind: 'number'; value: number };

/** A project uses something the replay does not implement: the run must fail, not skip it. */
export class Unsupported extends Error {}

interface NameTest {
  ns: string | '*';
  local: string | '*';
}

type Step =
  | { axis: 'child' | 'descendant'; test: 'element'; name: NameTest; positions: number[] }
  | { axis: 'child' | 'descendant'; test: 'attribute'; name: NameTest; positions: number[] }
  | { axis: 'child' | 'descendant'; test: 'text'; positions: number[] }
  | { axis: 'self'; test: 'self'; positions: number[] };

interface Compiled {
  fn?: 'count';
  absolute: boolean;
  steps: Step[];
}

const PROLOG = /^\s*declare\s+namespace\s+([A-Za-z_][\w.-]*)\s*=\s*(?:'([^']*)'|"([^"]*)")\s*;/;

/** Splits SoapUI's `declare namespace` lines off the expression. */
export function readProlog(source: string): { namespaces: Map<string, string>; expression: string } {
  const namespaces = new Map<string, string>();
  let rest = source;
  for (let m = PROLOG.exec(rest); m; m = PROLOG.exec(rest)) {
    namespaces.set(m[1]!, m[2] ?? m[3]!);
    rest = rest.slice(m[0].length);
  }
  return { namespaces, expression: rest.trim() };
}

function compile(source: string): Compiled {
  const { namespaces, expression } = readProlog(source);
  let expr = expression;
  let fn: Compiled['fn'];
  const call = /^([a-z-]+)\s*\(([\s\S]*)\)$/.exec(expr);
  if (call && call[1] !== 'text') {
    if (call[1] !== 'count') throw new Unsupported(`unsupported XPath function ${call[1]}() in ${source}`);
    fn = 'count';
    expr = call[2]!.trim();
  }
  if (expr === '') throw new Unsupported(`empty XPath expression: ${source}`);
  const absolute = expr.startsWith('/');
  const steps: Step[] = [];
  const token = /(\/\/|\/)?([^/[\]]+)((?:\[\s*\d+\s*\])*)/y;
  let at = 0;
  while (at < expr.length) {
    token.lastIndex = at;
    const m = token.exec(expr);
    if (!m || m[0] === '') throw new Unsupported(`unsupported XPath syntax at "${expr.slice(at)}" in ${source}`);
    if (at > 0 && m[1] === undefined) throw new Unsupported(`unsupported XPath syntax at "${expr.slice(at)}" in ${source}`);
    at += m[0].length;
    const axis = m[1] === '//' ? 'descendant' : 'child';
    const positions = [...m[3]!.matchAll(/\[\s*(\d+)\s*\]/g)].map((p) => Number(p[1]));
    if (positions.some((p) => p < 1)) throw new Unsupported(`XPath positions start at 1: ${source}`);
    const text = m[2]!.trim();
    if (text === '.') steps.push({ axis: 'self', test: 'self', positions });
    else if (text === 'text()') steps.push({ axis, test: 'text', positions });
    else if (text.startsWith('@')) steps.push({ axis, test: 'attribute', name: nameTest(text.slice(1), namespaces, source), positions });
    else steps.push({ axis, test: 'element', name: nameTest(text, namespaces, source), positions });
  }
  return { fn, absolute, steps };
}

const NCNAME = /^[A-Za-z_][\w.-]*$/;

function nameTest(text: string, namespaces: Map<string, string>, source: string): NameTest {
  if (text === '*') return { ns: '*', local: '*' };
  const colon = text.indexOf(':');
  const prefix = colon < 0 ? undefined : text.slice(0, colon);
  const local = colon < 0 ? text : text.slice(colon + 1);
  if (local !== '*' && !NCNAME.test(local)) throw new Unsupported(`unsupported XPath step "${text}" in ${source}`);
  if (prefix === undefined) return { ns: '', local };
  if (prefix === '*') return { ns: '*', local };
  const ns = namespaces.get(prefix);
  if (ns === undefined) throw new Unsupported(`undeclared XPath prefix "${prefix}" in ${source}`);
  return { ns, local };
}

function matches(name: NameTest, node: { ns: string; local: string }): boolean {
  return (name.ns === '*' || name.ns === node.ns) && (name.local === '*' || name.local === node.local);
}

/** Every node below `node` and `node` itself, in document order. */
function descendantsOrSelf(node: XNode): XNode[] {
  const out: XNode[] = [node];
  if (node.kind === 'document' || node.kind === 'element') {
    for (const c of node.children as XChild[]) out.push(...descendantsOrSelf(c));
  }
  return out;
}

function candidates(context: XNode, step: Exclude<Step, { axis: 'self' }>): XNode[] {
  if (context.kind === 'attribute' || context.kind === 'text') return [];
  if (step.test === 'attribute') return context.kind === 'element' ? context.attrs.filter((a) => matches(step.name, a)) : [];
  const kids = context.children as XChild[];
  if (step.test === 'text') return kids.filter((c) => c.kind === 'text');
  return kids.filter((c): c is XElement => c.kind === 'element' && matches(step.name, c));
}

function pick(nodes: XNode[], positions: number[]): XNode[] {
  let out = nodes;
  for (const p of positions) out = out[p - 1] === undefined ? [] : [out[p - 1]!];
  return out;
}

/** Evaluates `source` against a document; a relative path starts at the document node, as in SoapUI. */
export function evaluate(source: string, doc: XDocument): XPathResult {
  const { fn, steps } = compile(source);
  let context: XNode[] = [doc];
  for (const step of steps) {
    const next: XNode[] = [];
    for (const node of context) {
      if (step.axis === 'self') {
        next.push(...pick([node], step.positions));
        continue;
      }
      // `//x` is descendant-or-self::node()/child::x: positions count among each parent's matching children.
      const parents = step.axis === 'descendant' ? descendantsOrSelf(node) : [node];
      for (const parent of parents) next.push(...pick(candidates(parent, step), step.positions));
    }
    context = [...new Set(next)].sort((a, b) => a.order - b.order);
  }
  if (fn === 'count') return { kind: 'number', value: context.length };
  return { kind: 'nodes', nodes: context };
}

/** The string SoapUI compares or transfers: a number as digits, else the first node's text (undefined: no node). */
export function firstValue(result: XPathResult): string | undefined {
  if (result.kind === 'number') return String(result.value);
  const node = result.nodes[0];
  if (node === undefined) return undefined;
  if (node.kind === 'element' && node.children.some((c) => c.kind === 'element')) {
    throw new Unsupported(`<${node.qname}> has child elements; only simple content, text() or attributes are compared`);
  }
  return stringValue(node);
}
