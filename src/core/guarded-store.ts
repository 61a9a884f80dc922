import { StoreFault } from '../store/errors';
import type { Store } from '../store/types';
import { StoreUnavailable } from './errors';

/** The store as the core sees it: every store fault arrives as the core's `StoreUnavailable`. */
export function guardStore(store: Store): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let wrapper = wrapped.get(key);
      if (!wrapper) {
        wrapper = (...args: unknown[]) =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch((err: unknown) => {
            throw err instanceof StoreFault ? new StoreUnavailable(err.reason, { cause: err }) : err;
          });
        wrapped.set(key, wrapper);
      }
      return wrapper;
    },
  });
}
