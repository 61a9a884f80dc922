import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { AuditQuery, Core } from '../../../core';

/** The columns of the audit export, in order: the row's field and the CSV header. */
const AUDIT_CSV_COLUMNS = [
  { key: 'id', header: 'id' },
  { key: 'time', header: 'time' },
  { key: 'event', header: 'event' },
  { key: 'outcome', header: 'outcome' },
  { key: 'username', header: 'username' },
  { key: 'door', header: 'door' },
  { key: 'clientIp', header: 'client_ip' },
  { key: 'sessionId', header: 'session_id' },
  { key: 'cid', header: 'cid' },
  { key: 'detail', header: 'detail' },
  { key: 'count', header: 'count' },
];

/**
 * Writes every audit row `query` matches to `to` as CSV (RFC 4180, UTC times in ISO 8601), a batch at a
 * time: the pipeline reads the next batch only as fast as the client takes the file, and stops reading when
 * the client goes away. A cell that a spreadsheet would take as a formula (a username such as
 * `=HYPERLINK(...)` typed at a log-in) starts with a quote.
 */
export async function writeAuditCsv(audit: Core['audit'], query: AuditQuery, to: Writable): Promise<void> {
  const batches = audit.every(query);
  // The first batch is read before anything is written: a store that fails at once gets the error table's
  // answer, where a failure in the pipeline would only cut the connection.
  const first = await batches.next();
  async function* everyBatch() {
    if (first.done) return;
    yield first.value;
    yield* batches;
  }
  async function* records() {
    for await (const rows of everyBatch()) {
      for (const row of rows) yield { ...row, time: new Date(row.at).toISOString() };
    }
  }
  const csv = stringify({ header: true, columns: AUDIT_CSV_COLUMNS, escape_formulas: true, record_delimiter: 'windows' });
  await pipeline(Readable.from(records()), csv, to);
}

/** The export's file name, stamped with the time it was made (UTC, no colons, which some file systems refuse). */
export function auditCsvName(now: number): string {
  const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return `dualgate-audit-${stamp}.csv`;
}
