import { api, ApiError, useOperator, whenLoggedOut, type Account, type AuditFilter, type Operator, type Session } from './api.js';
import { drawActivity } from './chart.js';
import { byId, fill, formValues, h, labelCells } from './dom.js';
import { currentZone, fromInputValue, plural, relative, setZone, toInputValue, when, zoneLabel, type Zone } from './format.js';

type View = 'sessions' | 'accounts' | 'activity' | 'audit';
const VIEWS: readonly View[] = ['sessions', 'accounts', 'activity', 'audit'];
/**
 * How often a view reloads by itself: live sessions often (when asked to), the per-minute chart less; the
 * audit log not at all, so a page the operator is reading stays as it is.
 */
const REFRESH_MS: Record<View, number | undefined> = { sessions: 5000, accounts: undefined, activity: 15000, audit: undefined };
/** Audit rows per page. */
const AUDIT_PAGE = 50;

const el = {
  boot: byId('boot', HTMLElement),
  tabs: byId('tabs', HTMLElement),
  who: byId('who', HTMLElement),
  whoName: byId('who-name', HTMLElement),
  zoneButtons: [byId('zone-utc', HTMLButtonElement), byId('zone-local', HTMLButtonElement)],
  logout: byId('logout', HTMLButtonElement),
  loginView: byId('login-view', HTMLElement),
  loginForm: byId('login-form', HTMLFormElement),
  loginError: byId('login-error', HTMLElement),
  sessionFilter: byId('session-filter', HTMLFormElement),
  autoRefresh: byId('auto-refresh', HTMLInputElement),
  sessionRows: byId('session-table', HTMLTableElement).tBodies[0]!,
  sessionTable: byId('session-table', HTMLTableElement),
  sessionCount: byId('session-count', HTMLElement),
  sessionEmpty: byId('session-empty', HTMLElement),
  accountFilter: byId('account-filter', HTMLFormElement),
  accountRows: byId('account-table', HTMLTableElement).tBodies[0]!,
  accountCount: byId('account-count', HTMLElement),
  newAccount: byId('new-account', HTMLButtonElement),
  accountDialog: byId('account-dialog', HTMLDialogElement),
  accountForm: byId('account-form', HTMLFormElement),
  passwordDialog: byId('password-dialog', HTMLDialogElement),
  passwordForm: byId('password-form', HTMLFormElement),
  passwordUser: byId('password-user', HTMLElement),
  activityFilter: byId('activity-filter', HTMLFormElement),
  activityChart: byId('activity-chart', HTMLElement),
  activityLegend: byId('activity-legend', HTMLElement),
  auditFilter: byId('audit-filter', HTMLFormElement),
  auditError: byId('audit-error', HTMLElement),
  auditCount: byId('audit-count', HTMLElement),
  auditExport: byId('audit-export', HTMLAnchorElement),
  auditTable: byId('audit-table', HTMLTableElement),
  auditRows: byId('audit-table', HTMLTableElement).tBodies[0]!,
  auditEmpty: byId('audit-empty', HTMLElement),
  auditNewer: byId('audit-newer', HTMLButtonElement),
  auditOlder: byId('audit-older', HTMLButtonElement),
  auditRange: byId('audit-range', HTMLElement),
  confirmDialog: byId('confirm-dialog', HTMLDialogElement),
  confirmText: byId('confirm-text', HTMLElement),
  confirmOk: byId('confirm-ok', HTMLButtonElement),
  toast: byId('toast', HTMLElement),
};

const state: { operator?: Operator; view: View; timer?: number } = { view: 'sessions' };

// ---------------------------------------------------------------- small pieces

let toastTimer: number | undefined;

/** A short message at the bottom of the page; errors stay a little longer. */
function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  el.toast.textContent = message;
  el.toast.className = `toast ${kind}`;
  el.toast.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (el.toast.hidden = true), kind === 'error' ? 8000 : 4000);
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Asks before doing something that cannot be undone; resolves true on "confirm". */
function confirmAction(text: string, action: string): Promise<boolean> {
  el.confirmText.textContent = text;
  el.confirmOk.textContent = action;
  el.confirmDialog.returnValue = '';
  el.confirmDialog.showModal();
  return new Promise((resolve) => {
    el.confirmDialog.addEventListener('close', () => resolve(el.confirmDialog.returnValue === 'ok'), { once: true });
  });
}

