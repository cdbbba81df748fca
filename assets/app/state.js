// Shared state of the app and small helpers every screen uses.
import { h } from './dom.js';
import { t } from './i18n.js';

export const state = {
  me: null,
  agents: [],
  teams: [],
  stores: [],
  slaPolicies: [],
  view: 'open', // inbox view key, see views()
  sort: 'updated',
  q: '',
  // Narrowing of the current view: {key: 'tag'|'priority'|'field.NAME', value, label}.
  filters: [],
  tickets: [],
  next: '',
  loading: false,
  listError: '',
  focus: -1, // index of the keyboard-focused row
  selected: new Set(),
  openId: null,
  detail: null,
  live: false,
  unseen: 0, // customer messages that arrived while the tab was hidden
};

// EV names the ticket event types, from the server's one list
// (/api/event-types: EV.StatusChanged is 'status_changed'); filled at start.
export const EV = {};
// CEV names the customer event types the same way (CEV.IdentityAdded).
export const CEV = {};

// can tells whether the signed-in agent's role has a permission (the
// server's list, from /api/me); the server checks every request anyway.
export const can = (perm) => (state.me?.permissions || []).includes(perm);

export const agentName = (id) => state.agents.find((a) => a.id === id)?.name ?? (id ? `#${id}` : '');
export const teamName = (id) => state.teams.find((x) => x.id === id)?.name ?? (id ? `#${id}` : '');
export const storeName = (id) => state.stores.find((x) => x.id === id)?.name ?? '';

// agentAvatar is an agent's picture over their initials, for lists: the
// box has a fixed size (nothing moves when the picture comes), the picture
// loads lazily from an address that never changes its content (the
// browser keeps it), and the initials stay when there is none or it fails.
// With named, it stands for the agent (no name beside it): a title and
// an accessible name; else it is decoration beside their name.
export function agentAvatar(id, { size = 'small', named = false } = {}) {
  const a = state.agents.find((x) => x.id === id);
  const name = a?.name ?? agentName(id);
  const box = h('span', {
    class: `avatar${size ? ` ${size}` : ''}`, dataset: { agent: id },
    ...(named ? { role: 'img', title: name, 'aria-label': name } : { 'aria-hidden': 'true' }),
  }, initials(name));
  if (a?.avatar_url) {
    box.append(h('img', { src: a.avatar_url, alt: '', loading: 'lazy', decoding: 'async', onerror: (e) => e.target.remove() }));
  }
  return box;
}

export function initials(name) {
  // Words that start with a letter: "Rui Costa (@ruic)" is RC.
  const words = (name || '?').trim().split(/\s+/);
  const letters = words.filter((w) => /^\p{L}/u.test(w));
  const parts = letters.length ? letters : words;
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

export const statuses = ['new', 'open', 'pending', 'resolved', 'closed'];
export const priorities = ['low', 'normal', 'high', 'urgent'];
export const channels = ['email', 'chat', 'form', 'telegram', 'whatsapp', 'instagram', 'messenger', 'api', 'phone'];

// views lists the inbox views with the API filter behind each.
export function views() {
  const active = 'new,open,pending';
  const list = [
    { key: 'unassigned', label: t('view_unassigned'), query: 'status=new,open&assignee=none' },
    { key: 'mine', label: t('view_mine'), query: `status=${active}&assignee=me` },
    { key: 'open', label: t('view_open'), query: 'status=new,open' },
    { key: 'pending', label: t('view_pending'), query: 'status=pending' },
    { key: 'snoozed', label: t('view_snoozed'), query: 'status=pending&snoozed=true', icon: 'clock' },
    { key: 'resolved', label: t('view_resolved'), query: 'status=resolved,closed' },
  ];
  // With SLA policies, the tickets past a due time have a view of their own.
  if (state.slaPolicies.length) list.splice(3, 0, { key: 'overdue', label: t('view_overdue'), query: `status=${active}&sla=breached`, icon: 'clock', sla: true });
  for (const team of state.teams) list.push({ key: `team:${team.id}`, group: 'teams', label: team.name, query: `status=${active}&team=${team.id}` });
  for (const ch of channels) list.push({ key: `channel:${ch}`, group: 'channels', label: t(`channel_${ch}`), query: `status=${active}&channel=${ch}`, channel: ch });
  for (const st of state.stores) list.push({ key: `store:${st.id}`, group: 'stores', label: st.name, query: `status=${active}&store=${st.id}` });
  return list;
}

export function statusPill(status) {
  return h('span', { class: `pill ${status}` }, t(`status_${status}`));
}

// addFilter narrows the inbox to tickets with key=value (one value per key).
export function addFilter(key, value, label) {
  state.filters = state.filters.filter((f) => f.key !== key).concat({ key, value: String(value), label });
}

let toastTimer;
export function toast(message, isError) {
  document.querySelector('.toast')?.remove();
  const el = h('div', { class: `toast${isError ? ' error' : ''}`, role: isError ? 'alert' : 'status' }, message);
  document.body.append(el);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.remove(), isError ? 6000 : 2500);
}

// errorText turns an API error into the sentence to show.
export function errorText(err) {
  if (err?.status === 0) return t('error_network');
  return err?.message || t('error_unknown');
}
