/**
 * The SOAP reader's cost per envelope, in µs (`BENCH_ONLY=xmlReader`): dualgate's guard and reader
 * (`parseUntrustedXml`, on saxes) beside fast-xml-parser's validator plus parser (what the SOAP doors used
 * before), on the xWeb WebValidate envelope and on a 64 KiB envelope of 15,000 empty elements. Each figure is
 * the best of several rounds, which a busy machine disturbs least.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseUntrustedXml } from '../src/http/soap/guard';

const fxp = new XMLParser({ preserveOrder: true, ignoreAttributes: false, processEntities: false, parseTagValue: false, trimValues: false });

function webValidate(repo: string): Buffer {
  const xml = readFileSync(join(repo, 'fixtures', 'xweb', 'requests', 'WebValidate.xml'), 'utf8');
  return Buffer.from(xml.replace(/\{\{\w+\}\}/g, '2d7cf3a4-1c2b-4e5f-8a9b-0c1d2e3f4a5b'));
}

/** A 64 KiB SOAP envelope of 15,000 empty elements inside a Zato log-in request (as the hostile-envelope scenario). */
export function hostileEnvelope(elements = 15_000, size = 65_000): string {
  const open =
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:zato="https://zato.io/ns/20130518"><soap:Body>' +
    '<zato:zato_security_jwt_log_in_request>';
  const close = '</zato:zato_security_jwt_log_in_request></soap:Body></soap:Envelope>';
  const inner = '<a/>'.repeat(elements);
  return open + inner + ' '.repeat(Math.max(0, size - open.length - inner.length - close.length)) + close;
}

function bestMicros(run: () => void, iterations: number, rounds = 7): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      try {
        run();
      } catch {
        // A refusal is the outcome being timed.
      }
    }
    best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations / 1000);
  }
  return best;
}

export function measureXmlReader(repo: string): string {
  const cases: [string, Buffer, number][] = [
    ['xWeb WebValidate envelope (594 bytes)', webValidate(repo), 20_000],
    ['64 KiB envelope of 15,000 empty elements', Buffer.from(hostileEnvelope()), 40],
  ];
  const lines = ['| envelope | fast-xml-parser validator + parser, µs | dualgate reader on saxes, µs |', '| --- | --- | --- |'];
  for (const [name, body, iterations] of cases) {
    const text = body.toString('utf8');
    const fast = bestMicros(() => {
      if (XMLValidator.validate(text) === true) fxp.parse(text);
    }, iterations);
    const ours = bestMicros(() => parseUntrustedXml(body), iterations);
    lines.push(`| ${name} | ${fast.toFixed(1)} | ${ours.toFixed(1)} |`);
  }
  return lines.join('\n');
}
