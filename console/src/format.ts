/** How times and durations read on the page: local time, and how long ago or ahead. */

const pad = (n: number) => String(n).padStart(2, '0');

/** `14:03:27` for today, `2026-06-01 14:03` for another day. */
export function when(ms: number, now: number): string {
  const d = new Date(ms);
  const today = new Date(now);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === today.toDateString()) return `${time}:${pad(d.getSeconds())}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** The full local date and time, for tooltips. */
export function full(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
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