/** A listener running async work: the DOM ignores what a listener returns, and `act` reports the failures. */
function handle<E extends Event>(work: (event: E) => Promise<void>): (event: E) => void {
  return (event) => void work(event);
}

/** Runs a button's action once at a time, reports its outcome, and refreshes the view. */
async function act(button: HTMLButtonElement, work: () => Promise<string>): Promise<void> {
  button.disabled = true;
  try {
    toast(await work());
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(messageOf(err), 'error');
  } finally {
    button.disabled = false;
    await refresh();
  }
}

/** A time with its date and zone, and how long ago (or ahead) it is; the exact UTC time in its tooltip. */
function timeCell(ms: number, now: number, relativeToo = true): HTMLTableCellElement {
  return h('td', { class: 'time', title: new Date(ms).toISOString() }, when(ms), relativeToo ? h('small', {}, relative(ms, now)) : null);
}

// ---------------------------------------------------------------- log-in and views

function showLoggedOut(message?: string): void {
  state.operator = undefined;
  useOperator(undefined);
  stopTimer();
  el.tabs.hidden = true;
  el.who.hidden = true;
  for (const view of VIEWS) byId(`${view}-view`, HTMLElement).hidden = true;
  el.loginView.hidden = false;
  el.loginError.textContent = message ?? '';
  (el.loginForm.elements.namedItem('username') as HTMLInputElement).focus();
}

function showLoggedIn(operator: Operator): void {
  state.operator = operator;
  useOperator(operator);
  el.loginView.hidden = true;
  el.loginForm.reset();
  el.tabs.hidden = false;
  el.who.hidden = false;
  el.whoName.textContent = operator.user.username;
  void show(viewOfHash());
}

function viewOfHash(): View {
  const name = location.hash.slice(1);
  return (VIEWS as readonly string[]).includes(name) ? (name as View) : 'sessions';
}

async function show(view: View): Promise<void> {
  if (!state.operator) return;
  state.view = view;
  for (const name of VIEWS) byId(`${name}-view`, HTMLElement).hidden = name !== view;
  for (const link of el.tabs.querySelectorAll('a')) link.classList.toggle('active', link.dataset.view === view);
  await refresh();
  startTimer();
}

let latestRefresh = 0;

/**
 * Reloads what the current view shows. Only the latest reload draws: an older one (a timer's, answered after
 * the operator changed a filter) would put back what the operator just filtered away.
 */
async function refresh(): Promise<void> {
  if (!state.operator) return;
  const ticket = ++latestRefresh;
  const current = () => ticket === latestRefresh;
  try {
    if (state.view === 'sessions') await loadSessions(current);
    else if (state.view === 'accounts') await loadAccounts(current);
    else if (state.view === 'activity') await loadActivity(current);
    else await loadAudit(current);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(messageOf(err), 'error');
  }
}

function startTimer(): void {
  stopTimer();
  const every = REFRESH_MS[state.view];
  if (every === undefined || (state.view === 'sessions' && !el.autoRefresh.checked)) return;
  state.timer = window.setInterval(() => {
    // A dialog open or a page in the background: nothing to redraw under the operator's hands.
    if (document.hidden || document.querySelector('dialog[open]')) return;
    void refresh();
  }, every);
}

function stopTimer(): void {
  window.clearInterval(state.timer);
  state.timer = undefined;
}

// ---------------------------------------------------------------- sessions

async function loadSessions(current: () => boolean): Promise<void> {
  const filter = formValues(el.sessionFilter);
  const user = filter.user?.trim();
  const { now, sessions, truncated } = await api.sessions({ user, door: filter.door });
  if (!current()) return;
  el.sessionCount.textContent = truncated ? `(first ${sessions.length})` : `(${sessions.length})`;
  // An empty list says what was filtered, so "nobody is logged in" and "nobody matches" read differently.
  const filtered = [user ? `of users whose name contains “${user}”` : '', filter.door ? `at the ${filter.door} door` : ''].filter(Boolean);
  el.sessionEmpty.textContent = filtered.length ? `No live sessions ${filtered.join(' ')}.` : 'No live sessions.';
  el.sessionEmpty.hidden = sessions.length > 0;
  el.sessionTable.hidden = sessions.length === 0;
  fill(el.sessionRows, ...sessions.map((session) => sessionRow(session, now)));
  labelCells(el.sessionTable);
}

