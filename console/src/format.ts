/**
 * How times and durations read on the page. Every time shows its date and its zone: UTC unless the operator
 * switches to the browser's local time (remembered in this browser).
 */

export type Zone = 'utc' | 'local';

const ZONE_KEY = 'dualgate.console.zone';
let zone: Zone = readZone();

function readZone(): Zone {
  try {
    return localStorage.getItem(ZONE_KEY) === 'local' ? 'local' : 'utc';
  } catch {
    return 'utc';
  }
}

export function currentZone(): Zone {
  return zone;
}

export function setZone(next: Zone): void {
  zone = next;
  try {
    localStorage.setItem(ZONE_KEY, next);
  } catch {
    // storage off: the choice lasts until the page is reloaded
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The calendar fields of `ms` in the current zone. */
export function fieldsOf(ms: number): { year: number; month: number; day: number; hours: number; minutes: number; seconds: number } {
  const d = new Date(ms);
  return zone === 'utc'
    ? { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hours: d.getUTCHours(), minutes: d.getUTCMinutes(), seconds: d.getUTCSeconds() }
    : { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hours: d.getHours(), minutes: d.getMinutes(), seconds: d.getSeconds() };
}

/** `UTC`, or the local zone's offset at `ms` (`UTC+01:00`; it changes with daylight saving time). */
export function zoneLabel(ms: number = Date.now()): string {
  if (zone === 'utc') return 'UTC';
  const offset = -new Date(ms).getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  return `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** `2026-06-01 14:03:27 UTC` (or `... UTC+02:00` in local time). */
export function when(ms: number): string {
  const f = fieldsOf(ms);
  return `${f.year}-${pad(f.month)}-${pad(f.day)} ${pad(f.hours)}:${pad(f.minutes)}:${pad(f.seconds)} ${zoneLabel(ms)}`;
}

/** `14:03` in the current zone, for the chart's axis. */
export function hhmm(ms: number): string {
  const f = fieldsOf(ms);
  return `${pad(f.hours)}:${pad(f.minutes)}`;
}

/** The value of a `datetime-local` input showing `ms` in the current zone (`2026-06-01T14:03:27`). */
export function toInputValue(ms: number): string {
  const f = fieldsOf(ms);
  return `${f.year}-${pad(f.month)}-${pad(f.day)}T${pad(f.hours)}:${pad(f.minutes)}:${pad(f.seconds)}`;
}

/** The time a `datetime-local` input's value names in the current zone; undefined when empty or invalid. */
export function fromInputValue(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return undefined;
  const [year, month, day, hours, minutes, seconds] = m.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const ms = zone === 'utc' ? Date.UTC(year, month - 1, day, hours, minutes, seconds) : new Date(year, month - 1, day, hours, minutes, seconds).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** `42 s`, `5 min`, `3 h 20 min`, `2 d 4 h`. */
export function duration(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** `5 min ago` / `in 5 min` / `now`. */
export function relative(ms: number, now: number): string {
  const delta = ms - now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta < 0 ? `${duration(delta)} ago` : `in ${duration(delta)}`;
}

/** `1 session`, `3 sessions`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
