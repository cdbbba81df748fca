// The agent app: boot, login and first-run setup, the shell, routing,
// real-time updates and keyboard shortcuts.
import { api, get, patch, post, setCSRF, setOnUnauthorized } from './api.js';
import { $, h, icon } from './dom.js';
import { browserLanguage, setLocale, t } from './i18n.js';
import { focusedTicket, initInbox, loadList, moveFocus, refreshUnread, renderList, renderSidebar } from './inbox.js';
import { focusReply, initTicket, loadTicket, openMacros, renderPlaceholder, setViewers, showTyping } from './ticket.js';
import { renderAdmin, sectionPermission } from './admin.js';
import { renderCustomers } from './customers.js';
import { refreshReports, renderReports } from './reports.js';
import { handoverDialog } from './handover.js';
import { showChecklist } from './checklist.js';
import { newTicketDialog } from './outreach.js';
import { historyNotice, watchHistory } from './history.js';
import { twoFactorSetup } from './signin.js';
import { loadNotifyPrefs, notifySound } from './notifications.js';
import { CEV, EV, addFilter, agentAvatar, can, errorText, state, toast, views } from './state.js';

const app = document.getElementById('app');

// ---- Routing: #/<view>[/t/<id>[/customer]], #/menu, #/admin/<section>,
// #/customers[/<id>], #/reports. On a phone each is one screen, and each
// step is a history entry: the browser's back goes one step.

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'admin') return { admin: parts[1] || 'agents', sub: parts.slice(2) };
  if (parts[0] === 'customers') return { customers: Number(parts[1]) || 0 };
  if (parts[0].split('?')[0] === 'reports') return { reports: true };
  const stored = localStorage.getItem('onedesk.view') || 'open';
  if (parts[0] === 'menu') return { view: stored, ticket: null, menu: true };
  const ticket = parts[1] === 't' ? Number(parts[2]) || null : null;
  return { view: parts[0] || stored, ticket, customer: !!ticket && parts[3] === 'customer' };
}

// depth counts the app's history entries before this one, so the back
// button can go back when there is a step to go back to (and replace the
// page with its parent when the app was opened on a deep link).
let depth = 0;
let replacing = false;
let stamped = false;
function stampHistory() {
  const s = history.state;
  if (s && typeof s.od === 'number') depth = s.od;
  else {
    if (stamped && !replacing) depth++;
    history.replaceState({ ...(s || {}), od: depth }, '');
  }
  stamped = true;
  replacing = false;
}

function goBack(parent) {
  if (depth > 0) history.back();
  else { replacing = true; location.replace(parent); }
}

// pane is what a one-column (phone) screen shows for a route.
function pane(r) {
  if (r.admin || r.customers !== undefined || r.reports) return 'main';
  if (r.menu) return 'nav';
  if (r.customer) return 'customer';
  return r.ticket ? 'ticket' : 'list';
}

// The bar is drawn on a phone only: on a desktop its title and buttons
// would be hidden copies of what the columns show.
const phone = matchMedia('(max-width: 900px)');
phone.addEventListener('change', () => renderAppbar(lastRoute));

