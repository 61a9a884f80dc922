import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Store } from '../store/types';
import type { Clock } from './clock';
import type { RequestContext } from './context';
import { Throttled } from './errors';

const WINDOW_MS = 60_000;

/** Addresses (`203.0.113.7`) and CIDRs (`10.0.0.0/8`, `2001:db8::/32`) as a BlockList; throws on a bad entry. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (!type) throw new Error(`not an address: ${entry}`);
    if (bits === undefined) list.addAddress(address, type);
    else if (/^\d+$/.test(bits) && Number(bits) <= (type === 'ipv4' ? 32 : 128)) list.addSubnet(address, Number(bits), type);
    else throw new Error(`not a prefix length: ${entry}`);
  }
  return list;
}

function listed(list: BlockList, ip: string): boolean {
  if (isIPv4(ip)) return list.check(ip, 'ipv4');
  if (!isIPv6(ip)) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  return list.check(ip, 'ipv6') || (mapped !== undefined && list.check(mapped, 'ipv4'));
}

/**
 * Failed log-ins per client address and minute, counted in the store so every worker process shares them.
 * An attempt reserves its place before bcrypt (a full window costs no hash) and a good log-in gives it back,
 * so only failures count. Not throttled: an address on the exempt list, and a caller already authenticated
 * (an xWeb integrator's live token), whose end users' failures count per end user. Off when the limit is 0.
 */
export class LoginThrottle {
  private readonly exempt: BlockList;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly perMinute: number,
    exempt: readonly string[] = [],
  ) {
    this.exempt = addressList(exempt);
  }

  /** The window this attempt was counted in, or undefined when it is not throttled; `Throttled` when full. */
  async reserve(ctx: RequestContext): Promise<number | undefined> {
    const ip = ctx.clientIp;
    if (this.perMinute === 0 || !ip || ctx.trustedCaller || listed(this.exempt, ip)) return undefined;
    const now = this.clock.now();
    const windowStart = now - (now % WINDOW_MS);
    if (!(await this.store.reserveThrottle(ip, windowStart, this.perMinute))) {
      throw new Throttled(Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000)), windowStart);
    }
    return windowStart;
  }

  /** A good log-in: its reservation is given back. */
  async release(ctx: RequestContext, windowStart: number | undefined): Promise<void> {
    if (windowStart !== undefined && ctx.clientIp) await this.store.releaseThrottle(ctx.clientIp, windowStart);
  }

  /** Drops windows that can no longer matter. */
  forgetOld(): Promise<void> {
    return this.store.forgetLoginAttempts(this.clock.now() - 2 * WINDOW_MS);
  }
}
