const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** What `escapeXml` changes: a character to escape, or one XML 1.0 cannot carry. */
const UNSAFE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** Text or attribute content made safe for XML. Characters XML 1.0 cannot carry are dropped. */
export function escapeXml(value: string): string {
  // Most values (tokens, ids, keys) need nothing: one scan, and no copies.
  if (!UNSAFE.test(value)) return value;
  return value
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** `<name>text</name>`, escaped. */
export function textElement(name: string, value: string): string {
  return `<${name}>${escapeXml(value)}</${name}>`;
}
