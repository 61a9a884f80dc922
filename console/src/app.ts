import { api, ApiError, useOperator, whenLoggedOut, type Account, type Operator, type Session } from './api.js';
import { drawActivity } from './chart.js';
import { byId, fill, formValues, h } from './dom.js';
import { full, plural, relative, when } from './format.js';

type View = 'sessions' | 'accounts' | 'activity';
const VIEWS: readonly View[] = ['sessions', 'accounts', 'activity'];
/** How often a view reloads by itself: live sessions often (when asked to), the per-minute chart less. */
const REFRESH_MS: Record<View, number | undefined> = { sessions: 5000, accounts: undefined, activity: 15000 };

const el = {
  boot: byId('boot', HTMLElement),
  tabs: byId('tabs', HTMLElement),
  who: byId('who', HTMLElement),
  whoName: byId('who-name', HTMLElement),
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
  auditRows: byId('audit-table', HTMLTableElement).tBodies[0]!,
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

function timeCell(ms: number, now: number, relativeToo = true): HTMLTableCellElement {
  return h('td', { title: full(ms) }, when(ms, now), relativeToo ? h('small', {}, relative(ms, now)) : null);
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
    else await loadActivity(current);
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
  const { now, sessions, truncated } = await api.sessions({ user: filter.user?.trim(), door: filter.door });
  if (!current()) return;
  el.sessionCount.textContent = truncated ? `(first ${sessions.length})` : `(${sessions.length})`;
  el.sessionEmpty.hidden = sessions.length > 0;
  el.sessionTable.hidden = sessions.length === 0;
  fill(el.sessionRows, ...sessions.map((session) => sessionRow(session, now)));
}

function sessionRow(session: Session, now: number): HTMLTableRowElement {
  const end = h('button', { type: 'button', class: 'danger small', 'data-action': 'end-session' }, 'End session');
  end.addEventListener('click', async () => {
    const yours = session.current ? ' This is your own console session: you will be logged out.' : '';
    if (!(await confirmAction(`End ${session.username}'s ${session.door} session?${yours}`, 'End session'))) return;
    await act(end, async () => {
      const { outcome } = await api.endSession(session.id);
      return outcome === 'revoked' ? `Ended ${session.username}'s ${session.door} session` : 'That session had already ended';
    });
  });
  const endAll = h('button', { type: 'button', class: 'quiet small', 'data-action': 'end-all' }, 'End all of user');
  const accountId = session.accountId;
  if (accountId === null) endAll.disabled = true;
  else {
    endAll.addEventListener('click', async () => {
      if (!(await confirmAction(`End every session of ${session.username}, at every door?`, 'End all sessions'))) return;
      await act(endAll, async () => `Ended ${plural((await api.endSessionsOf(accountId)).ended, 'session')} of ${session.username}`);
    });
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
      { title: `idle expiry ${full(session.idleExpiresAt)}, absolute expiry ${full(session.absoluteExpiresAt)}` },
      when(session.expiresAt, now),
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
}

function badges(account: Account, now: number): HTMLElement[] {
  const list = [account.isActive ? h('span', { class: 'badge ok' }, 'active') : h('span', { class: 'badge off' }, 'inactive')];
  if (account.locked && account.lockedUntil !== null) {
    const until = account.lockedUntil > now + 365 * 86_400_000 ? 'until unlocked' : relative(account.lockedUntil, now).replace(/^in /, 'for ');
    list.push(h('span', { class: 'badge bad', title: `locked until ${full(account.lockedUntil)}` }, `locked ${until}`));
  }
  for (const lock of account.lockedAddresses) {
    list.push(h('span', { class: 'badge warn', title: `locked until ${full(lock.lockedUntil)}` }, `locked for ${lock.clientIp}`));
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
  const [activity, { rows }] = await Promise.all([api.activity(hours), api.audit(100)]);
  if (!current()) return;
  drawActivity(el.activityChart, el.activityLegend, activity);
  fill(
    el.auditRows,
    ...rows.map((row) =>
      h(
        'tr',
        { class: row.outcome === 'ok' ? null : 'failed' },
        timeCell(row.at, activity.now, false),
        h('td', {}, row.event),
        h('td', {}, h('span', { class: `badge ${row.outcome === 'ok' ? 'ok' : 'bad'}` }, row.outcome)),
        h('td', {}, row.username ?? '–'),
        h('td', {}, row.door ?? '–'),
        h('td', {}, h('code', {}, row.clientIp ?? '–')),
        h('td', { class: 'detail', title: row.cid ? `cid ${row.cid}` : '' }, row.detail ?? ''),
      ),
    ),
  );
}

// ---------------------------------------------------------------- wiring

function wire(): void {
  el.loginForm.addEventListener('submit', async (event) => {
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
  });
  el.logout.addEventListener('click', async () => {
    try {
      await api.logout();
    } catch (err) {
      toast(messageOf(err), 'error');
      return;
    }
    showLoggedOut('Logged out.');
  });
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

  el.newAccount.addEventListener('click', openAccountDialog);
  el.accountForm.addEventListener('submit', (event) => void submitAccount(event));
  el.passwordForm.addEventListener('submit', (event) => void submitPassword(event));
  closeButtons(el.accountDialog);
  closeButtons(el.passwordDialog);
}

async function start(): Promise<void> {
  wire();
  el.boot.hidden = true;
  try {
    showLoggedIn(await api.me());
  } catch (err) {
    showLoggedOut(err instanceof ApiError && err.status === 403 ? err.message : undefined);
  }
}

void start();