function renderAppbar(r) {
  const bar = $('#appbar');
  if (!bar) return;
  if (!phone.matches) { bar.replaceChildren(); return; }
  const listHash = `#/${state.view || r.view || 'open'}`;
  let title;
  let parent = null;
  if (r.menu) { title = t('app_name'); parent = listHash; }
  else if (r.admin) { title = r.admin === 'me' ? t('my_settings') : t(`admin_${r.admin}`); parent = '#/menu'; }
  else if (r.customers !== undefined) { title = t('nav_customers'); parent = r.customers ? '#/customers' : '#/menu'; }
  else if (r.reports) { title = t('nav_reports'); parent = '#/menu'; }
  else if (r.customer) { title = t('customer'); parent = `${listHash}/t/${r.ticket}`; }
  else if (r.ticket) { title = `#${r.ticket}`; parent = listHash; }
  else title = views().find((v) => v.key === r.view)?.label ?? t('tickets');
  bar.replaceChildren(
    parent
      ? h('button', { class: 'iconbtn', id: 'back', title: t('nav_back'), 'aria-label': t('nav_back'), onclick: () => goBack(parent) }, icon('back'))
      : h('a', { class: 'iconbtn', id: 'menu', href: '#/menu', title: t('nav_menu'), 'aria-label': t('nav_menu') }, icon('menu')),
    h('div', { class: 'appbar-title', role: 'heading', 'aria-level': '1' }, title),
    !parent && can('tickets.reply') ? h('button', { class: 'iconbtn', id: 'bar-new-ticket', title: t('new_ticket'), 'aria-label': t('new_ticket'), onclick: () => startTicket() }, icon('plus')) : '',
    h('span', { class: `dot${state.live ? ' live' : ''}`, id: 'live-bar', title: state.live ? t('live') : t('offline') }),
    r.ticket && !r.customer ? h('a', { class: 'iconbtn', id: 'bar-customer', href: `${listHash}/t/${r.ticket}/customer`, title: t('customer'), 'aria-label': t('customer') }, icon('user')) : '');
}

// The visible height, which shrinks while a phone's keyboard is up: the
// reply box stays above the keyboard.
if (window.visualViewport) {
  const fit = () => document.documentElement.style.setProperty('--app-height', `${Math.round(visualViewport.height * visualViewport.scale)}px`);
  visualViewport.addEventListener('resize', fit);
  fit();
}

function navigate(view, ticketId) {
  location.hash = `#/${view}${ticketId ? `/t/${ticketId}` : ''}`;
}

function openTicket(id) { navigate(state.view, id); }

let lastRoute = {};
async function route() {
  if (!state.me) return;
  stampHistory();
  const r = parseRoute();
  setViewing(r.admin || r.customers !== undefined || r.reports ? 0 : r.ticket || 0);
  const showPane = () => { const el = $('.shell'); if (el) el.dataset.pane = pane(r); renderAppbar(r); };
  if (r.reports) {
    const fresh = !lastRoute.reports;
    lastRoute = r;
    if (fresh) shell(true);
    showPane();
    renderReports($('#admin'));
    return;
  }
  if (r.customers !== undefined) {
    const fresh = lastRoute.customers === undefined;
    lastRoute = r;
    if (fresh) shell(true);
    showPane();
    renderCustomers($('#admin'), r.customers);
    return;
  }
  if (r.admin) {
    lastRoute = r;
    shell(true);
    showPane();
    renderAdmin(r.admin, { reloadMeta: async () => { await reloadMeta(); renderSidebar(); }, navigate, sub: r.sub || [] });
    return;
  }
  const viewChanged = r.view !== state.view || lastRoute.admin || !lastRoute.view;
  const sameTicket = !viewChanged && r.ticket && r.ticket === lastRoute.ticket && state.detail?.id === r.ticket;
  lastRoute = r;
  if (!$('#list')) shell(false);
  state.view = r.view;
  localStorage.setItem('onedesk.view', r.view);
  showPane();
  if (viewChanged) {
    state.tickets = []; state.focus = -1; state.selected.clear(); state.next = '';
    renderSidebar();
    loadList();
  } else renderSidebar();
  state.openId = r.ticket;
  if (sameTicket) return; // the customer panel opened or closed: nothing to fetch
  if (r.ticket) {
    const i = state.tickets.findIndex((x) => x.id === r.ticket);
    if (i >= 0) state.focus = i;
    loadTicket(r.ticket);
  } else {
    state.detail = null;
    renderPlaceholder();
  }
  renderList();
}

// ---- Shell

