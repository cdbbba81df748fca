// The ticket view: the thread with events, the reply box and the customer.
import { get, patch, post } from './api.js';
import { $, debounce, h, icon, linkify } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { renderOrders } from './customers.js';
import { slaBadge, slaBlock, slaEventText } from './sla.js';
import { csatBadge, csatEvent } from './csat.js';
import { attachPicker, attachReplyPicker, ruleEventText } from './workflow.js';
import { windowBadge, windowNotice } from './whatsapp.js';
import { EV, agentAvatar, agentName, can, errorText, initials, priorities, state, statusPill, storeName, teamName, toast } from './state.js';
import { addressName, bodyText, customerName, identityValue, isVisitorId } from './people.js';
import { showChecklist } from './checklist.js';
import { orderEventText } from './orderactions.js';
import { callDialog, callLine, signaturePreview } from './outreach.js';
import { eventText, openPaletteFor, pickTime, scheduledControls, snoozeControl, viaMacro } from './macros.js';

let hooks = {};
export function initTicket(h) { hooks = h; }

let loadSeq = 0;
let lastSeen = ''; // the ticket and its customer messages last marked read
let customerCache = { id: 0, data: null };

// loadTicket fetches a ticket's whole story and renders it.
export async function loadTicket(id, { quiet } = {}) {
  const seq = ++loadSeq;
  if (!quiet) renderPlaceholder(t('loading'));
  try {
    const d = await get(`/api/tickets/${id}`);
    if (seq !== loadSeq || state.openId !== id) return;
    const first = state.detail?.id !== id;
    state.detail = d;
    renderTicket(first);
    if (customerCache.id !== d.customer_id) customerCache = { id: d.customer_id, data: null };
    loadCustomer(d.customer_id); // their other tickets may have changed too
    if (first) loadOrders(d); // beside the thread, never before it
    // Seen: on opening, and when a customer's message arrives while open.
    const seenKey = `${id}:${d.messages.filter((m) => m.kind === 'customer').length}`;
    if (seenKey !== lastSeen) {
      lastSeen = seenKey;
      post(`/api/tickets/${id}/read`).then(() => hooks.readTicket?.()).catch(() => {});
    }
    const row = state.tickets.find((x) => x.id === id);
    if (row && row.unread) { row.unread = false; hooks.renderList(); }
  } catch (err) {
    if (seq !== loadSeq) return;
    renderPlaceholder(errorText(err), true);
  }
}

async function loadCustomer(id) {
  try {
    const c = await get(`/api/customers/${id}`);
    customerCache = { id, data: c };
  } catch (err) {
    customerCache = { id, data: { error: errorText(err) } };
  }
  renderCustomer();
}

// orders of the open ticket's customer: {id, data} with data null while
// the shop is asked; the server caches answers for two minutes.
let ordersCache = { id: 0, data: null };
async function loadOrders(d, keep) {
  if (!d.store_id) { ordersCache = { id: d.id, data: { orders: [], not_configured: true } }; return; }
  if (!keep) ordersCache = { id: d.id, data: null }; // after an action, the old cards stay until the new ones come
  let data;
  try { data = await get(`/api/tickets/${d.id}/orders`); } catch (err) { data = { error: errorText(err) }; }
  if (ordersCache.id !== d.id) return;
  ordersCache = { id: d.id, data };
  renderCustomer();
}

export function renderPlaceholder(text, isError) {
  const pane = $('#ticket');
  if (!pane) return;
  pane.replaceChildren(h('div', { class: 'placeholder' }, h('div', { role: isError ? 'alert' : 'status', class: isError ? 'error' : '' },
    text ?? h('div', {}, h('strong', {}, t('no_ticket_title')), h('p', {}, t('no_ticket_hint'), ' ', h('kbd', {}, '?'))))));
  if (text == null) showChecklist(pane.firstChild);
}

function draftKey(id, mode) { return `onedesk.draft.${id}.${mode}`; }

let mode = 'reply';
export function setMode(m, focus = true) {
  mode = m;
  const c = $('.composer');
  if (!c) return;
  saveDraft();
  c.classList.toggle('note', m === 'note');
  for (const b of c.querySelectorAll('.modes button')) b.setAttribute('aria-pressed', String(b.dataset.mode === m));
  const ta = $('#reply');
  ta.value = localStorage.getItem(draftKey(state.openId, m)) || '';
  ta.placeholder = m === 'note' ? t('note_placeholder') : t('reply_placeholder');
  for (const b of c.querySelectorAll('[data-reply-only]')) b.hidden = m === 'note';
  $('#send').textContent = m === 'note' ? t('add_note') : t('send');
  $('#send').disabled = state.detail?.status === 'closed' && m === 'reply';
  // The reply box is always on screen: focusing it must not scroll the
  // ticket's header away.
  if (focus) ta.focus({ preventScroll: true });
}

function saveDraft() {
  const ta = $('#reply');
  if (!ta || !state.openId) return;
  const key = draftKey(state.openId, ta.dataset.mode || mode);
  ta.value.trim() ? localStorage.setItem(key, ta.value) : localStorage.removeItem(key);
  ta.dataset.mode = mode;
}

