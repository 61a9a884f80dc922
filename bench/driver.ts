/**
 * The load generator: autocannon in a process of its own (forked by `bench/run.ts`), so its work is
 * counted as load-generator time, not as the bench's bookkeeping. It takes one job over IPC, answers one
 * result and exits. Each request takes the next value from the job's list (a token, a user name) in order,
 * so no two requests share one.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

export interface LoadJob {
  url: string;
  method: 'GET' | 'POST';
  /**
   * Header values and the body may hold `{{0}}`, `{{1}}`...: replaced per request by the fields (tab-separated)
   * of the next line of `valuesFile`.
   */
  headers: Record<string, string>;
  body?: string;
  /** One request's values per line; absent: every request is sent as it is. */
  valuesFile?: string;
  /** Start with this value (the first ones may have gone to a warm-up). */
  firstValue?: number;
  connections: number;
  seconds: number;
  /** Stop after this many responses (defaults to the values there are). */
  maxRequests?: number;
  /** Offered load in requests a second over all connections; absent: as fast as answers come. */
  rate?: number;
}

export interface LoadResult {
  responses: number;
  seconds: number;
  rps: number;
  /** Milliseconds, from every response's own time (not autocannon's whole-ms histogram). */
  p50: number;
  p99: number;
  /** Socket errors and timeouts. */
  errors: number;
  non2xx: number;
  /** Values handed to requests (a request in flight when the run stopped may not have been answered). */
  handedOut: number;
  /** A value was needed after the list ran out: that request reused one. */
  exhausted: boolean;
  statusCodes: Record<string, number>;
}

const PLACEHOLDER = /\{\{(\d)\}\}/;

/** A template cut at its placeholders: literal, field index, literal, field index... */
type Template = (string | number)[];

function compile(text: string): Template {
  return text.split(PLACEHOLDER).map((part, i) => (i % 2 === 1 ? Number(part) : part));
}

function fill(template: Template, fields: readonly string[]): string {
  let out = '';
  for (const part of template) out += typeof part === 'number' ? (fields[part] ?? '') : part;
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at]!;
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const values = job.valuesFile ? readFileSync(job.valuesFile, 'utf8').split('\n').filter(Boolean) : [];
  let next = job.firstValue ?? 0;
  let exhausted = false;
  const take = (): string[] => {
    if (next >= values.length) {
      exhausted = true;
      return (values[values.length - 1] ?? '').split('\t');
    }
    return values[next++]!.split('\t');
  };
  const dynamicHeaders = Object.entries(job.headers)
    .filter(([, v]) => PLACEHOLDER.test(v))
    .map(([name, v]) => [name, compile(v)] as const);
  const body = job.body === undefined ? undefined : compile(job.body);
  const dynamic = job.valuesFile !== undefined && (dynamicHeaders.length > 0 || (body?.length ?? 0) > 1);
  const maxRequests = job.maxRequests ?? (job.valuesFile ? values.length - (job.firstValue ?? 0) : undefined);

  const latencies = new Float64Array(Math.max(1_000_000, (maxRequests ?? 0) + 1000));
  let count = 0;
  const started = process.hrtime.bigint();
  const options = {
    url: job.url,
    method: job.method,
    headers: job.headers,
    body: dynamic ? undefined : job.body,
    connections: job.connections,
    duration: job.seconds,
    maxOverallRequests: maxRequests,
    overallRate: job.rate,
    timeout: 30,
    requests: dynamic
      ? [
          {
            setupRequest: (req: Record<string, unknown>) => {
              const fields = take();
              const headers = { ...job.headers };
              for (const [name, template] of dynamicHeaders) headers[name] = fill(template, fields);
              return { ...req, headers, body: body ? fill(body, fields) : undefined };
            },
          },
        ]
      : undefined,
  } as autocannon.Options;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      if (count < latencies.length) latencies[count++] = ms;
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = latencies.subarray(0, count).sort();
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat?.count ?? 0;
  const responses = result.requests.total;
  return {
    responses,
    seconds,
    rps: responses / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    handedOut: next - (job.firstValue ?? 0),
    exhausted,
    statusCodes,
  };
}

if (require.main === module) {
  process.once('message', (job: LoadJob) => {
    runLoad(job).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (err: unknown) => process.send!({ error: String((err as Error)?.stack ?? err) }, () => process.exit(1)),
    );
  });
}