function shell(admin) {
  const me = state.me;
  app.replaceChildren(h('div', { class: 'shell' },
    h('header', { class: 'appbar', id: 'appbar' }),
    h('nav', { class: 'sidebar', 'aria-label': t('nav_label') },
      h('div', { class: 'brand' }, h('span', { class: `dot${state.live ? ' live' : ''}`, id: 'live', title: state.live ? t('live') : t('offline') }), t('app_name')),
      can('tickets.reply') ? h('button', { class: 'btn primary new-ticket', id: 'new-ticket-open', 'aria-keyshortcuts': 'C', onclick: () => startTicket() }, icon('plus'), t('new_ticket')) : null,
      h('div', { class: 'side-scroll' },
      historyNotice(),
      h('div', { id: 'nav' }),
      h('div', { class: 'nav-group' },
        h('a', { class: 'nav-item', href: '#/customers', 'aria-current': String(lastRoute.customers !== undefined) }, icon('users'), t('nav_customers')),
        can('reports.view') ? h('a', { class: 'nav-item', href: '#/reports', id: 'nav-reports', 'aria-current': String(!!lastRoute.reports), 'aria-keyshortcuts': 'G R' }, icon('chart'), t('nav_reports')) : null),
      h('div', { class: 'nav-group' },
        h('h2', {}, t('nav_settings')),
        h('a', { class: 'nav-item', href: '#/admin/replies', 'aria-current': String(lastRoute.admin === 'replies') }, icon('chat'), t('admin_replies')),
        h('a', { class: 'nav-item', href: '#/admin/sla', 'aria-current': String(lastRoute.admin === 'sla') }, icon('clock'), t('admin_sla')),
        Object.keys(sectionPermission).filter((s) => can(sectionPermission[s])).map((s) => h('a', { class: 'nav-item', href: `#/admin/${s}`, 'aria-current': String(lastRoute.admin === s) }, icon('gear'), t(`admin_${s}`))),
        h('a', { class: 'nav-item', href: '#/admin/tokens', 'aria-current': String(lastRoute.admin === 'tokens') }, icon('api'), t('admin_tokens')),
        h('a', { class: 'nav-item', href: '#/admin/me', 'aria-current': String(lastRoute.admin === 'me') }, icon('user'), t('my_settings')),
        h('a', { class: 'nav-item', href: '#/admin/notifications', 'aria-current': String(lastRoute.admin === 'notifications') }, icon('bell'), t('notif_title')))),
      h('div', { class: 'me' },
        agentAvatar(me.id, { size: '' }),
        h('span', {}, me.name),
        presenceButton(),
        h('button', { class: 'iconbtn', id: 'handover-open', title: t('handover'), 'aria-label': t('handover'), onclick: () => handoverDialog({ onDone: () => refreshList() }) }, icon('handover')),
        h('button', { class: 'iconbtn', title: t('notifications'), 'aria-label': t('notifications'), onclick: askNotifications }, icon('bell')),
        h('button', { class: 'iconbtn', title: t('shortcuts'), 'aria-label': t('shortcuts'), onclick: help }, icon('keyboard')),
        h('button', { class: 'iconbtn', title: t('logout'), 'aria-label': t('logout'), onclick: logout }, icon('logout')))),
    admin ? h('main', { class: 'admin', id: 'admin' }) : [
      h('section', { class: 'list-pane', id: 'list', 'aria-label': t('tickets') }),
      h('main', { class: 'ticket-pane', id: 'ticket' }),
    ]));
  renderSidebar();
  // A phone shows no empty ticket pane, where the checklist sits on a
  // wider screen: it heads the menu instead.
  if (matchMedia('(max-width: 900px)').matches) showChecklist($('.sidebar'));
}

// reloadMeta refetches agents, teams, stores and the labels of form
// fields (after admin edits).
async function reloadMeta() {
  const [agents, teams, stores, forms, sla] = await Promise.all([get('/api/agents'), get('/api/teams'), get('/api/stores'), get('/api/forms'),
    get('/api/sla-policies')]);
  state.slaPolicies = sla.sla_policies;
  state.agents = agents.agents;
  state.teams = teams.teams;
  state.stores = stores.stores;
  state.fieldLabels = {};
  for (const f of forms.forms) for (const fl of f.fields) state.fieldLabels[fl.name] ??= fl.label;
}