function renderTicket(first) {
  const d = state.detail;
  const pane = $('#ticket');
  if (!pane || !d) return;
  const oldThread = $('#thread');
  const atBottom = !oldThread || oldThread.scrollHeight - oldThread.scrollTop - oldThread.clientHeight < 40;
  const ta = $('#reply');
  const draft = ta ? ta.value : null;
  const hadFocus = document.activeElement === ta;

  // A live update of the ticket on screen keeps the reply box itself:
  // rebuilding it under an agent who is typing loses the caret, keys typed
  // meanwhile and an open saved-reply or @mention picker. Only a change
  // that alters the box (the ticket closed or reopened) rebuilds it.
  const kept = $('.composer');
  const reuse = !first && kept?.dataset.ticket === String(d.id) && kept.dataset.closed === String(d.status === 'closed') && $('#customer');
  const parts = [header(d), thread(d), windowNotice(d, () => loadTicket(d.id, { quiet: true }))].filter(Boolean);
  if (reuse) {
    for (const n of [...kept.parentElement.children]) if (n !== kept) n.remove();
    kept.before(...parts);
  } else {
    const conv = h('section', { class: 'conversation', 'aria-label': t('conversation') }, ...parts, composer(d));
    pane.replaceChildren(conv, h('aside', { class: 'customer', id: 'customer', 'aria-label': t('customer') }));
  }
  renderCustomer();
  renderViewers();
  const th = $('#thread');
  if (first || atBottom) th.scrollTop = th.scrollHeight;
  const nta = $('#reply');
  if (!reuse) {
    nta.value = draft !== null && !first ? draft : localStorage.getItem(draftKey(d.id, mode)) || '';
    nta.dataset.mode = mode;
  }
  if (first) composing = { ticket: d.id, seen: newestId(d), fresh: !nta.value.trim() };
  if (hadFocus && document.activeElement !== nta) nta.focus();
}

// fieldsOpen tells whether a phone shows the ticket's fields (the agent's
// last choice; folded at first).
const fieldsOpen = () => localStorage.getItem('onedesk.ticketFields') === '1';

function header(d) {
  const change = async (body) => {
    try {
      state.detail = { ...state.detail, ...(await patch(`/api/tickets/${d.id}`, body)) };
      renderTicket(false);
      hooks.refreshList();
    } catch (err) { toast(errorText(err), true); renderTicket(false); }
  };
  // What the agent's role may not change is shown, not offered.
  const editable = can('tickets.edit');
  const assignable = editable && can('tickets.assign_others');
  const sel = (label, value, options, onchange, enabled = editable, lead = null) => h('label', {}, h('span', { class: 'cap' }, label), lead,
    h('select', { onchange: (e) => onchange(e.target.value), disabled: !enabled }, options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text))));
  const active = state.agents.filter((a) => a.active || a.id === d.assignee_id);
  return h('header', { class: `t-head${fieldsOpen() ? ' fields-open' : ''}` },
    h('h1', {}, h('span', { class: 'channel-mark', title: t(`channel_${d.channel}`) }, icon(d.channel, t(`channel_${d.channel}`))),
      h('span', { class: 'id' }, `#${d.id}`), d.subject),
    h('div', { class: 't-controls' },
      statusPill(d.status), slaBadge(d), windowBadge(d), csatBadge(d), snoozeControl(d, () => { loadTicket(d.id, { quiet: true }); hooks.refreshList(); }),
      // A phone's reply box swipes its buttons sideways: macros stay in sight here.
      can('tickets.edit') ? h('button', { type: 'button', class: 'btn small t-macros', title: t('macros_button_hint'), onclick: () => openMacros() }, icon('bolt'), t('macros')) : null,
      // On a phone the fields fold under one button (a line of their own
      // each would leave no room for the thread); elsewhere they sit inline.
      h('button', {
        type: 'button', class: 'btn small t-more', id: 't-more', 'aria-controls': 't-fields', 'aria-expanded': String(fieldsOpen()),
        onclick: (e) => {
          const open = !fieldsOpen();
          localStorage.setItem('onedesk.ticketFields', open ? '1' : '0');
          e.currentTarget.setAttribute('aria-expanded', String(open));
          e.currentTarget.closest('.t-head').classList.toggle('fields-open', open);
        },
      }, icon('sliders'), t('ticket_fields')),
      h('div', { class: 't-fields', id: 't-fields' },
        sel(t('status'), d.status, ['new', 'open', 'pending', 'resolved', 'closed'].map((s) => [s, t(`status_${s}`)]), (v) => change({ status: v })),
        sel(t('priority'), d.priority, priorities.map((p) => [p, t(`priority_${p}`)]), (v) => change({ priority: v })),
        sel(t('assignee'), d.assignee_id, [['', t('unassigned')], ...active.map((a) => [a.id, a.name])],
          (v) => change({ assignee_id: v ? Number(v) : null }), assignable, d.assignee_id ? agentAvatar(d.assignee_id) : null),
        sel(t('team'), d.team_id, [['', t('no_team')], ...state.teams.map((x) => [x.id, x.name])],
          (v) => transferDialog(d, v ? Number(v) : null, change), assignable),
        d.store_id ? h('span', { class: 'tag' }, storeName(d.store_id)) : null,
        editable ? tagsEditor(d, change) : d.tags.map((tag) => h('span', { class: 'tag' }, tag))),
      // Where the window is too narrow for the customer panel beside the thread.
      h('button', { type: 'button', class: 'btn small customer-toggle', id: 'customer-toggle', onclick: () => hooks.toggleCustomer?.() }, icon('user'), t('customer'))),
    h('div', { class: 'viewers', id: 'viewers', role: 'status', 'aria-live': 'polite', hidden: true }));
}

