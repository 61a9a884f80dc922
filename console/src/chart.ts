import type { Activity, SeriesName } from './api.js';
import { fill, h, s } from './dom.js';
import { fieldsOf, hhmm, when, zoneLabel } from './format.js';

/** How each series is named on the page, bottom of the stack first. */
const STACK: readonly { name: SeriesName; label: string; one: string; many: string }[] = [
  { name: 'logins', label: 'Log-ins', one: 'log-in', many: 'log-ins' },
  { name: 'logouts', label: 'Log-outs', one: 'log-out', many: 'log-outs' },
  { name: 'revocations', label: 'Ended by operators', one: 'session ended', many: 'sessions ended' },
  { name: 'failures', label: 'Failures', one: 'failure', many: 'failures' },
  { name: 'lockouts', label: 'Lockouts', one: 'lockout', many: 'lockouts' },
];

/** The drawing's width when its box has none yet; otherwise the box's own, so text keeps its size on a phone. */
const DEFAULT_WIDTH = 960;
const MIN_WIDTH = 300;
const HEIGHT = 240;
const LEFT = 36;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 24;
/** More bars than this would be thinner than a pixel or two (and at most one per 3 px): minutes are then grouped. */
const MAX_BARS = 180;
const MIN_BAR_PX = 3;

/**
 * The count scale: a step of 1, 2 or 5 × 10^k, the smallest that reaches `max` in at most five lines, and
 * the top of the scale (at least 4, so a quiet period still has one).
 */
function scaleFor(max: number): { step: number; top: number } {
  if (max <= 4) return { step: 1, top: 4 };
  for (let power = 1; ; power *= 10) {
    for (const step of [power, 2 * power, 5 * power]) {
      const lines = Math.ceil(max / step);
      if (lines <= 5) return { step, top: lines * step };
    }
  }
}

/** Minutes per bar: 1 when the bars fit, else the next of 2, 5, 10, 15, 30, 60 that fits. */
function minutesPerBar(buckets: number, maxBars: number): number {
  return [1, 2, 5, 10, 15, 30, 60].find((m) => Math.ceil(buckets / m) <= maxBars) ?? 60;
}

/** Minutes between time labels: about six labels across. */
function minutesPerLabel(totalMinutes: number, labels: number): number {
  return [10, 15, 30, 60, 120, 180, 240, 360].find((m) => totalMinutes / m <= labels) ?? 360;
}

/** Draws `activity` as stacked bars (an inline SVG, no library) into `target`, and its legend into `legend`. */
export function drawActivity(target: Element, legend: Element, activity: Activity): void {
  const WIDTH = Math.max(MIN_WIDTH, Math.round(target.clientWidth) || DEFAULT_WIDTH);
  const group = minutesPerBar(activity.buckets, Math.min(MAX_BARS, Math.floor((WIDTH - LEFT - RIGHT) / MIN_BAR_PX)));
  const bars = Math.ceil(activity.buckets / group);
  const step = activity.bucketMs * group;
  const sums = (name: SeriesName) => {
    const values = new Array<number>(bars).fill(0);
    activity.series[name].forEach((v, i) => (values[Math.floor(i / group)] += v));
    return values;
  };
  const grouped = new Map(STACK.map(({ name }) => [name, sums(name)]));
  const totals = new Array<number>(bars).fill(0).map((_, i) => STACK.reduce((sum, { name }) => sum + grouped.get(name)![i]!, 0));
  const { step: tick, top } = scaleFor(Math.max(0, ...totals));

  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const barWidth = plotWidth / bars;
  const y = (value: number) => TOP + plotHeight - (value / top) * plotHeight;

  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'activity',
    role: 'img',
    'aria-label': `Log-ins, failures, lockouts and log-outs per ${group === 1 ? 'minute' : `${group} minutes`}`,
  });

  // Horizontal grid and the count scale.
  for (let value = 0; value <= top; value += tick) {
    svg.append(
      s('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: y(value), y2: y(value), class: value === 0 ? 'axis' : 'gridline' }),
      s('text', { x: LEFT - 6, y: y(value) + 4, class: 'tick', 'text-anchor': 'end' }, value),
    );
  }

  // Time labels on whole hours / minutes of the zone the page shows.
  // About one label per 70 px, seven at most.
  const every = minutesPerLabel(activity.buckets, Math.min(7, Math.floor((WIDTH - LEFT - RIGHT) / 70)));
  for (let i = 0; i < activity.buckets; i++) {
    const at = activity.from + i * activity.bucketMs;
    const f = fieldsOf(at);
    if ((f.hours * 60 + f.minutes) % every !== 0) continue;
    const x = LEFT + (i / group) * barWidth;
    svg.append(
      s('line', { x1: x, x2: x, y1: TOP + plotHeight, y2: TOP + plotHeight + 4, class: 'axis' }),
      s('text', { x, y: HEIGHT - 6, class: 'tick', 'text-anchor': 'middle' }, hhmm(at)),
    );
  }

  // The bars: one column per group of minutes, its series stacked, with a tooltip.
  for (let i = 0; i < bars; i++) {
    if (totals[i] === 0) continue;
    const start = activity.from + i * step;
    const parts = STACK.filter(({ name }) => grouped.get(name)![i]! > 0).map(
      ({ name, one, many }) => `${grouped.get(name)![i]} ${grouped.get(name)![i] === 1 ? one : many}`,
    );
    const column = s('g', { class: 'bar' }, s('title', {}, `${when(start)} to ${hhmm(start + step)}: ${parts.join(', ')}`));
    let base = 0;
    for (const { name } of STACK) {
      const value = grouped.get(name)![i]!;
      if (value === 0) continue;
      column.append(
        s('rect', {
          x: LEFT + i * barWidth + barWidth * 0.1,
          width: Math.max(barWidth * 0.8, 1),
          y: y(base + value),
          height: y(base) - y(base + value),
          class: `s-${name}`,
        }),
      );
      base += value;
    }
    svg.append(column);
  }

  if (totals.every((t) => t === 0)) {
    svg.append(s('text', { x: LEFT + plotWidth / 2, y: TOP + plotHeight / 2, class: 'quiet-note', 'text-anchor': 'middle' }, 'No activity in this period'));
  }
  fill(target, svg);

  fill(
    legend,
    h('span', { class: 'per' }, `${group === 1 ? 'per minute' : `per ${group} minutes`}, times in ${zoneLabel(activity.now)}`),
    ...STACK.map(({ name, label }) =>
      h(
        'span',
        { class: 'key', 'data-series': name },
        h('i', { class: `swatch s-${name}` }),
        `${label} `,
        h('b', {}, activity.series[name].reduce((a, b) => a + b, 0)),
      ),
    ),
  );
}