// ---- Login, setup, logout

// authScreen is a small form on its own page (login, setup, the code
// step, a forgotten or a new password): submit's answer goes to done
// (by default, the app starts with the agent it names).
function authScreen({ title, hint, fields, submitLabel, submit, done = start, links = [] }) {
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { novalidate: true },
    h('div', { class: 'brand' }, icon('inbox'), t('app_name')),
    h('h1', {}, title),
    hint ? h('p', { class: 'muted auth-hint' }, hint) : null,
    fields.map(([name, label, type, autocomplete, inputmode]) => h('label', { class: 'field' }, h('span', {}, label),
      h('input', { name, type, required: true, autocomplete, id: `f-${name}`, inputmode }))),
    err,
    h('button', { type: 'submit', class: 'btn primary' }, submitLabel),
    links.length ? h('p', { class: 'auth-links' }, links) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      await done(await submit(Object.fromEntries(new FormData(form))));
    } catch (ex) {
      err.textContent = errorText(ex);
      if (ex.field) form.querySelector(`[name="${ex.field}"]`)?.focus();
    } finally { btn.disabled = false; }
  });
  app.replaceChildren(h('div', { class: 'auth' }, form));
  form.querySelector('input').focus();
}

// authLink is a link under an auth form that shows another screen.
const authLink = (id, label, show) => h('a', { href: '#', id, onclick: (e) => { e.preventDefault(); show(); } }, label);

// authMessage replaces an auth screen's form with a message and a link.
function authMessage(title, text, link) {
  app.replaceChildren(h('div', { class: 'auth' }, h('form', { novalidate: true },
    h('div', { class: 'brand' }, icon('inbox'), t('app_name')),
    h('h1', {}, title), h('p', { role: 'status', id: 'auth-message' }, text), h('p', { class: 'auth-links' }, link))));
}

async function showLogin() {
  state.me = null;
  localStorage.removeItem('onedesk.session');
  let needed = false;
  try { needed = (await get('/api/setup')).needed; } catch { /* show login */ }
  if (needed) {
    authScreen({
      title: t('setup_title'), submitLabel: t('setup_submit'),
      fields: [['name', t('your_name'), 'text', 'name'], ['email', t('email'), 'email', 'email'], ['password', t('password_new'), 'password', 'new-password']],
      submit: (v) => post('/api/setup', v),
    });
  } else {
    authScreen({
      title: t('login_title'), submitLabel: t('login_submit'),
      fields: [['email', t('email'), 'email', 'username'], ['password', t('password'), 'password', 'current-password']],
      submit: (v) => post('/api/auth/login', v),
      // An agent with two-factor sign-in gets a login token, not a session.
      done: (res) => (res.login_token ? showCodeStep(res.login_token) : start(res)),
      links: [authLink('forgot', t('login_forgot'), showForgot)],
    });
  }
}

// showCodeStep asks for the code of a login whose password was right.
function showCodeStep(loginToken) {
  authScreen({
    title: t('code_title'), hint: t('code_hint'), submitLabel: t('code_submit'),
    fields: [['code', t('code_label'), 'text', 'one-time-code', 'numeric']],
    submit: (v) => post('/api/auth/login/code', { login_token: loginToken, code: v.code }),
    links: [authLink('back-login', t('back_to_login'), showLogin)],
  });
}

function showForgot() {
  authScreen({
    title: t('forgot_title'), hint: t('forgot_hint'), submitLabel: t('forgot_submit'),
    fields: [['email', t('email'), 'email', 'username']],
    submit: (v) => post('/api/auth/password-reset', v),
    done: () => authMessage(t('forgot_title'), t('forgot_sent'), authLink('back-login', t('back_to_login'), showLogin)),
    links: [authLink('back-login', t('back_to_login'), showLogin)],
  });
}