// ---- Who else is here: the other agents viewing or typing on a ticket,
// from the agent socket's "viewers" frames.

const viewers = new Map(); // ticket id -> [{agent_id, typing, note}]

// setViewers keeps a ticket's viewers (null forgets them all: the socket
// closed) and shows them when the ticket is open.
export function setViewers(ticketId, list) {
  if (ticketId === null) viewers.clear();
  else if (list.length) viewers.set(ticketId, list);
  else viewers.delete(ticketId);
  renderViewers();
}

function renderViewers() {
  const el = $('#viewers');
  const d = state.detail;
  if (!el || !d) return;
  const others = (viewers.get(d.id) || []).filter((v) => v.agent_id !== state.me.id);
  el.hidden = !others.length;
  el.classList.toggle('replying', others.some((v) => v.typing && !v.note));
  el.replaceChildren(...others.map((v) => {
    const name = agentName(v.agent_id);
    const key = !v.typing ? 'presence_viewing' : v.note ? 'presence_typing_note' : 'presence_typing_reply';
    return h('span', { class: `viewer${v.typing ? ' typing' : ''}` },
      agentAvatar(v.agent_id), t(key, { name }));
  }));
}

function tagsEditor(d, change) {
  const input = h('input', {
    type: 'text', 'aria-label': t('add_tag'), placeholder: t('add_tag'),
    onkeydown: (e) => {
      if (e.key === 'Enter' && e.target.value.trim()) { e.preventDefault(); change({ tags: [...d.tags, e.target.value.trim()] }); }
    },
  });
  return h('span', { class: 'tags-edit' }, d.tags.map((tag) => h('span', { class: 'tag' },
    h('button', { class: 'tag-filter', title: t('filter_show', { filter: tag }), onclick: () => hooks.filterBy('tag', tag, `${t('tag')}: ${tag}`) }, tag),
    h('button', { 'aria-label': t('remove_tag', { tag }), onclick: () => change({ tags: d.tags.filter((x) => x !== tag) }) }, '×'))), input);
}

// transferDialog asks for the handoff note that goes with a team transfer.
function transferDialog(d, teamId, change) {
  document.querySelector('.overlay')?.remove();
  const note = h('textarea', { rows: 3, placeholder: t('handoff_placeholder'), 'aria-label': t('handoff_note') });
  const close = () => { overlay.remove(); renderTicket(false); };
  const overlay = h('div', { class: 'overlay', onkeydown: (e) => { if (e.key === 'Escape') close(); } },
    h('form', {
      class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'transfer-title',
      onsubmit: (e) => { e.preventDefault(); overlay.remove(); change({ team_id: teamId, ...(note.value.trim() ? { note: note.value.trim() } : {}) }); },
    },
    h('h2', { id: 'transfer-title' }, teamId ? t('transfer_to_team', { team: teamName(teamId) }) : t('remove_team')),
    h('label', { class: 'field' }, h('span', {}, t('handoff_note')), note),
    h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('cancel')),
      h('button', { type: 'submit', class: 'btn primary' }, t('transfer')))));
  document.body.append(overlay);
  note.focus();
}

function thread(d) {
  const items = [
    ...d.messages.map((m) => ({ at: m.created_at, id: m.id, kind: 'm', m })),
    ...d.events.filter((e) => ![EV.Replied, EV.Noted, EV.Created, EV.Story, EV.CallLogged].includes(e.type) || e.data?.follow_up_of).map((e) => ({ at: e.created_at, id: e.id, kind: 'e', e })),
  ].sort((a, b) => a.at.localeCompare(b.at) || (a.kind === b.kind ? a.id - b.id : a.kind === 'm' ? -1 : 1));
  const lastHandoff = [...d.events].reverse().find((e) => (e.type === EV.Transferred || e.type === EV.Assigned) && e.data?.note);
  return h('div', { class: 'thread', id: 'thread', role: 'log', 'aria-live': 'polite' },
    lastHandoff ? h('div', { class: 'handoff', role: 'note' }, h('strong', {}, t('handoff_from', { who: actorName(lastHandoff.actor) })), ' ', lastHandoff.data.note) : null,
    items.map((it) => (it.kind === 'm' ? message(it.m, d) : event(it.e))));
}

function actorName(actor) {
  if (actor === 'customer') return t('the_customer');
  if (actor === 'system') return t('system');
  if (actor === 'inactivity') return t('inactivity');
  if (actor.startsWith('rule:')) return t('a_rule');
  return agentName(Number(actor));
}

// personName names who wrote a customer-side message: the customer, or a
// participant (a colleague in Cc) by name or address.
function personName(m, d) {
  const owns = (c) => c.identities.some((i) => i.value.toLowerCase() === (m.from || '').toLowerCase());
  if (!m.from || owns(d.customer)) return d.customer.name || (isVisitorId(m.from) ? customerName(d.customer) : addressName(m.from)) || t('the_customer');
  const p = (d.participants || []).find(owns);
  return p?.name || m.from;
}

