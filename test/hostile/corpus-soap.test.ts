import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CORPUS_LIMITS,
  expectAnswer,
  expectStillServing,
  hostileFile,
  HOSTILE,
  loginTemplate,
  NIL_GUID,
  renderXml,
  soapActionFor,
  startHostileServer,
  success,
  victimsAlive,
  xwebFault,
  xwebSoapResult,
  zatoFault,
  ZATO_CHALLENGE,
  type Expected,
  type Hostile,
} from './harness';

/**
 * Every XML item of the corpus (fixtures/hostile/xml, and the generated ones below) to both SOAP endpoints.
 * Each must get the exact fault of that door, quickly, with nothing changed but a failure's audit row, and
 * the endpoint must still serve a normal request afterwards.
 */

type Outcome =
  /** Refused by the http layer before any operation: the same message at both doors. */
  | { refused: 'ForbiddenMarkup' | 'MalformedXml' | 'NotSoap' | 'VersionMismatch' | 'UnsupportedEncoding' | 'BodyTooLarge' | 'EmptyBody' | 'UnreadableBody'; message: string }
  /** Parsed and dispatched to log-in, whose credentials are wrong: `username` is what the server must have read. */
  | { wrongCredentials: string }
  /** Parsed and dispatched to the token check with a token this server never issued. */
  | { unknownToken: true }
  /** Parsed and dispatched to log-in with a field the core refuses. */
  | { badField: 'username'; message: (wireName: string) => string };

const LIMIT = Number(CORPUS_LIMITS.DUALGATE_XML_LIMIT);
const DTD = { refused: 'ForbiddenMarkup', message: 'DOCTYPE and ENTITY declarations are not allowed' } as const;
const PI = { refused: 'ForbiddenMarkup', message: 'Processing instructions are not allowed' } as const;
const NOT_11 = { refused: 'VersionMismatch', message: 'Only SOAP 1.1 envelopes (http://schemas.xmlsoap.org/soap/envelope/) are accepted' } as const;
const XWEB_NOT_11 = `${NOT_11.message} as text/xml; send SOAP 1.2 as application/soap+xml`;
const TOO_LARGE = { refused: 'BodyTooLarge', message: `Request body larger than ${LIMIT} bytes` } as const;

/** What each file of fixtures/hostile/xml must get. A file missing here fails the suite. */
const FILES: Record<string, Outcome> = {
  'xxe-local-file.xml': DTD,
  'xxe-parameter-entity.xml': DTD,
  'external-dtd.xml': DTD,
  'billion-laughs.xml': DTD,
  'quadratic-blowup.xml': DTD,
  'doctype-internal-subset.xml': DTD,
  'cdata-token.xml': { unknownToken: true },
  'cdata-end-in-token.xml': { refused: 'MalformedXml', message: 'Malformed XML: ]]> outside a CDATA section' },
  'two-body-elements.xml': { refused: 'NotSoap', message: 'The SOAP Body must hold exactly one element, not 2' },
  'wrong-envelope-namespace.xml': NOT_11,
  'soap12-envelope.xml': NOT_11,
  'processing-instruction.xml': PI,
  'processing-instruction-in-value.xml': PI,
  'declaration-not-first.xml': { refused: 'MalformedXml', message: 'Malformed XML: an XML declaration is only allowed at the start' },
  // The comment is no part of the value, and what it hides is not read either.
  'comment-in-value.xml': { wrongCredentials: 'ghost-user' },
  'nul-character-reference.xml': { refused: 'MalformedXml', message: 'Malformed XML: bad character reference &#0;' },
  'nul-byte.xml': { refused: 'MalformedXml', message: 'Malformed XML: character U+0000 is not allowed' },
  'crlf-in-username.xml': { wrongCredentials: 'ghost\r\nSet-Cookie: injected=1\r\nWWW-Authenticate: injected' },
  'crlf-in-token.xml': { unknownToken: true },
  'sql-metacharacters.xml': { wrongCredentials: "' OR '1'='1'; DROP TABLE accounts; --" },
  'undefined-entity.xml': { refused: 'MalformedXml', message: 'Malformed XML: undefined entity &xxe;' },
  'declared-latin1.xml': { refused: 'UnsupportedEncoding', message: 'Unsupported encoding: ISO-8859-1; send UTF-8' },
  // UTF-16 with a byte order mark is read (WS-I Basic Profile R1012); the name arrives intact.
  'utf-16le.xml': { wrongCredentials: 'ĝhost-ütf16-€' },
  'utf-16be.xml': { wrongCredentials: 'ĝhost-ütf16-€' },
  'utf-16-without-bom.xml': {
    refused: 'UnsupportedEncoding',
    message: 'UTF-16 without a byte order mark; send UTF-8, or UTF-16 with a byte order mark',
  },
  'invalid-utf8.xml': { refused: 'UnsupportedEncoding', message: 'The request is not valid UTF-8' },
  // Markup the validator lets through and the parser would make an element of.
  'bang-markup-in-value.xml': { refused: 'MalformedXml', message: 'Malformed XML: <! that begins no comment and no CDATA section' },
  'name-with-two-colons.xml': { refused: 'MalformedXml', message: 'Malformed XML: an element name that is no XML name' },
  'prefix-bound-to-nothing.xml': { refused: 'MalformedXml', message: 'Malformed XML: a namespace prefix bound to no namespace' },
};