function sessionRow(session: Session, now: number): HTMLTableRowElement {
  const end = h('button', { type: 'button', class: 'danger small', 'data-action': 'end-session' }, 'End session');
  end.addEventListener('click', handle(async () => {
    const yours = session.current ? ' This is your own console session: you will be logged out.' : '';
    if (!(await confirmAction(`End ${session.username}'s ${session.door} session?${yours}`, 'End session'))) return;
    await act(end, async () => {
      const { outcome } = await api.endSession(session.id);
      return outcome === 'revoked' ? `Ended ${session.username}'s ${session.door} session` : 'That session had already ended';
    });
  }));
  const endAll = h('button', { type: 'button', class: 'quiet small', 'data-action': 'end-all' }, 'End all of user');
  const accountId = session.accountId;
  if (accountId === null) endAll.disabled = true;
  else {
    endAll.addEventListener('click', handle(async () => {
      if (!(await confirmAction(`End every session of ${session.username}, at every door?`, 'End all sessions'))) return;
      await act(endAll, async () => `Ended ${plural((await api.endSessionsOf(accountId)).ended, 'session')} of ${session.username}`);
    }));
  }
  return h(
    'tr',
    { 'data-session': session.id, 'data-user': session.username, class: session.current ? 'current' : null },
    h('td', {}, h('b', {}, session.username), session.current ? h('small', {}, 'this console') : null),
    h('td', {}, h('span', { class: `door door-${session.door}` }, session.door)),
    timeCell(session.createdAt, now),
    timeCell(session.lastSeenAt, now),
    h(
      'td',
      { class: 'time', title: `idle expiry ${when(session.idleExpiresAt)}, absolute expiry ${when(session.absoluteExpiresAt)}` },
      when(session.expiresAt),
      h('small', {}, relative(session.expiresAt, now)),
    ),
    h('td', { title: session.userAgent ?? '' }, h('code', {}, session.clientIp ?? '–')),
    h('td', { class: 'actions' }, end, endAll),
  );
}

// ---------------------------------------------------------------- accounts

async function loadAccounts(current: () => boolean): Promise<void> {
  const { query } = formValues(el.accountFilter);
  const { now, accounts } = await api.accounts(query?.trim());
  if (!current()) return;
  el.accountCount.textContent = `(${accounts.length})`;
  fill(el.accountRows, ...accounts.map((account) => accountRow(account, now)));
  labelCells(byId('account-table', HTMLTableElement));
}

function badges(account: Account, now: number): HTMLElement[] {
  const list = [account.isActive ? h('span', { class: 'badge ok' }, 'active') : h('span', { class: 'badge off' }, 'inactive')];
  if (account.locked && account.lockedUntil !== null) {
    const until = account.lockedUntil > now + 365 * 86_400_000 ? 'until unlocked' : relative(account.lockedUntil, now).replace(/^in /, 'for ');
    list.push(h('span', { class: 'badge bad', title: `locked until ${when(account.lockedUntil)}` }, `locked ${until}`));
  }
  for (const lock of account.lockedAddresses) {
    list.push(h('span', { class: 'badge warn', title: `locked until ${when(lock.lockedUntil)}` }, `locked for ${lock.clientIp}`));
  }
  if (account.failedLogins > 0) list.push(h('span', { class: 'badge warn' }, plural(account.failedLogins, 'failure')));
  return list;
}