function message(m, d) {
  const who = m.kind === 'customer' ? personName(m, d) : m.kind === 'system' ? t('system')
    : m.author_id ? agentName(m.author_id) : t('automatic');
  const label = m.call ? callLine(m.call) : m.kind === 'note' ? t('internal_note') : m.kind === 'agent' ? (m.auto === 'csat' ? t('csat_question_label') : m.auto ? t('acknowledgement') : t('reply')) : isVisitorId(m.from) ? '' : m.from;
  const mentioned = m.kind === 'note' ? d.events.find((e) => e.type === EV.Noted && e.data?.message_id === m.id)?.data?.mentions : null;
  let body = h('div', { class: 'body' }, mentioned?.length ? highlightMentions(m.body, mentioned) : linkify(bodyText(m.body)));
  if (m.html) {
    const toggle = h('button', { class: 'btn small', onclick: () => {
      const frame = h('iframe', { sandbox: '', src: `/api/messages/${m.id}/html`, title: t('formatted_message'), referrerpolicy: 'no-referrer' });
      body.replaceWith(frame);
      toggle.remove();
    } }, t('show_formatted'));
    body = h('div', {}, body, toggle);
  }
  const story = m.kind === 'customer' ? d.events.find((e) => e.type === EV.Story && e.data?.message_id === m.id)?.data : null;
  return h('article', { class: `msg ${m.kind}${m.call ? ' call' : ''}`, 'aria-label': `${label}: ${who}` },
    h('div', { class: 'm-head' }, m.call ? icon('phone') : null, m.kind !== 'customer' && m.author_id ? agentAvatar(m.author_id) : null, h('span', { class: 'who' }, who), h('span', { class: 'muted' }, label),
      m.auto && m.kind === 'customer' ? h('span', { class: 'auto' }, t(`auto_${m.auto}`)) : null,
      h('time', { class: 'when', datetime: m.created_at }, formatDateTime(m.created_at))),
    story ? storyLine(story) : null,
    m.partial ? h('div', { class: 'partial-note', role: 'note' }, t('message_partial', { why: m.partial }), ' ',
      h('a', { href: `/api/messages/${m.id}/source` }, t('message_source'))) : null,
    m.call && !m.body ? null : body,
    m.signature ? h('div', { class: 'msg-signature', title: t('signature') }, m.signature) : null,
    m.attachments.length ? h('div', { class: 'attachments' }, m.attachments.map(attachment)) : null,
    m.delivery === 'scheduled' ? scheduledControls(m, () => loadTicket(m.ticket_id, { quiet: true })) : m.delivery ? delivery(m) : null);
}

// storyLine says that an Instagram message answers one of the shop's
// stories, or that the customer mentioned the shop in theirs (the story's
// media is among the message's files; its link expires with the story).
function storyLine(s) {
  return h('div', { class: 'story-line' }, icon('instagram'), h('span', {}, t(s.kind === 'mention' ? 'story_mention' : 'story_reply')),
    s.url ? [' · ', h('a', { href: s.url, target: '_blank', rel: 'noopener noreferrer nofollow' }, t('story_open'))] : null);
}

function attachment(a) {
  const url = `/api/attachments/${a.id}`;
  if (/^image\/(png|jpeg|gif|webp)$/.test(a.content_type)) {
    return h('a', { href: url, target: '_blank', rel: 'noopener' }, h('img', { src: url, alt: a.filename, loading: 'lazy' }));
  }
  return h('a', { href: `${url}?download=1` }, icon('paperclip'), a.filename, h('span', { class: 'muted' }, formatSize(a.size)));
}

