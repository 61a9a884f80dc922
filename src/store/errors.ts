/** The store's own failures. The core turns `StoreFault` into its `StoreUnavailable`, and a duplicate into `Conflict`. */
export class StoreFault extends Error {
  constructor(
    /** Short and safe to show: "database is locked", "disk is full"... */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

export class UniqueViolation extends Error {
  constructor(readonly column: string) {
    super(`duplicate ${column}`);
  }
}