function accountRow(account: Account, now: number): HTMLTableRowElement {
  const self = account.id === state.operator?.user.id;
  const buttons: HTMLButtonElement[] = [];
  const button = (label: string, kind: string, action: string, run: (b: HTMLButtonElement) => unknown) => {
    const b = h('button', { type: 'button', class: `${kind} small`, 'data-action': action }, label);
    b.addEventListener('click', () => void run(b));
    buttons.push(b);
  };

  button('Reset password', 'quiet', 'reset-password', () => openPasswordDialog(account));
  if (account.locked || account.failedLogins > 0 || account.lockedAddresses.length > 0) {
    button('Unlock', 'quiet', 'unlock', (b) =>
      act(b, async () => {
        await api.unlock(account.id);
        return `Unlocked ${account.username}`;
      }),
    );
  }
  if (!self && !account.locked) {
    button('Lock', 'danger', 'lock', async (b) => {
      if (!(await confirmAction(`Lock ${account.username} until unlocked? Its sessions end now.`, 'Lock'))) return;
      await act(b, async () => {
        const { ended } = await api.lock(account.id);
        return `Locked ${account.username}${ended ? ` and ended ${plural(ended, 'session')}` : ''}`;
      });
    });
  }
  if (account.isActive) {
    if (!self) {
      button('Deactivate', 'danger', 'deactivate', async (b) => {
        if (!(await confirmAction(`Deactivate ${account.username}? The account can no longer log in, and its sessions end now.`, 'Deactivate'))) return;
        await act(b, async () => {
          const { ended } = await api.deactivate(account.id);
          return `Deactivated ${account.username}${ended ? ` and ended ${plural(ended, 'session')}` : ''}`;
        });
      });
    }
  } else {
    button('Activate', 'quiet', 'activate', (b) =>
      act(b, async () => {
        await api.activate(account.id);
        return `Activated ${account.username}`;
      }),
    );
  }
  button('End sessions', 'quiet', 'end-sessions', async (b) => {
    if (!(await confirmAction(`End every session of ${account.username}, at every door?`, 'End all sessions'))) return;
    await act(b, async () => `Ended ${plural((await api.endSessionsOf(account.id)).ended, 'session')} of ${account.username}`);
  });

  const fullName = [account.firstName, account.lastName].filter(Boolean).join(' ');
  const aside = [account.name !== account.username ? account.name : '', fullName, account.email].filter(Boolean).join(' · ');
  return h(
    'tr',
    { 'data-account': account.id, 'data-user': account.username, class: account.isActive ? null : 'inactive' },
    h('td', {}, h('b', {}, account.username), self ? h('small', {}, 'you') : null, aside ? h('small', {}, aside) : null),
    h('td', {}, h('span', { class: `role role-${account.role}` }, account.role)),
    h('td', { class: 'badges' }, ...badges(account, now)),
    h('td', {}, account.ttl === null ? h('span', { class: 'muted' }, 'default') : `${account.ttl} s`),
    timeCell(account.createdAt, now, false),
    h('td', { class: 'actions' }, ...buttons),
  );
}

function formError(form: HTMLFormElement, message: string): void {
  form.querySelector('.error')!.textContent = message;
}

function closeButtons(dialog: HTMLDialogElement): void {
  for (const b of dialog.querySelectorAll<HTMLButtonElement>('button[value="cancel"]')) b.addEventListener('click', () => dialog.close());
}

function openAccountDialog(): void {
  el.accountForm.reset();
  formError(el.accountForm, '');
  el.accountDialog.showModal();
}

async function submitAccount(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = formValues(el.accountForm);
  const submit = el.accountForm.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  submit.disabled = true;
  try {
    const { account } = await api.createAccount({
      username: v.username,
      password: v.password,
      role: v.role,
      firstName: v.firstName,
      lastName: v.lastName,
      email: v.email,
      ttl: v.ttl?.trim() ? v.ttl.trim() : undefined,
    });
    el.accountDialog.close();
    toast(`Created ${account.role} ${account.username}`);
    await refresh();
  } catch (err) {
    formError(el.accountForm, messageOf(err));
  } finally {
    submit.disabled = false;
  }
}

let passwordTarget: Account | undefined;

function openPasswordDialog(account: Account): void {
  passwordTarget = account;
  el.passwordForm.reset();
  formError(el.passwordForm, '');
  el.passwordUser.textContent = account.username;
  el.passwordDialog.showModal();
}

