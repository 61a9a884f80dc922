import { canonicalUsername, usernameKey } from '../../src/precis';

/** RFC 8265 UsernameCaseMapped: width-mapped, case-mapped, NFC; what the profile disallows is refused. */
describe('usernames compared as RFC 8265 compares them', () => {
  it.each([
    ['ａｄｍｉｎ (full width)', '\uff41\uff44\uff4d\uff49\uff4e', 'admin'],
    ['Admin', 'Admin', 'admin'],
    ['ADMIN', 'ADMIN', 'admin'],
    ['josé as NFD', 'jose\u0301', 'jos\u00e9'],
    ['josé as NFC', 'jos\u00e9', 'jos\u00e9'],
    ['halfwidth katakana', '\uff8a\uff9d', '\u30cf\u30f3'],
    ['ASCII punctuation', "o'neil.smith@example", "o'neil.smith@example"],
    ['Hebrew', '\u05e9\u05dc\u05d5\u05dd', '\u05e9\u05dc\u05d5\u05dd'],
    ['ß stays ß', 'Straße', 'straße'],
  ])('maps %s to its key', (_what, input, key) => {
    expect(canonicalUsername(input)).toEqual({ ok: true, key });
  });

  it.each([
    ['a space', 'ad min', 'space'],
    ['an ideographic space', 'ad\u3000min', 'space'],
    ['a no-break space', 'ad\u00a0min', 'space'],
    ['a NUL', 'ad\u0000min', 'control'],
    ['CR/LF', 'ad\r\nmin', 'control'],
    ['a zero-width space', 'admin\u200b', 'format'],
    ['a zero-width joiner', 'ad\u200dmin', 'format'],
    ['a bidi override', '\u202eadmin', 'format'],
    ['a soft hyphen', 'ad\u00admin', 'format'],
    ['a ligature (compatibility character)', '\ufb01le', 'disallowed'],
    ['a superscript', 'admin\u00b2', 'disallowed'],
    ['a symbol outside ASCII', 'admin\u2603', 'disallowed'],
    ['Hebrew then Latin', '\u05e9\u05dc\u05d5\u05ddadmin', 'bidi'],
    ['the empty string', '', 'empty'],
  ])('refuses %s', (_what, input, problem) => {
    expect(canonicalUsername(input)).toEqual({ ok: false, problem });
  });

  it('looks a refused name up by its mapped form only', () => {
    expect(usernameKey('ADMIN\u200b')).toBe('admin\u200b');
    expect(usernameKey('Admin')).toBe('admin');
  });
});