// showReset is the page a reset link opens: a new password, once.
function showReset(token) {
  const toLogin = () => { history.replaceState(null, '', location.pathname); showLogin(); };
  authScreen({
    title: t('reset_title'), hint: t('reset_hint'), submitLabel: t('reset_submit'),
    fields: [['password', t('password_new'), 'password', 'new-password']],
    submit: (v) => post('/api/auth/password-reset/confirm', { token, password: v.password }),
    done: () => authMessage(t('reset_title'), t('reset_done'), authLink('back-login', t('login_submit'), toLogin)),
    links: [authLink('forgot', t('reset_ask_new'), () => { history.replaceState(null, '', location.pathname); showForgot(); })],
  });
}

// showTwoFactorSetup is all an agent sees, right after the login, while
// the desk requires two-factor sign-in and theirs is not on.
async function showTwoFactorSetup() {
  const box = h('div', { class: 'twofa-box' });
  app.replaceChildren(h('div', { class: 'auth' }, h('div', { class: 'auth-card', id: 'twofa-required' },
    h('div', { class: 'brand' }, icon('inbox'), t('app_name')),
    h('h1', {}, t('twofa_setup_title')),
    h('p', { class: 'muted auth-hint' }, t('twofa_required')),
    box,
    h('p', { class: 'auth-links' }, authLink('setup-logout', t('logout'), logout)))));
  try {
    await twoFactorSetup(box, async () => start(await get('/api/me')));
  } catch (err) { box.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err))); }
}

async function logout() {
  try { await post('/api/auth/logout'); } catch { /* gone already */ }
  socket?.close();
  socket = null;
  showLogin();
}

// ---- Real time

let socket = null;
let backoff = 1000;
let listTimer = null;