interface Item {
  name: string;
  body: Buffer;
  headers?: Record<string, string>;
  outcome: Outcome;
}

const deep = (levels: number) => '<a>'.repeat(levels) + '</a>'.repeat(levels);

/** Items too large or too binary to keep as files. */
const GENERATED: Item[] = [
  { name: 'nesting 10,000 deep', body: Buffer.from(loginTemplate(deep(10_000), 'x')), outcome: { refused: 'MalformedXml', message: 'XML nested deeper than 32 levels' } },
  { name: 'nesting 40 deep', body: Buffer.from(loginTemplate(deep(40), 'x')), outcome: { refused: 'MalformedXml', message: 'XML nested deeper than 32 levels' } },
  { name: 'a body over the limit', body: Buffer.from(loginTemplate('a'.repeat(LIMIT), 'x')), outcome: TOO_LARGE },
  {
    name: 'a gzip body that inflates past the limit (4 MiB from 4 KiB)',
    body: gzipSync(Buffer.from(loginTemplate(' '.repeat(4 * 1024 * 1024), 'x'))),
    headers: { 'Content-Encoding': 'gzip' },
    outcome: TOO_LARGE,
  },
  {
    name: 'a body that claims gzip and is not',
    body: Buffer.from(loginTemplate('ghost', 'x')),
    headers: { 'Content-Encoding': 'gzip' },
    outcome: { refused: 'UnreadableBody', message: 'The request body could not be read' },
  },
  {
    name: 'a content encoding nobody can undo',
    body: Buffer.from(loginTemplate('ghost', 'x')),
    headers: { 'Content-Encoding': 'compress' },
    outcome: { refused: 'UnsupportedEncoding', message: 'Unsupported content encoding' },
  },
  {
    name: 'a 100 KB username (within the raised limit)',
    body: Buffer.from(loginTemplate('u'.repeat(100 * 1024), 'x')),
    outcome: { badField: 'username', message: (name) => `Invalid ${name}: longer than 128 characters` },
  },
  { name: 'an empty body', body: Buffer.alloc(0), outcome: { refused: 'EmptyBody', message: 'Empty request body' } },
];

const files = readdirSync(join(HOSTILE, 'xml')).sort();
const ITEMS: Item[] = [
  ...files.map((file) => ({ name: file, body: hostileFile('xml', file), outcome: FILES[file]! })),
  ...GENERATED,
];

