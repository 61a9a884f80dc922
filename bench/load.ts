import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Non-2xx answers: an error for every scenario here. */
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fixed body, or one per request (so no request reuses a token). */
  body?: string | (() => string);
  connections?: number;
  seconds?: number;
  /** Stop after this many requests (with `body` a generator, no more than there are bodies). */
  amount?: number;
}

/** Drives load with autocannon from this process and answers the figures the tables print. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const { body } = options;
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'POST',
    headers: options.headers,
    connections: options.connections ?? 16,
    duration: options.amount ? undefined : (options.seconds ?? 5),
    amount: options.amount,
    body: typeof body === 'string' ? body : undefined,
    requests:
      typeof body === 'function'
        ? [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body() }) }]
        : undefined,
  } as autocannon.Options);
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
