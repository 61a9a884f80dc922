import { BadInput, type AuditQuery, type Core } from '../../../core';
import { queryOf } from '../../../http/exchange';
import { auditCsvName, writeAuditCsv } from './audit-csv';
import type { ConsoleOperation } from './operation';
import { queryId, queryText, queryTime, queryWhole, type Query } from './query';

const MAX_AUDIT_ROWS = 500;
const MAX_ACTIVITY_HOURS = 24;
/** Audit events are short lower-case words joined by dashes (`login`, `account-edit`). */
const EVENT_NAME = /^[a-z][a-z-]{0,31}$/;
const OUTCOMES = ['ok', 'failed'];

/** The audit filter of the query: `user` (part of a name), `event`, `outcome`, `from` and `to` (a time range). */
function auditQueryOf(query: Query): AuditQuery {
  const event = queryText(query, 'event', 32);
  if (event !== undefined && !EVENT_NAME.test(event)) throw new BadInput('event', 'invalid', 'Invalid event: expected an event name such as login');
  const outcome = queryText(query, 'outcome', 16);
  if (outcome !== undefined && !OUTCOMES.includes(outcome)) throw new BadInput('outcome', 'invalid', 'Invalid outcome: expected ok or failed');
  const from = queryTime(query, 'from');
  const to = queryTime(query, 'to');
  if (from !== undefined && to !== undefined && to < from) throw new BadInput('to', 'invalid', 'Invalid to: earlier than from');
  return { usernamePart: queryText(query, 'user'), event, outcome, from, to };
}

/** The audit log: the activity chart's counts (bucketed by the core), a page of rows, every row as CSV. */
export function auditOperations(core: Core): ConsoleOperation[] {
  const { audit } = core;
  return [
    {
      name: 'activity',
      method: 'GET',
      path: '/activity',
      access: 'admin',
      async run(call) {
        const hours = queryWhole(queryOf(call.x), 'hours', 1, MAX_ACTIVITY_HOURS, 3);
        return { body: await audit.activity(core.clock.now(), hours * 60) };
      },
    },
    {
      name: 'audit',
      method: 'GET',
      path: '/audit',
      access: 'admin',
      async run(call) {
        const query = auditQueryOf(queryOf(call.x));
        const limit = queryWhole(queryOf(call.x), 'limit', 1, MAX_AUDIT_ROWS, 100);
        const beforeId = queryId(queryOf(call.x), 'before');
        const [rows, total] = await Promise.all([audit.find({ ...query, beforeId, limit: limit + 1 }), audit.count(query)]);
        const page = rows.slice(0, limit);
        // `next` continues with the rows after this page's last, for as long as there are any.
        const next = rows.length > limit ? page[page.length - 1]!.id : null;
        return { body: { now: core.clock.now(), total, rows: page, next } };
      },
    },
    {
      name: 'audit-export',
      method: 'GET',
      path: '/audit.csv',
      access: 'admin',
      async run(call) {
        const query = auditQueryOf(queryOf(call.x));
        return {
          body: {},
          download: { filename: auditCsvName(core.clock.now()), type: 'text/csv; charset=utf-8', write: (to) => writeAuditCsv(audit, query, to) },
        };
      },
    },
  ];
}