export function formatSize(n) {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${Math.round(n / 1024)} KB` : `${(n / (1 << 20)).toFixed(1)} MB`;
}

function delivery(m) {
  if (m.delivery === 'failed') {
    return h('div', { class: 'delivery failed', role: 'alert' }, t('delivery_failed', { reason: m.delivery_error }),
      h('button', { class: 'btn small', onclick: async () => {
        try { await post(`/api/messages/${m.id}/retry`); loadTicket(m.ticket_id, { quiet: true }); } catch (err) { toast(errorText(err), true); }
      } }, t('retry')));
  }
  if (m.read_at) return h('div', { class: 'delivery read', title: formatDateTime(m.read_at) }, '✓✓ ', t('delivery_read', { when: formatDateTime(m.read_at) }));
  const ticks = { sent: '✓ ', delivered: '✓✓ ' }[m.delivery] || '';
  return h('div', { class: `delivery ${m.delivery}` }, ticks, t(`delivery_${m.delivery}`));
}

function event(e) {
  const who = actorName(e.actor);
  let text;
  switch (e.type) {
    case EV.Assigned: text = e.data.round_robin ? t('ev_round_robin', { to: agentName(e.data.to) })
      : e.data.on_reply ? t('ev_assigned_on_reply', { who })
      : e.data.to ? t('ev_assigned', { who, to: agentName(e.data.to) }) : t('ev_unassigned', { who }); break;
    case EV.SlaBreached: text = slaEventText(e); break;
    case EV.Transferred: text = e.data.to ? t('ev_transferred', { who, to: teamName(e.data.to) }) : t('ev_team_removed', { who }); break;
    case EV.StatusChanged: text = t('ev_status', { who, to: t(`status_${e.data.to}`) }); break;
    case EV.PriorityChanged: text = t('ev_priority', { who, to: t(`priority_${e.data.to}`) }); break;
    case EV.TagsChanged: text = t('ev_tags', { who, tags: (e.data.to || []).join(', ') || '–' }); break;
    case EV.DeliveryFailed: text = t('ev_delivery_failed'); break;
    case EV.DeliveryRetried: text = t('ev_delivery_retried', { who }); break;
    case EV.ParticipantAdded: text = t('ev_participant_added', { who: e.data.identity }); break;
    case EV.MessageEdited: return h('div', { class: 'event' }, t('ev_message_edited'), ' · ',
      h('time', { datetime: e.created_at }, formatDateTime(e.created_at)), h('span', { class: 'note' }, `“${e.data.text}”`));
    case EV.RuleApplied: text = ruleEventText(e); break;
    case EV.OrderAction: text = orderEventText(e, who); break;
    case EV.SurveySent: case EV.Rated: return h('div', { class: 'event csat-event' }, csatEvent(e), ' · ',
      h('time', { datetime: e.created_at }, formatDateTime(e.created_at)), e.data.comment ? h('span', { class: 'note' }, `“${e.data.comment}”`) : null);
    case EV.Merged: case EV.Unmerged:
      if (e.data.ticket_id || e.data.into_ticket_id) {
        const other = e.data.ticket_id || e.data.into_ticket_id;
        return h('div', { class: 'event' }, t(e.data.ticket_id ? 'ev_ticket_merged_from' : 'ev_ticket_merged_into', { who }), ' ',
          h('a', { href: `#/all/t/${other}` }, `#${other}`), ' · ', h('time', { datetime: e.created_at }, formatDateTime(e.created_at)));
      }
      text = t(e.type === EV.Merged ? 'ev_customer_merged' : 'ev_customer_unmerged', { who }); break;
    case EV.Created: return h('div', { class: 'event' }, t('ev_follow_up'), ' ',
      h('a', { href: `#/all/t/${e.data.follow_up_of}` }, `#${e.data.follow_up_of}`), ' · ',
      h('time', { datetime: e.created_at }, formatDateTime(e.created_at)));
    default: text = eventText(e, who) ?? `${e.type} · ${who}`;
  }
  return h('div', { class: `event ev-${e.type}` }, text, viaMacro(e), ' · ', h('time', { datetime: e.created_at }, formatDateTime(e.created_at)),
    e.data?.note ? h('span', { class: 'note' }, `“${e.data.note}”`) : null);
}

// files waiting in the composer, sent with the next reply or note.
let pendingFiles = [];

function fileChips() {
  return h('div', { class: 'files', id: 'pending-files' }, pendingFiles.map((f, i) => h('span', { class: 'file-chip' },
    icon('paperclip'), f.name, h('span', { class: 'muted' }, formatSize(f.size)),
    h('button', { type: 'button', 'aria-label': t('remove_file', { file: f.name }), onclick: () => {
      pendingFiles.splice(i, 1);
      $('#pending-files').replaceWith(fileChips());
    } }, '×'))));
}

const saveDraftSoon = debounce(() => saveDraft(), 400);

// typing tells the chat visitor, at most every three seconds, that the
// agent is writing.
let typingSent = 0;
function typing(id) {
  if (Date.now() - typingSent < 3000) return;
  typingSent = Date.now();
  post(`/api/tickets/${id}/typing`).catch(() => {});
}

// teamTyping tells the other agents, at most every three seconds, that
// this one writes a reply or a note on the ticket (the server forgets it
// six seconds after the last word); an empty box stops it at once.
let teamTypingSent = { at: 0, key: '' };
function teamTyping(id, text) {
  const key = text.trim() ? `${id}.${mode}` : '';
  if (!key) {
    if (teamTypingSent.key) hooks.send?.({ type: 'typing', ticket_id: 0 });
    teamTypingSent = { at: 0, key: '' };
    return;
  }
  if (key === teamTypingSent.key && Date.now() - teamTypingSent.at < 3000) return;
  teamTypingSent = { at: Date.now(), key };
  hooks.send?.({ type: 'typing', ticket_id: id, ...(mode === 'note' ? { note: true } : {}) });
}

// composing remembers the newest message on screen when the agent began
// the draft: a reply sent after someone else's newer one asks first.
let composing = { ticket: 0, seen: 0, fresh: true };
const newestId = (d) => d.messages.reduce((n, m) => Math.max(n, m.id), 0);

