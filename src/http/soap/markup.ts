const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text or attribute content made safe for XML. Characters XML 1.0 cannot carry are dropped. */
export function escapeXml(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** `<name>text</name>`, escaped. */
export function textElement(name: string, value: string): string {
  return `<${name}>${escapeXml(value)}</${name}>`;
}