async function submitPassword(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const account = passwordTarget;
  if (!account) return;
  const { password, again } = formValues(el.passwordForm);
  if (password !== again) return formError(el.passwordForm, 'The two passwords differ');
  const submit = el.passwordForm.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  submit.disabled = true;
  try {
    await api.resetPassword(account.id, password ?? '');
    el.passwordDialog.close();
    toast(`Password of ${account.username} changed`);
    await refresh();
  } catch (err) {
    formError(el.passwordForm, messageOf(err));
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- activity

async function loadActivity(current: () => boolean): Promise<void> {
  const hours = Number(formValues(el.activityFilter).hours ?? 3);
  const activity = await api.activity(hours);
  if (!current()) return;
  drawActivity(el.activityChart, el.activityLegend, activity);
}

// ---------------------------------------------------------------- audit log

/** Where each page of the audit log starts: `before` of the first page is none; the last entry is the page shown. */
let auditPages: (number | undefined)[] = [undefined];

/** The audit filter as the form says it, times read in the zone the page shows. */
function auditFilter(): AuditFilter {
  const v = formValues(el.auditFilter);
  const time = (name: 'from' | 'to') => {
    const text = v[name] ?? '';
    if (text === '') return undefined;
    const ms = fromInputValue(text);
    if (ms === undefined) throw new ApiError(400, 'BadInput', `Invalid ${name}: not a date and time`, name);
    return ms;
  };
  return { user: v.user?.trim() || undefined, event: v.event || undefined, outcome: v.outcome || undefined, from: time('from'), to: time('to') };
}

/** What the filter keeps, in words, for the empty state: `user contains “x”, event login, from … to …`. */
function describeFilter(filter: AuditFilter): string {
  return [
    filter.user ? `user contains “${filter.user}”` : '',
    filter.event ? `event ${filter.event}` : '',
    filter.outcome ? `outcome ${filter.outcome}` : '',
    filter.from !== undefined ? `from ${when(filter.from)}` : '',
    filter.to !== undefined ? `before ${when(filter.to)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

async function loadAudit(current: () => boolean): Promise<void> {
  let filter: AuditFilter;
  try {
    filter = auditFilter();
  } catch (err) {
    el.auditError.textContent = messageOf(err);
    return;
  }
  el.auditExport.href = api.auditExportUrl(filter);
  const index = auditPages.length - 1;
  let page;
  try {
    page = await api.audit({ ...filter, before: auditPages[index], limit: AUDIT_PAGE });
  } catch (err) {
    if (!current()) return;
    if (err instanceof ApiError && err.status === 400) {
      el.auditError.textContent = err.message;
      return;
    }
    throw err;
  }
  if (!current()) return;
  el.auditError.textContent = '';
  const { rows, total, next, now } = page;
  const first = index * AUDIT_PAGE;
  el.auditCount.textContent = `(${total.toLocaleString('en')})`;
  el.auditRange.textContent = rows.length ? `${first + 1}–${first + rows.length} of ${total.toLocaleString('en')}` : '';
  el.auditNewer.disabled = index === 0;
  el.auditOlder.disabled = next === null;
  el.auditOlder.dataset.next = next === null ? '' : String(next);
  const described = describeFilter(filter);
  el.auditEmpty.textContent = described ? `No audit rows match: ${described}.` : 'No audit rows yet.';
  el.auditEmpty.hidden = rows.length > 0;
  el.auditTable.hidden = rows.length === 0;
  fill(
    el.auditRows,
    ...rows.map((row) =>
      h(
        'tr',
        { class: row.outcome === 'ok' ? null : 'failed', 'data-id': row.id },
        timeCell(row.at, now, false),
        // A tallied row (refusals repeated from one address) stands for `count` events.
        h('td', {}, row.event, row.count > 1 ? h('small', { class: 'tally', title: `${row.count} events in this row` }, `× ${row.count}`) : null),
        h('td', {}, h('span', { class: `badge ${row.outcome === 'ok' ? 'ok' : 'bad'}` }, row.outcome)),
        h('td', {}, row.username ?? '–'),
        h('td', {}, row.door ?? '–'),
        h('td', {}, h('code', {}, row.clientIp ?? '–')),
        h('td', { class: 'detail', title: row.cid ? `cid ${row.cid}` : '' }, row.detail ?? ''),
      ),
    ),
  );
  labelCells(el.auditTable);
}

/** A changed filter starts again at the newest rows. */
function restartAudit(): void {
  auditPages = [undefined];
  void refresh();
}

// ---------------------------------------------------------------- time zone

function showZone(): void {
  const zone = currentZone();
  for (const b of el.zoneButtons) b.setAttribute('aria-pressed', String(b.dataset.zone === zone));
  for (const span of document.querySelectorAll('.zone-name')) span.textContent = zoneLabel();
}

/** Shows every time in `zone`; the audit filter's times keep the moments they named. */
function switchZone(zone: Zone): void {
  if (zone === currentZone()) return;
  const inputs = [...el.auditFilter.querySelectorAll<HTMLInputElement>('input[type="datetime-local"]')];
  const moments = inputs.map((input) => fromInputValue(input.value));
  setZone(zone);
  inputs.forEach((input, i) => (input.value = moments[i] === undefined ? '' : toInputValue(moments[i]!)));
  showZone();
  void refresh();
}

// ---------------------------------------------------------------- wiring

function wire(): void {
  el.loginForm.addEventListener('submit', handle(async (event) => {
    event.preventDefault();
    const { username, password } = formValues(el.loginForm);
    const submit = el.loginForm.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    submit.disabled = true;
    el.loginError.textContent = '';
    try {
      showLoggedIn(await api.login(username ?? '', password ?? ''));
    } catch (err) {
      el.loginError.textContent = messageOf(err);
    } finally {
      submit.disabled = false;
    }
  }));
  el.logout.addEventListener('click', handle(async () => {
    try {
      await api.logout();
    } catch (err) {
      toast(messageOf(err), 'error');
      return;
    }
    showLoggedOut('Logged out.');
  }));
  whenLoggedOut(() => {
    if (state.operator) showLoggedOut('Your console session has ended. Log in again.');
  });

  window.addEventListener('hashchange', () => void show(viewOfHash()));
  el.sessionFilter.addEventListener('input', () => void refresh());
  el.sessionFilter.addEventListener('submit', (event) => event.preventDefault());
  el.autoRefresh.addEventListener('change', startTimer);
  el.accountFilter.addEventListener('input', () => void refresh());
  el.accountFilter.addEventListener('submit', (event) => event.preventDefault());
  el.activityFilter.addEventListener('change', () => void refresh());
  el.auditFilter.addEventListener('input', restartAudit);
  el.auditFilter.addEventListener('change', restartAudit);
  el.auditFilter.addEventListener('reset', () => window.setTimeout(restartAudit));
  el.auditFilter.addEventListener('submit', (event) => event.preventDefault());
  el.auditOlder.addEventListener('click', () => {
    const next = Number(el.auditOlder.dataset.next);
    if (!next) return;
    auditPages.push(next);
    void refresh();
  });
  el.auditNewer.addEventListener('click', () => {
    if (auditPages.length > 1) auditPages.pop();
    void refresh();
  });
  for (const b of el.zoneButtons) b.addEventListener('click', () => switchZone(b.dataset.zone === 'local' ? 'local' : 'utc'));
  // The chart is drawn to its box's width: a window made narrower or wider gets it drawn again.
  let resizing: number | undefined;
  window.addEventListener('resize', () => {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(() => state.view === 'activity' && void refresh(), 200);
  });

  el.newAccount.addEventListener('click', openAccountDialog);
  el.accountForm.addEventListener('submit', (event) => void submitAccount(event));
  el.passwordForm.addEventListener('submit', (event) => void submitPassword(event));
  closeButtons(el.accountDialog);
  closeButtons(el.passwordDialog);
}

/**
 * Puts the page at its base address (`/console` and `/console/index.html` become `/console/`, keeping the
 * view's `#hash`): the tabs' `#view` links resolve against the base, and from any other address each click
 * would load the page again instead of switching the view.
 */
function settleAtBase(): void {
  const base = new URL(document.baseURI);
  if (location.origin === base.origin && location.pathname !== base.pathname) {
    history.replaceState(history.state, '', base.pathname + location.search + location.hash);
  }
}

async function start(): Promise<void> {
  settleAtBase();
  wire();
  showZone();
  el.boot.hidden = true;
  try {
    showLoggedIn(await api.me());
  } catch (err) {
    showLoggedOut(err instanceof ApiError && err.status === 403 ? err.message : undefined);
  }
}

void start();