// conflictDialog shows the replies sent since the agent began writing and
// resolves true to send anyway, false to keep editing.
function conflictDialog(replies) {
  document.querySelector('.overlay')?.remove();
  return new Promise((resolve) => {
    const done = (ok) => { overlay.remove(); resolve(ok); };
    const last = replies[replies.length - 1];
    const title = last?.author_id ? t('conflict_title', { name: agentName(last.author_id) }) : t('conflict_title_auto');
    const overlay = h('div', { class: 'overlay', onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); done(false); } } },
      h('div', { class: 'dialog conflict', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'conflict-title', 'aria-describedby': 'conflict-hint' },
        h('h2', { id: 'conflict-title' }, title),
        h('p', { id: 'conflict-hint', class: 'muted' }, t('conflict_hint')),
        h('div', { class: 'conflict-replies' }, replies.map((m) => h('article', { class: 'msg agent' },
          h('div', { class: 'm-head' }, h('span', { class: 'who' }, m.author_id ? agentName(m.author_id) : t('automatic')),
            h('time', { class: 'when', datetime: m.created_at }, formatDateTime(m.created_at))),
          h('div', { class: 'body' }, m.body.length > 600 ? `${m.body.slice(0, 600)}…` : m.body)))),
        h('div', { class: 'buttons' },
          h('button', { type: 'button', class: 'btn', id: 'conflict-cancel', onclick: () => done(false) }, t('conflict_keep_editing')),
          h('button', { type: 'button', class: 'btn primary', id: 'conflict-send', onclick: () => done(true) }, t('conflict_send_anyway')))));
    document.body.append(overlay);
    overlay.querySelector('#conflict-cancel').focus();
  });
}

// mentionHandle is what the "@" picker writes for an agent: the name, or
// the email's local part when another agent has the same name.
function mentionHandle(a) {
  const same = state.agents.filter((x) => x.active && x.name.toLocaleLowerCase() === a.name.toLocaleLowerCase());
  return same.length > 1 ? a.email.split('@')[0] : a.name;
}

// mentionCandidates are the active colleagues whose name, a word of it,
// or email starts with what was typed after "@".
function mentionCandidates(query) {
  const q = query.normalize('NFC').toLocaleLowerCase().trimStart();
  return state.agents.filter((a) => {
    if (!a.active || a.id === state.me.id) return false;
    const name = a.name.normalize('NFC').toLocaleLowerCase();
    if (q.includes(' ')) return name.startsWith(q);
    return !q || name.split(/\s+/).some((w) => w.startsWith(q)) || a.email.toLocaleLowerCase().startsWith(q);
  }).sort((a, b) => a.name.localeCompare(b.name)).slice(0, 8);
}

// highlightMentions renders a note's text with the "@names" of the agents
// it mentions marked (the server's rule: full name, email local part or
// first name, any case, ending where a word ends).
function highlightMentions(text, ids) {
  const esc = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const handles = ids.flatMap((id) => {
    const a = state.agents.find((x) => x.id === id);
    return a ? [a.name, a.name.split(/\s+/)[0], a.email.split('@')[0]].map((x) => x.normalize('NFC')) : [];
  }).sort((a, b) => b.length - a.length);
  if (!handles.length) return linkify(text);
  const re = new RegExp(`(^|[^\\p{L}\\p{N}\\p{M}_-])@(${handles.map(esc).join('|')})(?![\\p{L}\\p{N}\\p{M}_-])`, 'giu');
  const src = text.normalize('NFC');
  const out = [];
  let last = 0;
  for (const m of src.matchAll(re)) {
    const at = m.index + m[1].length;
    out.push(...linkify(src.slice(last, at)), h('span', { class: 'mention' }, `@${m[2]}`));
    last = at + 1 + m[2].length;
  }
  out.push(...linkify(src.slice(last)));
  return out;
}

