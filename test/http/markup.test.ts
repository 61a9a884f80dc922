import { escapeXml, textElement } from '../../src/http/soap/markup';

describe('XML markup', () => {
  it('escapes the five markup characters and drops what XML 1.0 cannot carry', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(escapeXml('x\u0000y\u0008z\u000b\u000c\u001f\ufffe\uffff!')).toBe('xyz!');
    expect(escapeXml('tab\tline\nreturn\r')).toBe('tab\tline\nreturn\r');
    expect(textElement('wsa:To', 'a&b')).toBe('<wsa:To>a&amp;b</wsa:To>');
  });

  it('answers a value with nothing to escape as it is', () => {
    for (const clean of ['', 'ZATO_OK', '2b0e4d3c-1f6a-4c8e-9a1b-0d2e3f4a5b6c', 'naïve ✓ 名前']) expect(escapeXml(clean)).toBe(clean);
  });
});
