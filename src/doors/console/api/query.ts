import { BadInput } from '../../../core';

/**
 * The query string's fields as the request carries them: a name given once is text, given twice a list
 * (which every reader here refuses).
 */
export type Query = Readonly<Record<string, unknown>>;

/** The latest time JavaScript can represent, so every accepted bound is a real date. */
const MAX_TIME = 8.64e15;

/** A query parameter given once, as text of at most `max` characters; undefined when absent or empty. */
export function queryText(query: Query, name: string, max = 128): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw new BadInput(name, 'invalid', `Invalid ${name}: expected text of at most ${max} characters`);
  }
  return value;
}

/** A whole-number query parameter from `min` to `max`, `fallback` when absent. */
export function queryWhole(query: Query, name: string, min: number, max: number, fallback: number): number {
  const text = queryText(query, name, 6);
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new BadInput(name, 'invalid', `Invalid ${name}: expected a whole number from ${min} to ${max}`);
  return n;
}

/**
 * A time query parameter: epoch milliseconds, or an ISO 8601 date and time with its zone (`Z` or `+01:00`);
 * undefined when absent.
 */
export function queryTime(query: Query, name: string): number | undefined {
  const text = queryText(query, name, 40);
  if (text === undefined) return undefined;
  const ms = /^\d{1,16}$/.test(text) ? Number(text) : /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) && /^\d{4}-/.test(text) ? Date.parse(text) : NaN;
  if (!(ms >= 0 && ms <= MAX_TIME)) {
    throw new BadInput(name, 'invalid', `Invalid ${name}: expected epoch milliseconds or an ISO 8601 time with its zone`);
  }
  return ms;
}

/** A row id query parameter (a page's cursor): a whole number from 1; undefined when absent. */
export function queryId(query: Query, name: string): number | undefined {
  const text = queryText(query, name, 16);
  if (text === undefined) return undefined;
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw new BadInput(name, 'invalid', `Invalid ${name}: expected a whole number from 1`);
  return n;
}

/** The account id of the path (`/accounts/:id/...`): a whole number from 1. */
export function accountIdOf(param: unknown): number {
  const raw = String(param);
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new BadInput('id', 'invalid', 'Invalid id: expected a whole number from 1');
  return n;
}