function composer(d) {
  const closed = d.status === 'closed';
  const replies = can('tickets.reply'); // a light agent writes notes only
  if (!replies) mode = 'note';
  if (pendingFiles.ticket !== d.id) { pendingFiles = []; pendingFiles.ticket = d.id; }
  const picker = h('input', { type: 'file', multiple: true, hidden: true, onchange: (e) => {
    pendingFiles.push(...e.target.files);
    e.target.value = '';
    $('#pending-files').replaceWith(fileChips());
  } });
  const send = async (status, confirmed, sendAt) => {
    const ta = $('#reply');
    const body = ta.value;
    if (!body.trim() && !pendingFiles.length) { ta.focus(); return; }
    const buttons = $$buttons();
    buttons.forEach((b) => { b.disabled = true; });
    const seen = composing.ticket === d.id ? composing.seen : newestId(state.detail);
    let conflict = null;
    try {
      const unsigned = mode !== 'note' && sig.off();
      let req = { body, internal: mode === 'note', seen_message_id: seen, ...(confirmed ? { confirm: true } : {}), ...(status && mode !== 'note' ? { status } : {}),
        ...(unsigned ? { signature: false } : {}), ...(sendAt && mode !== 'note' ? { send_at: sendAt } : {}) };
      if (pendingFiles.length) {
        req = new FormData();
        req.set('body', body);
        req.set('internal', String(mode === 'note'));
        req.set('seen_message_id', String(seen));
        if (confirmed) req.set('confirm', 'true');
        if (status && mode !== 'note') req.set('status', status);
        if (unsigned) req.set('signature', 'false');
        if (sendAt && mode !== 'note') req.set('send_at', sendAt);
        pendingFiles.forEach((f) => req.append('files', f, f.name));
      }
      await post(`/api/tickets/${d.id}/messages`, req);
      pendingFiles = [];
      pendingFiles.ticket = d.id;
      $('#pending-files')?.replaceWith(fileChips()); // the box itself outlives the reload below
      ta.value = '';
      localStorage.removeItem(draftKey(d.id, mode));
      composing = { ticket: d.id, seen: 0, fresh: true };
      teamTyping(d.id, '');
      await loadTicket(d.id, { quiet: true });
      hooks.refreshList();
    } catch (err) {
      saveDraft(); // the text stays in the box and in the draft
      if (err.status === 409 && err.field === 'seen_message_id') conflict = err.data?.messages || [];
      else toast(errorText(err), true);
    } finally {
      $$buttons().forEach((b) => { b.disabled = false; });
    }
    if (conflict) {
      loadTicket(d.id, { quiet: true }); // the other reply joins the thread behind the dialog
      const go = await conflictDialog(conflict);
      // Seen now: a later send of this draft does not ask again.
      composing = { ticket: d.id, seen: Math.max(seen, ...conflict.map((m) => m.id)), fresh: false };
      if (go) send(status, true, sendAt);
      else $('#reply')?.focus();
    }
  };
  const ta = h('textarea', {
    id: 'reply', 'aria-label': t('message'), placeholder: mode === 'note' ? t('note_placeholder') : closed ? t('closed_hint') : t('reply_placeholder'),
    oninput: (e) => {
      saveDraftSoon(e);
      if (d.channel === 'chat' && mode === 'reply') typing(d.id);
      teamTyping(d.id, e.target.value);
      if (!e.target.value.trim()) composing.fresh = true;
      else if (composing.fresh || composing.ticket !== d.id) composing = { ticket: d.id, seen: newestId(state.detail), fresh: false };
    },
    onkeydown: (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
      if (e.key === 'Escape') e.target.blur();
    },
  });
  const openPicker = attachReplyPicker(ta, d.id);
  attachPicker(ta, {
    label: t('mention_agents'),
    match: (before) => (mode === 'note' ? /(?:^|[^\p{L}\p{N}\p{M}_-])@([^\n@/]{0,40})$/u.exec(before)?.[1] ?? null : null),
    items: mentionCandidates,
    row: (a) => [agentAvatar(a.id), h('strong', {}, a.name), h('span', {}, a.email)],
    pick: (a, from, to) => {
      ta.setRangeText(`@${mentionHandle(a)} `, from, to, 'end');
      ta.dispatchEvent(new Event('input'));
      ta.focus();
    },
  });
  // What an emailed reply is signed with, under the editor (replies only).
  const sig = signaturePreview(d.reply_signature || '', { id: 'reply-sig', compact: true });
  const modeBtn = (m, label) => h('button', { type: 'button', dataset: { mode: m }, 'aria-pressed': String(mode === m), onclick: () => setMode(m) }, label);
  return h('form', {
    class: `composer${mode === 'note' ? ' note' : ''}`, onsubmit: (e) => { e.preventDefault(); send(); },
    'aria-label': t('reply_box'), dataset: { ticket: d.id, closed: closed },
  },
  h('p', { id: 'typing', class: 'typing', hidden: true, role: 'status' }, t('customer_typing')),
  h('div', { class: 'modes' }, replies ? modeBtn('reply', t('reply')) : null, modeBtn('note', t('internal_note'))),
  h('div', { class: 'reply-wrap' }, ta),
  sig,
  fileChips(),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', id: 'send', class: 'btn primary', disabled: closed && mode === 'reply' }, mode === 'note' ? t('add_note') : t('send')),
    h('button', { type: 'button', class: 'btn', 'data-reply-only': '', hidden: mode === 'note', disabled: closed, onclick: () => send('resolved') }, t('send_resolve')),
    h('button', { type: 'button', class: 'btn', 'data-reply-only': '', hidden: mode === 'note', disabled: closed, onclick: () => send('pending') }, t('send_pending')),
    h('button', { type: 'button', class: 'btn', id: 'send-later', 'data-reply-only': '', hidden: mode === 'note', disabled: closed,
      onclick: () => { if ($('#reply').value.trim()) pickTime(t('send_later'), t('schedule_send'), (at) => send(null, false, at)); else $('#reply').focus(); } }, t('send_later')),
    picker,
    h('button', { type: 'button', class: 'btn icon-only', title: t('attach_files'), 'aria-label': t('attach_files'), onclick: () => picker.click() }, icon('paperclip')),
    h('button', { type: 'button', class: 'btn small saved-replies-btn', title: t('saved_replies_button_hint'), onclick: openPicker }, t('saved_replies')),
    can('tickets.edit') ? h('button', { type: 'button', class: 'btn small', id: 'macros-btn', title: t('macros_button_hint'), onclick: () => openMacros() }, t('macros')) : null,
    h('button', { type: 'button', class: 'btn small', id: 'log-call', title: t('call_log'), onclick: () => callDialog(d, () => loadTicket(d.id, { quiet: true })) }, icon('phone'), t('call_log')),
    h('span', { class: 'hint' }, t('send_hint'))));
}

function $$buttons() { return [...document.querySelectorAll('.composer button[type=submit], .composer .actions button')]; }