function connect() {
  if (socket || !state.me) return;
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/agent/ws`);
  socket = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    backoff = 1000;
    setLive(true);
  };
  ws.onmessage = (e) => {
    let c;
    try { c = JSON.parse(e.data); } catch { return; }
    if (c.type === 'hello') {
      // A reconnect may have missed changes: refetch what is on screen.
      if (state.me) { refreshList(); if (state.openId) loadTicket(state.openId, { quiet: true }); }
      if (viewing) sendFrame({ type: 'viewing', ticket_id: viewing });
      // A hidden tab counts as away for push and email (notify/).
      if (document.hidden) sendFrame({ type: 'visibility', hidden: true });
      return;
    }
    onChange(c);
  };
  ws.onclose = (e) => {
    socket = null;
    setLive(false);
    setViewers(null); // the server forgets them with the socket
    if (!state.me) return;
    if (e.code === 4401) {
      // The session ended (logged out, deactivated, a new password):
      // the server closed the feed; the login screen is next.
      sessionEnded();
      return;
    }
    if (e.code === 1012) {
      // The server is restarting (an update, a service restart): back
      // soon, so try again at once and then from the shortest wait.
      backoff = 1000;
      setTimeout(connect, 250 + Math.random() * 500);
      return;
    }
    if (!opened) {
      // Maybe the session ended: ask the API, which routes to login if so.
      get('/api/me').catch(() => {});
    }
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 30000);
  };
}

// sendFrame tells the server over the agent socket what this agent does
// (viewing, typing); lost when offline: the server forgets it anyway.
function sendFrame(f) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(f));
}

// viewing is the ticket open on screen, told to the server on each
// change and after each (re)connect.
let viewing = 0;
function setViewing(id) {
  if (id === viewing) return;
  viewing = id;
  sendFrame({ type: 'viewing', ticket_id: id });
}

function setLive(live) {
  state.live = live;
  for (const dot of [$('#live'), $('#live-bar')]) {
    if (dot) { dot.classList.toggle('live', live); dot.title = live ? t('live') : t('offline'); }
  }
}

function onChange(c) {
  if (c.type === 'typing' && c.ticket_id === state.openId) { showTyping(); return; }
  if (c.type === 'ticket' || c.type === 'message') refreshUnread();
  if (lastRoute.reports && (c.type === 'ticket' || c.type === 'message' || c.type === 'event')) refreshReports();
  if (c.type === 'viewers') { setViewers(c.ticket_id, c.viewers); return; }
  if (c.type === 'notification') {
    // A rule or a colleague's @mention asks for this agent's attention
    // (the server sends only ours).
    const text = c.notification.kind === 'mention'
      ? t('notify_mention', { name: c.notification.by, id: c.ticket_id, text: c.notification.text })
      : t('notify_rule', { rule: c.notification.by, id: c.ticket_id, subject: c.notification.text });
    toast(text);
    notify({ ticket_id: c.ticket_id, message: { body: text } });
    return;
  }
  if (c.type === 'ticket') {
    const i = state.tickets.findIndex((x) => x.id === c.ticket_id);
    if (i >= 0) {
      const unread = state.tickets[i].unread;
      state.tickets[i] = { ...c.ticket, unread: c.ticket_id === state.openId ? false : unread || c.ticket.unread };
      renderList();
    }
    refreshList();
  }
  // The agent's sound (My settings → Notifications) for a visitor's new
  // chat and a customer's new message on the ticket on screen.
  if (c.type === 'event' && c.event?.type === 'created' && c.event.data?.channel === 'chat' && !c.event.data.agent_started) notifySound('new_chat');
  if (c.type === 'message' && c.message.kind === 'customer' && c.ticket_id === state.openId && !c.message.auto) notifySound('open_ticket');
  if (c.type === 'message' && c.message.kind === 'customer') {
    const row = state.tickets.find((x) => x.id === c.ticket_id);
    if (row && c.ticket_id !== state.openId) { row.unread = true; renderList(); }
    if (document.hidden || c.ticket_id !== state.openId) notify(c);
  }
  if ((c.type === 'message' || c.type === 'event' || c.type === 'ticket') && c.ticket_id === state.openId) {
    reloadOpenTicket();
  }
}

let ticketTimer = null;
function reloadOpenTicket() {
  clearTimeout(ticketTimer);
  ticketTimer = setTimeout(() => { if (state.openId) loadTicket(state.openId, { quiet: true }); }, 30);
}

// refreshList refetches the view soon, coalescing bursts of changes.
function refreshList() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => loadList(), 60);
}

function notify(c) {
  if (document.hidden) {
    state.unseen++;
    document.title = `(${state.unseen}) ${t('app_name')}`;
  }
  if (localStorage.getItem('onedesk.notify') === 'on' && 'Notification' in window && Notification.permission === 'granted' && document.hidden) {
    const n = new Notification(t('notify_title', { id: c.ticket_id }), { body: c.message.body.slice(0, 140), tag: `ticket-${c.ticket_id}` });
    n.onclick = () => { window.focus(); openTicket(c.ticket_id); n.close(); };
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) { state.unseen = 0; document.title = t('app_name'); }
  sendFrame({ type: 'visibility', hidden: document.hidden });
});

async function askNotifications() {
  if (!('Notification' in window)) { toast(t('notify_unsupported'), true); return; }
  if (localStorage.getItem('onedesk.notify') === 'on') {
    localStorage.setItem('onedesk.notify', 'off');
    toast(t('notify_off'));
    return;
  }
  const p = await Notification.requestPermission();
  if (p === 'granted') { localStorage.setItem('onedesk.notify', 'on'); toast(t('notify_on')); } else toast(t('notify_denied'), true);
}

// ---- Keyboard

const shortcuts = [
  ['j', 'key_next'], ['k', 'key_prev'], ['Enter', 'key_open'], ['r', 'key_reply'], ['n', 'key_note'],
  ['a', 'key_assign_me'], ['e', 'key_resolve'], ['x', 'key_select'], ['/', 'key_search'], ['Ctrl+Enter', 'key_send'],
  ['Esc', 'key_escape'], ['?', 'key_help'], ['g r', 'key_reports'], ['c', 'key_new_ticket'], ['m', 'key_macro'],
];

// startTicket opens the New ticket dialog and the ticket it made.
function startTicket(opts = {}) {
  if (!can('tickets.reply')) return; // a light agent writes to no customer
  newTicketDialog({ ...opts, onDone: (d) => { location.hash = `#/${state.view || 'mine'}/t/${d.id}`; refreshList(); } });
}