const ENDPOINTS = [
  { door: 'zato', path: '/zato/soap' },
  { door: 'xweb', path: '/xweb/secure/netForumXML.asmx' },
] as const;

function expected(door: 'zato' | 'xweb', outcome: Outcome): Expected {
  if ('refused' in outcome) {
    const faultcode = outcome.refused === 'VersionMismatch' ? 'soap:VersionMismatch' : 'soap:Client';
    const status = outcome.refused === 'BodyTooLarge' ? 413 : 500;
    if (door === 'zato') return zatoFault(outcome.message, { faultcode, status });
    // xWeb speaks SOAP 1.2 too, as application/soap+xml; text/xml is SOAP 1.1, and its fault says so.
    const message = outcome.message === NOT_11.message ? XWEB_NOT_11 : outcome.message;
    return xwebFault(message, { faultcode, status });
  }
  if ('wrongCredentials' in outcome) {
    const audit = [{ event: 'login', outcome: 'failed', username: outcome.wrongCredentials, door, detail: 'unknown user' }];
    const wire =
      door === 'zato'
        ? zatoFault('Invalid username or password', { headers: { 'www-authenticate': ZATO_CHALLENGE, 'set-cookie': null } })
        : xwebFault('Invalid Credentials Supplied', { kind: 'InvalidCredentials', at: 'Authenticate' });
    return { ...wire, audit };
  }
  if ('badField' in outcome) {
    return door === 'zato'
      ? zatoFault(outcome.message('username'))
      : xwebFault(outcome.message('userName'), { at: 'Authenticate' });
  }
  // A token never issued: Zato's log-out refuses it, xWeb's WebValidate answers the nil GUID.
  return door === 'zato'
    ? zatoFault('Invalid token')
    : success((answer) => expect(xwebSoapResult(answer)).toEqual({ result: NIL_GUID, headerToken: expect.any(String) }));
}

describe('the XML corpus, to both SOAP endpoints', () => {
  let h: Hostile;
  beforeAll(async () => {
    h = await startHostileServer();
  });
  afterAll(() => h.stop());

  it('has an expected outcome for every file of fixtures/hostile/xml, and a file for every outcome', () => {
    expect(files).toEqual(Object.keys(FILES).sort());
  });

  describe.each(ENDPOINTS)('$path', ({ door, path }) => {
    it.each(ITEMS.map((item) => [item.name, item] as const))('%s', async (_name, item) => {
      const body = renderXml(item.body, door, h.integratorToken);
      const answer = await expectAnswer(
        h,
        { path, headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: soapActionFor(item.body, door), ...item.headers }, body },
        expected(door, item.outcome),
      );
      // Nothing of a local file, nor of an entity's expansion, comes back.
      expect(answer.text).not.toMatch(/root:|lollol|aaaaaaaaaa/);
      await expectStillServing(h, door, 'soap');
    });
  });

  it('leaves the victim sessions alive', async () => {
    expect(await victimsAlive(h)).toEqual([true, true, true]);
  });
});

describe('the XML items too large for the default limit', () => {
  let h: Hostile;
  beforeAll(async () => {
    h = await startHostileServer({ DUALGATE_XML_LIMIT: '65536' });
  });
  afterAll(() => h.stop());

  it.each([
    ['nesting 10,000 deep', loginTemplate(deep(10_000), 'x')],
    ['a 100 KB username', loginTemplate('u'.repeat(100 * 1024), 'x')],
  ])('%s gets 413 at both doors', async (_name, xml) => {
    for (const { door, path } of ENDPOINTS) {
      const body = renderXml(Buffer.from(xml), door, h.integratorToken);
      const message = 'Request body larger than 65536 bytes';
      await expectAnswer(
        h,
        { path, headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: soapActionFor(body, door) }, body },
        door === 'zato' ? zatoFault(message, { status: 413 }) : xwebFault(message, { status: 413 }),
      );
    }
  });
});