function renderCustomer() {
  const el = $('#customer');
  const d = state.detail;
  if (!el || !d) return;
  const c = customerCache.id === d.customer_id ? customerCache.data : null;
  const cust = d.customer;
  el.replaceChildren(...[
    slaBlock(d),
    h('div', {}, h('h2', {}, t('customer')),
      h('a', { class: 'name', href: `#/customers/${cust.id}`, title: t('customer_open') }, h('span', { class: 'avatar' }, initials(customerName(cust))), customerName(cust))),
    c?.suggestions?.length ? h('div', { class: 'suggestions' }, h('h2', {}, t('suggestions')),
      c.suggestions.map((s) => h('p', {}, h('a', { href: `#/customers/${cust.id}` }, s.name || `#${s.customer_id}`), ` · ${s.identity.value}`,
        h('span', { class: 'muted' }, ` — ${t(`suggestion_${s.reason}`)}`)))) : null,
    ordersSection(d),
    h('div', {}, h('h2', {}, t('identities')),
      h('ul', { class: 'identities' }, cust.identities.map((i) => h('li', {}, h('span', { class: 'kind' }, t(`identity_${i.kind}`)), identityValue(i, cust.id))))),
    Object.keys(d.fields || {}).length ? h('div', {}, h('h2', {}, t('ticket_details')),
      h('dl', { class: 'fields' }, Object.entries(d.fields).filter(([, v]) => v !== '' && v != null).flatMap(([k, v]) => {
        const label = ['page', 'browser', 'locale', 'offline'].includes(k) ? t(`field_${k}`) : state.fieldLabels?.[k] || k;
        const shown = typeof v === 'boolean' ? (v ? '✓' : '✗') : String(v);
        const link = /^https?:\/\//.test(String(v));
        return [h('dt', {}, label), h('dd', {}, link ? h('a', { href: String(v), target: '_blank', rel: 'noopener noreferrer' }, String(v)) : shown,
          // Short values (a topic, an order number) are worth a list of their own.
          !link && String(v).length <= 100 && typeof v !== 'object' ? h('button', {
            class: 'icon-btn field-filter', title: t('filter_show', { filter: `${label}: ${shown}` }), 'aria-label': t('filter_show', { filter: `${label}: ${shown}` }),
            onclick: () => hooks.filterBy(`field.${k}`, v, `${label}: ${shown}`),
          }, icon('filter')) : null)];
      }))) : null,
    d.participants?.length ? h('div', {}, h('h2', {}, t('participants')),
      h('ul', { class: 'identities' }, d.participants.map((p) => h('li', {}, p.name ? `${p.name} · ` : '', p.identities[0]?.value || '')))) : null,
    h('div', {}, h('h2', {}, t('customer_tickets')),
      !c ? h('p', { class: 'muted' }, t('loading'))
        : c.error ? h('p', { class: 'error' }, c.error)
          : h('ul', { class: 'other-tickets' }, c.tickets.map((x) => h('li', {},
            h('button', { class: x.id === d.id ? 'current' : '', onclick: () => hooks.openTicket(x.id) },
              icon(x.channel, t(`channel_${x.channel}`)), h('span', {}, `#${x.id} ${x.subject}`), statusPill(x.status),
              h('span', { class: 's' }, formatDateTime(x.created_at))),
            x.id !== d.id && x.status !== 'closed' && d.status !== 'closed' ? h('button', { class: 'merge-here', title: t('merge_ticket_hint', { id: x.id }),
              'aria-label': t('merge_ticket_hint', { id: x.id }), onclick: () => mergeTicket(d, x) }, t('merge_ticket')) : null)))),
  ].filter(Boolean)); // the optional sections are null when empty
}

function ordersSection(d) {
  const o = ordersCache.id === d.id ? ordersCache.data : null;
  if (o?.not_configured) return null;
  return h('div', { class: 'orders-panel' }, h('h2', {}, t('orders_heading')),
    !o ? h('p', { class: 'muted' }, t('orders_loading')) : o.error ? h('p', { class: 'error' }, o.error)
      : renderOrders(o, { ticket: d, onDone: () => loadOrders(d, true) }));
}

async function mergeTicket(d, other) {
  if (!confirm(t('merge_ticket_confirm', { from: other.id, into: d.id }))) return;
  try {
    await post(`/api/tickets/${d.id}/merge`, { ticket_id: other.id });
    toast(t('merged_done'));
    loadTicket(d.id, { quiet: true });
  } catch (err) { toast(errorText(err), true); }
}

// showTyping shows, for a few seconds, that the chat visitor is typing.
let typingTimer;
export function showTyping() {
  const note = $('#typing');
  if (!note) return;
  note.hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { note.hidden = true; }, 4000);
}

// openMacros is "m": the macro palette for the open ticket. A macro's
// reply that is not sent at once lands in the reply box to edit.
export function openMacros() {
  const d = state.detail;
  openPaletteFor(d, async (res) => {
    await loadTicket(d.id, { quiet: true });
    hooks.refreshList();
    if (res.reply && state.openId === d.id) {
      setMode('reply');
      const ta = $('#reply');
      ta.value = ta.value.trim() ? `${ta.value.trimEnd()}\n\n${res.reply}` : res.reply;
      ta.dispatchEvent(new Event('input'));
      ta.focus();
    }
  });
}

// focusReply opens the reply box in a mode (r = reply, n = note).
export function focusReply(m) {
  if (!state.detail) return;
  setMode(m);
}
