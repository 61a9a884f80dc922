import type { AccountRow, AuditQuery } from '../types';

export { type Columns, ACCOUNT_FIELDS, ACCOUNT_COLUMNS, accountAt, SESSION_FIELDS, SESSION_COLUMNS, sessionAt, TOKEN_SESSION_AT, TOKEN_ACCOUNT_AT, foundTokenAt, CHANGEABLE_COLUMNS } from '../rows';
import { type Columns, accountAt } from '../rows';

export const accountOrNone = (c: Columns | undefined): AccountRow | undefined => optional(c, (row) => accountAt(row, 0));

/** The conditions of an `AuditQuery`, each a no-op when its parameter is null. */
export const AUDIT_MATCHES = `(@usernamePart IS NULL OR instr(lower(username), lower(@usernamePart)) > 0)
  AND (@event IS NULL OR event = @event) AND (@outcome IS NULL OR outcome = @outcome)
  AND (@from IS NULL OR at >= @from) AND (@to IS NULL OR at < @to)`;

export const auditParams = (q: AuditQuery) => ({
  usernamePart: q.usernamePart ?? null,
  event: q.event ?? null,
  outcome: q.outcome ?? null,
  from: q.from ?? null,
  to: q.to ?? null,
});


export function optional<R, T>(record: R | undefined, map: (r: R) => T): T | undefined {
  return record === undefined ? undefined : map(record);
}