function help() {
  if ($('#help')) return;
  const close = () => overlay.remove();
  const overlay = h('div', { class: 'overlay', id: 'help', onclick: (e) => { if (e.target === overlay) close(); }, onkeydown: (e) => { if (e.key === 'Escape' || e.key === '?') { e.preventDefault(); close(); } } },
    h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'help-title' },
      h('h2', { id: 'help-title' }, t('shortcuts')),
      h('dl', { class: 'keys' }, shortcuts.map(([k, label]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, t(label))])),
      h('div', { class: 'buttons' }, h('button', { class: 'btn', onclick: close }, t('close')))));
  document.body.append(overlay);
  overlay.querySelector('button').focus();
}

let goPending = 0; // when "g" was pressed, waiting for the page's letter
document.addEventListener('keydown', async (e) => {
  if (!state.me || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  const tag = e.target.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.target.isContentEditable) return;
  if ($('.overlay')) return;
  if (e.key === '?') { e.preventDefault(); help(); return; }
  // "g" then a letter goes to a page: g r, the reports.
  if (goPending && Date.now() - goPending < 1500 && e.key === 'r') { goPending = 0; e.preventDefault(); location.hash = '#/reports'; return; }
  goPending = e.key === 'g' ? Date.now() : 0;
  if (goPending) return;
  if (e.key === 'c') { e.preventDefault(); startTicket(); return; }
  // The ticket keys act on the inbox only (not on a ticket left open behind another page).
  if (lastRoute.admin || lastRoute.customers !== undefined || lastRoute.reports) return;
  const focused = focusedTicket();
  switch (e.key) {
    case 'j': moveFocus(1); break;
    case 'k': moveFocus(-1); break;
    case 'Enter': if (focused) openTicket(focused.id); break;
    case 'x': if (focused) { state.selected.has(focused.id) ? state.selected.delete(focused.id) : state.selected.add(focused.id); renderList(); } break;
    case '/': e.preventDefault(); $('#search')?.focus(); break;
    case 'r': if (state.detail) { e.preventDefault(); focusReply('reply'); } break;
    case 'n': if (state.detail) { e.preventDefault(); focusReply('note'); } break;
    case 'm': if (state.detail) { e.preventDefault(); openMacros(); } break;
    case 'a': case 'e': {
      const id = state.openId ?? focused?.id;
      if (!id) break;
      try {
        await patch(`/api/tickets/${id}`, e.key === 'a' ? { assignee_id: state.me.id } : { status: 'resolved' });
        toast(e.key === 'a' ? t('assigned_to_you', { id }) : t('resolved_n', { id }));
        if (id === state.openId) loadTicket(id, { quiet: true });
        refreshList();
      } catch (err) { toast(errorText(err), true); }
      break;
    }
    default: return;
  }
});

// presenceButton is the agent's online/away switch for live chat.
function presenceButton() {
  const away = state.presence === 'away';
  return h('button', {
    class: `iconbtn presence${away ? ' away' : ''}`, id: 'presence', 'aria-pressed': String(!away),
    title: away ? t('presence_away') : t('presence_online'), 'aria-label': away ? t('presence_away') : t('presence_online'),
    onclick: async () => {
      try {
        const res = await api('PUT', '/api/me/presence', { presence: away ? 'online' : 'away' });
        state.presence = res.presence;
        $('#presence').replaceWith(presenceButton());
      } catch (err) { toast(errorText(err), true); }
    },
  }, h('span', { class: 'presence-dot' }));
}

