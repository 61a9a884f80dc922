/**
 * Usernames as RFC 8265's UsernameCaseMapped profile compares them (PRECIS, RFC 8264's IdentifierClass).
 * No maintained npm package implements PRECIS (the registry has only SASLprep, RFC 4013, which RFC 8265
 * replaced and which maps no case), so the profile's rules are written here with the runtime's own Unicode
 * data: `String.prototype.normalize`, `toLowerCase` and property escapes. A leaf module: the core checks
 * names with it, the store's migration keys existing rows with it.
 */

/** Why a name is refused, in words for the error message. */
export type UsernameProblem = 'empty' | 'space' | 'control' | 'format' | 'disallowed' | 'bidi';

export type Canonical = { ok: true; key: string } | { ok: false; problem: UsernameProblem };

/** Halfwidth and Fullwidth Forms (U+FF00–U+FFEF) and the ideographic space: the profile's width mapping. */
const WIDE_OR_NARROW = /[\u3000\uff00-\uffef]/gu;

// IdentifierClass, RFC 8264 §9: letters and digits (LetterDigits) and printable ASCII are valid; spaces,
// controls, other symbols and punctuation, compatibility characters, ignorables and unassigned are not.
const ASCII7 = /^[\x21-\x7e]$/u;
const LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const SPACE = /^[\p{Zs}\p{Zl}\p{Zp}]$/u;
const CONTROL = /^\p{Cc}$/u;
/** Zero-width, joiners, bidi overrides and isolates, and every other default-ignorable or format character. */
const FORMAT = /^[\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
/** Old Hangul Jamo (RFC 8264 §9.8): conjoining jamo, which compose differently across normalizations. */
const OLD_HANGUL_JAMO = /^[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]$/u;
/** RFC 5892 §2.6's exceptions that are DISALLOWED even though they are letters or marks. */
const EXCEPTION_DISALLOWED = new Set([0x0640, 0x07fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b]);

// The Bidi Rule (RFC 5893) approximated by script, since JavaScript's regular expressions have no Bidi_Class:
// right-to-left letters are those of the right-to-left scripts.
const RTL = /^[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Yezidi}]$/u;
const LETTER = /^\p{L}$/u;
const MARK_OR_DIGIT = /^[\p{M}\p{Nd}]$/u;

function widthMapped(value: string): string {
  return value.replace(WIDE_OR_NARROW, (c) => c.normalize('NFKC'));
}

/** What is wrong with one code point of an enforced string; undefined when it is valid. */
function problemOf(c: string): UsernameProblem | undefined {
  if (ASCII7.test(c)) return undefined;
  if (SPACE.test(c) || c === ' ') return 'space';
  if (CONTROL.test(c)) return 'control';
  if (FORMAT.test(c)) return 'format';
  if (!LETTER_DIGITS.test(c)) return 'disallowed';
  if (OLD_HANGUL_JAMO.test(c) || EXCEPTION_DISALLOWED.has(c.codePointAt(0)!)) return 'disallowed';
  // HasCompat (RFC 8264 §9.17): a character with a compatibility decomposition (ligatures, superscripts...).
  if (c.normalize('NFKC') !== c) return 'disallowed';
  return undefined;
}

/** A right-to-left name must start and end with a right-to-left letter (digits and marks may end it) and hold no left-to-right letter. */
function bidiOk(chars: string[]): boolean {
  if (!chars.some((c) => RTL.test(c))) return true;
  if (!RTL.test(chars[0]!)) return false;
  if (chars.some((c) => LETTER.test(c) && !RTL.test(c))) return false;
  const last = chars[chars.length - 1]!;
  return RTL.test(last) || MARK_OR_DIGIT.test(last);
}

/**
 * Enforces UsernameCaseMapped: width mapping, case mapping (`toLowerCase`), NFC, then the IdentifierClass
 * and the directionality rule. Two names that give the same key are the same name.
 */
export function canonicalUsername(value: string): Canonical {
  const key = widthMapped(value).toLowerCase().normalize('NFC');
  if (key.length === 0) return { ok: false, problem: 'empty' };
  const chars = [...key];
  for (const c of chars) {
    const problem = problemOf(c);
    if (problem) return { ok: false, problem };
  }
  if (!bidiOk(chars)) return { ok: false, problem: 'bidi' };
  return { ok: true, key };
}

/**
 * The key of a name the profile refuses: mapped the same way, without the refusal. Accounts created before
 * the profile keep logging in by it, and a log-in with such a name finds nothing else.
 */
export function mappedUsername(value: string): string {
  return widthMapped(value).toLowerCase().normalize('NFC');
}

/** The key to look a name up by: the profile's, or for a name it refuses the mapped form. */
export function usernameKey(value: string): string {
  const canonical = canonicalUsername(value);
  return canonical.ok ? canonical.key : mappedUsername(value);
}

export const USERNAME_PROBLEMS: Record<UsernameProblem, string> = {
  empty: 'empty',
  space: 'spaces are not allowed',
  control: 'control characters are not allowed',
  format: 'invisible formatting characters (zero-width, joiners, bidi controls) are not allowed',
  disallowed: 'a character RFC 8265 usernames do not allow',
  bidi: 'right-to-left text must start with a right-to-left letter and hold no left-to-right letter',
};