// ---- Boot

async function start(me) {
  setCSRF(me.csrf_token);
  localStorage.setItem('onedesk.session', '1');
  state.me = { ...me.agent, permissions: me.permissions || [] };
  state.presence = me.presence || 'online';
  if (me.two_factor?.setup_needed) {
    await setLocale(me.agent.language, me.agent.timezone);
    showTwoFactorSetup();
    return;
  }
  // The catalog and the agents, teams and stores load side by side.
  const meta = Promise.all([reloadMeta(), get('/api/event-types').then((r) => { Object.assign(EV, r.event_types); Object.assign(CEV, r.customer_event_types); })])
    .then(() => null, (err) => err);
  await setLocale(me.agent.language, me.agent.timezone);
  document.title = t('app_name');
  const err = await meta;
  if (err) toast(errorText(err), true);
  state.sort = localStorage.getItem('onedesk.sort') || 'updated';
  lastRoute = {};
  state.view = null;
  await route();
  connect();
  watchHistory();
  loadNotifyPrefs();
}

setOnUnauthorized(sessionEnded);

function sessionEnded() {
  if (!state.me) return;
  // The session ended: drafts are in localStorage, the route stays in the URL.
  socket?.close();
  socket = null;
  toast(t('session_ended'), true);
  showLogin();
}

// A reset link opened in a tab that shows the app already.
const resetToken = () => location.hash.match(/^#\/reset\/([\w-]+)$/)?.[1];
window.addEventListener('hashchange', () => (resetToken() ? showReset(resetToken()) : route()));

const theme = () => document.documentElement.setAttribute('data-theme',
  localStorage.getItem('onedesk.theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
theme();
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', theme);

// The service worker keeps the app's shell for an instant start (and an
// install to the home screen); browsers allow it on https and localhost.
if ('serviceWorker' in navigator && window.isSecureContext) {
  addEventListener('load', () => navigator.serviceWorker.register('/sw.js').catch(() => {}));
  // A tapped push notification, in a window the worker could not move.
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data?.type === 'open' && typeof e.data.url === 'string') location.hash = new URL(e.data.url).hash;
  });
}

(async () => {
  // A password reset link opens its own page, signed in or not.
  if (resetToken()) {
    await setLocale(browserLanguage());
    showReset(resetToken());
    return;
  }
  // Without a session there is no need to ask for one (and to log a 401).
  if (!localStorage.getItem('onedesk.session')) {
    await setLocale(browserLanguage());
    showLogin();
    return;
  }
  const me = get('/api/me');
  me.catch(() => {}); // handled below, after the catalog is in
  await setLocale(browserLanguage());
  try {
    await start(await me);
  } catch (err) {
    if (err.status === 401) showLogin();
    else app.replaceChildren(h('div', { class: 'auth' }, h('p', { class: 'error', role: 'alert' }, errorText(err), ' ',
      h('button', { class: 'btn', onclick: () => location.reload() }, t('retry')))));
  }
})();


initInbox({ navigate, openTicket, render: renderList });
// filterBy narrows the ticket list beside the open ticket (a tag, a form field's value).
function filterBy(key, value, label) {
  addFilter(key, value, label);
  state.focus = -1;
  loadList();
}

// toggleCustomer opens the customer panel over a narrow window's thread
// (a history step, so back closes it) or closes it.
function toggleCustomer() {
  if (!state.openId) return;
  if (lastRoute.customer) goBack(`#/${state.view}/t/${state.openId}`);
  else location.hash = `#/${state.view}/t/${state.openId}/customer`;
}

initTicket({ openTicket, refreshList, renderList, filterBy, send: sendFrame, toggleCustomer, readTicket: () => refreshUnread(true) });
