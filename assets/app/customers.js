// The customers page: search, and a profile with every identity, notes,
// who may be the same person, merges that can be undone, the orders in
// each store and one timeline across channels and stores. Also the order
// cards the ticket's side panel shows.
import { get, patch, post } from './api.js';
import { $, debounce, h, icon } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { CEV, can, errorText, initials, state, statusPill, storeName, toast } from './state.js';
import { customerName, identityValue } from './people.js';
import { callLine, newTicketDialog } from './outreach.js';
import { actionButtons, actionHistory } from './orderactions.js';

const kinds = ['email', 'phone', 'whatsapp', 'telegram', 'instagram', 'messenger'];
let searchSeq = 0;

// renderCustomers draws the page into main: the list beside the profile
// of the customer id (or none).
export async function renderCustomers(main, id) {
  let list = $('#customer-list', main);
  if (!list) {
    const q = h('input', { type: 'search', id: 'customer-q', placeholder: t('customers_search'), 'aria-label': t('customers_search'),
      value: sessionStorage.getItem('onedesk.customers.q') || '' });
    q.addEventListener('input', debounce(() => search(q.value), 200));
    list = h('div', { id: 'customer-list', class: 'customer-results', role: 'list' });
    main.replaceChildren(h('div', { class: 'customers-page' },
      h('section', { class: 'customers-list' }, h('div', { class: 'customers-head' }, h('h1', {}, t('nav_customers')), csvButton(q)),
        h('div', { class: 'search', role: 'search' }, icon('search'), q), list),
      h('section', { class: 'customer-profile', id: 'customer-profile', 'aria-live': 'polite' })));
    search(q.value);
  }
  markCurrent(id);
  // A phone shows the list or one profile (its bar's back goes to the list).
  $('.customers-page', main)?.classList.toggle('has-profile', !!id);
  const pane = $('#customer-profile', main);
  if (!id) {
    pane.replaceChildren(h('div', { class: 'placeholder' }, h('p', { class: 'muted' }, t('customers_pick'))));
    return;
  }
  pane.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  try {
    const c = await get(`/api/customers/${id}`);
    if (c.id !== id) { location.replace(`#/customers/${c.id}`); return; } // merged away: the API led to the one kept
    profile(pane, c);
  } catch (err) {
    pane.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
  }
}

// csvButton opens Import CSV (its module loaded then) for whoever may
// edit customers in every store.
function csvButton(q) {
  if (!can('customers.edit') || state.me?.store_ids?.length) return null;
  return h('button', { class: 'btn small', id: 'customers-csv', onclick: async () => {
    const { csvImportDialog } = await import('./customers_csv.js');
    csvImportDialog(() => search(q.value));
  } }, icon('upload'), t('csv_import'));
}

function markCurrent(id) {
  for (const el of document.querySelectorAll('#customer-list [data-id]')) el.setAttribute('aria-current', String(Number(el.dataset.id) === id));
}

async function search(q, cursor) {
  sessionStorage.setItem('onedesk.customers.q', q);
  const seq = ++searchSeq;
  const list = $('#customer-list');
  try {
    const r = await get(`/api/customers?q=${encodeURIComponent(q)}${cursor ? `&cursor=${cursor}` : ''}`);
    if (seq !== searchSeq || !list) return;
    const rows = r.customers.map((c) => h('a', { class: 'customer-row', role: 'listitem', href: `#/customers/${c.id}`, dataset: { id: c.id } },
      h('span', { class: 'avatar' }, initials(customerName(c))),
      h('span', { class: 'who' }, h('strong', {}, customerName(c)),
        h('span', { class: 'muted' }, c.identities.filter((i) => i.kind !== 'visitor').map((i) => i.value).join(' · ') || t('identity_visitor')))));
    if (!cursor) list.replaceChildren(...rows, ...(rows.length ? [] : [h('p', { class: 'muted' }, t('customers_none'))]));
    else { list.querySelector('.more')?.remove(); list.append(...rows); }
    if (r.next_cursor) list.append(h('button', { class: 'btn small more', onclick: () => search(q, r.next_cursor) }, t('load_more')));
    markCurrent(Number(location.hash.split('/')[2]) || 0);
  } catch (err) {
    if (seq === searchSeq) list.replaceChildren(h('p', { class: 'error' }, errorText(err)));
  }
}

// mergedIdentities are those a merge (not undone) brought: they can be
// split back off.
function mergedIdentities(c) {
  const key = (i) => `${i.kind}:${i.value}`;
  const live = new Set();
  for (const e of c.events) {
    if (e.customer_id !== c.id || e.data.customer_id !== c.id) continue;
    for (const i of e.data.identities || []) {
      if (e.type === CEV.Merged) live.add(key(i)); else if (e.type === CEV.Unmerged) live.delete(key(i));
    }
  }
  return (i) => live.has(key(i));
}

function profile(pane, c) {
  const reload = () => renderCustomers(document.getElementById('admin'), c.id);
  const act = async (fn, done) => {
    try { await fn(); toast(done); reload(); } catch (err) { toast(errorText(err), true); }
  };
  const fromMerge = mergedIdentities(c);
  const name = h('input', { value: c.name, 'aria-label': t('name'), class: 'name-input', placeholder: customerName({ ...c, name: '' }) });
  name.addEventListener('change', () => act(() => patch(`/api/customers/${c.id}`, { name: name.value }), t('saved')));
  const notes = h('textarea', { rows: 4, 'aria-label': t('customer_notes'), placeholder: t('customer_notes_hint') }, c.notes);
  const kind = h('select', { 'aria-label': t('identity_kind') }, kinds.map((k) => h('option', { value: k }, t(`identity_${k}`))));
  const value = h('input', { 'aria-label': t('identity_value'), placeholder: 'ana@example.com' });
  const addIdentity = h('form', { class: 'row-form', onsubmit: (e) => {
    e.preventDefault();
    act(() => post(`/api/customers/${c.id}/identities`, { kind: kind.value, value: value.value }), t('saved'));
  } }, kind, value, h('button', { class: 'btn small' }, t('add')));

  pane.replaceChildren(
    ...[h('header', { class: 'profile-head' }, h('span', { class: 'avatar big' }, initials(customerName(c))),
      h('div', {}, name, h('p', { class: 'muted' }, t('customer_since', { date: formatDateTime(c.created_at) }), ' · #', String(c.id))),
      h('div', { class: 'profile-actions' },
        !can('tickets.reply') ? null : h('button', { class: 'btn primary small', id: 'customer-write', onclick: () => newTicketDialog({ customer: c, onDone: (d) => { location.hash = `#/all/t/${d.id}`; } }) }, icon('email'), t('customer_write')),
        !can('tickets.reply') ? null : h('button', { class: 'btn small', id: 'customer-call', onclick: () => newTicketDialog({ customer: c, kind: 'call', onDone: reload }) }, icon('phone'), t('call_log')))),
    c.suggestions.length ? h('div', { class: 'card suggestions', role: 'region', 'aria-label': t('suggestions') },
      h('h2', {}, t('suggestions')),
      c.suggestions.map((s) => h('div', { class: 'suggestion' },
        h('span', {}, h('a', { href: `#/customers/${s.customer_id}` }, s.name || `#${s.customer_id}`), ' · ', s.identity.value,
          h('span', { class: 'muted' }, ` — ${t(`suggestion_${s.reason}`)}`)),
        h('span', { class: 'actions' },
          mergeButton(c, s.customer_id, s.name, act),
          s.reason === 'claimed' ? h('button', { class: 'btn small', onclick: () => act(() => post(`/api/customers/${c.id}/dismiss`,
            { customer_id: s.customer_id, kind: s.identity.kind, value: s.identity.value }), t('dismissed')) }, t('not_same_person')) : null)))) : null,
    h('div', { class: 'profile-grid' },
      h('div', {},
        h('div', { class: 'card' }, h('h2', {}, t('identities')),
          h('ul', { class: 'identities' }, c.identities.map((i) => h('li', {}, h('span', { class: 'kind' }, t(`identity_${i.kind}`)), h('span', { class: 'v' }, identityValue(i, c.id)),
            fromMerge(i) ? h('button', { class: 'btn small', title: t('split_off_hint'), onclick: () => confirm(t('split_off_confirm', { value: i.value }))
              && act(() => post(`/api/customers/${c.id}/unmerge`, i), t('split_off_done')) }, t('split_off')) : null))),
          addIdentity),
        h('div', { class: 'card' }, h('h2', {}, t('customer_notes')), notes,
          h('button', { class: 'btn small', onclick: () => act(() => patch(`/api/customers/${c.id}`, { notes: notes.value }), t('saved')) }, t('save'))),
        mergeBox(c, act),
        privacyCard(c, reload),
        h('div', { class: 'card' }, h('h2', {}, t('customer_tickets')),
          h('ul', { class: 'other-tickets' }, c.tickets.map((x) => h('li', {},
            h('a', { href: `#/all/t/${x.id}` }, icon(x.channel, t(`channel_${x.channel}`)), h('span', {}, `#${x.id} ${x.subject}`), statusPill(x.status),
              x.store_id ? h('span', { class: 's' }, storeName(x.store_id)) : null, h('span', { class: 's' }, formatDateTime(x.created_at))))))),
        ordersCard(c)),
      h('div', { class: 'card timeline-card' }, h('h2', {}, t('timeline')), timeline(c.id)))]
      .filter(Boolean)); // replaceChildren would write an absent section as the text "null"
}

// privacyCard (admins) exports everything about the customer as one ZIP,
// or erases it once the admin types the customer's name or an address.
function privacyCard(c, reload) {
  if (state.me.role !== 'admin') return null;
  return h('div', { class: 'card privacy-card' }, h('h2', {}, t('privacy_heading')), h('p', { class: 'muted' }, t('privacy_hint')),
    h('div', { class: 'actions' },
      h('a', { class: 'btn small', href: `/api/customers/${c.id}/export`, download: '' }, icon('download'), ' ', t('export_data')),
      h('button', { class: 'btn small danger', id: 'erase-customer', onclick: () => eraseDialog(c, reload) }, t('erase_customer'))));
}

function eraseDialog(c, reload) {
  document.querySelector('.overlay')?.remove();
  // What to type: the name, else the first address, else the number.
  const what = c.name.trim() || c.identities.find((i) => i.kind !== 'visitor')?.value || String(c.id);
  const input = h('input', { id: 'erase-confirm', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'erase-warning' });
  const err = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary danger', disabled: true }, t('erase_submit'));
  input.addEventListener('input', () => { submit.disabled = input.value.trim().toLowerCase() !== what.toLowerCase(); });
  const close = () => overlay.remove();
  const form = h('form', {
    class: 'dialog erase', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'erase-title',
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      submit.disabled = true;
      try {
        const n = await post(`/api/customers/${c.id}/erase`, { confirm: input.value.trim() });
        close();
        toast(t('erase_done', { tickets: n.tickets, files: n.files }));
        reload();
      } catch (ex) {
        err.textContent = errorText(ex);
        input.focus();
        submit.disabled = false;
      }
    },
  },
  h('h2', { id: 'erase-title' }, t('erase_title', { name: customerName(c) })),
  h('p', { id: 'erase-warning' }, t('erase_warning')),
  h('label', { class: 'field' }, h('span', { class: 'confirm-what' }, t('erase_type', { what: `“${what}”` })), input),
  err,
  h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('cancel')), submit));
  const overlay = h('div', {
    class: 'overlay', id: 'erase',
    onclick: (e) => { if (e.target === overlay) close(); },
    onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); close(); } },
  }, form);
  document.body.append(overlay);
  input.focus();
}

// mergeButton merges customer otherId into c, once the agent confirms.
function mergeButton(c, otherId, otherName, act) {
  return h('button', { class: 'btn small primary', onclick: () => confirm(t('merge_confirm', { other: otherName || `#${otherId}`, into: c.name || `#${c.id}` }))
    && act(() => post(`/api/customers/${c.id}/merge`, { customer_id: otherId }), t('merged_done')) }, t('merge_into_this'));
}

// mergeBox finds another customer to merge into this one.
function mergeBox(c, act) {
  const results = h('div', { class: 'merge-results' });
  const q = h('input', { type: 'search', placeholder: t('merge_search'), 'aria-label': t('merge_search') });
  q.addEventListener('input', debounce(async () => {
    if (!q.value.trim()) { results.replaceChildren(); return; }
    const r = await get(`/api/customers?q=${encodeURIComponent(q.value)}`);
    results.replaceChildren(...r.customers.filter((o) => o.id !== c.id).slice(0, 5).map((o) => h('div', { class: 'suggestion' },
      h('span', {}, o.name || `#${o.id}`, h('span', { class: 'muted' }, ` · ${o.identities.map((i) => i.value).join(', ')}`)),
      mergeButton(c, o.id, o.name, act))));
  }, 250));
  return h('details', { class: 'card merge-box' }, h('summary', {}, t('merge_heading')), h('p', { class: 'muted' }, t('merge_hint')), q, results);
}

function ordersCard(c) {
  const shops = state.stores.filter((s) => s.orders?.shopify_domain || s.orders?.lookup_url || s.orders?.woo_url);
  if (!shops.length) return null;
  const box = h('div', {});
  const card = h('div', { class: 'card' }, h('h2', {}, t('orders_heading')), box);
  for (const s of shops) {
    const part = h('div', {}, shops.length > 1 ? h('h3', {}, s.name) : null, h('p', { class: 'muted' }, t('loading')));
    box.append(part);
    get(`/api/customers/${c.id}/orders?store=${s.id}`)
      .then((r) => part.replaceChildren(...[shops.length > 1 ? h('h3', {}, s.name) : null, renderOrders(r)].filter(Boolean)))
      .catch((err) => part.replaceChildren(h('p', { class: 'error' }, errorText(err))));
  }
  return card;
}

// renderOrders draws an order lookup's answer as cards; beside a ticket
// (act: {ticket, onDone}) each order has its actions and their history.
export function renderOrders(r, act) {
  if (!r.orders.length) return h('p', { class: 'muted' }, t('orders_none'));
  const money = (o) => {
    try { return new Intl.NumberFormat(state.me.language, { style: 'currency', currency: o.currency }).format(Number(o.total)); } catch { return `${o.total} ${o.currency}`; }
  };
  return h('ul', { class: 'orders' }, r.orders.map((o) => h('li', { class: 'order' },
    h('div', { class: 'order-head' },
      o.url ? h('a', { href: o.url, target: '_blank', rel: 'noopener noreferrer' }, o.number) : h('strong', {}, o.number),
      h('span', { class: 'muted' }, formatDateTime(o.created_at)), h('strong', { class: 'total' }, money(o))),
    h('div', { class: 'order-status' },
      o.cancelled ? h('span', { class: 'pill cancelled' }, t('order_cancelled')) : null,
      o.payment_status ? h('span', { class: `pill pay-${o.payment_status}` }, o.payment_status.replaceAll('_', ' ')) : null,
      o.fulfillment_status ? h('span', { class: `pill ful-${o.fulfillment_status}` }, o.fulfillment_status.replaceAll('_', ' ')) : null),
    o.items.length ? h('ul', { class: 'items' }, o.items.map((i) => h('li', {}, `${i.quantity} × ${i.title}`))) : null,
    o.tracking.map((tr) => h('div', { class: 'tracking' }, icon('truck'), ' ',
      tr.url ? h('a', { href: tr.url, target: '_blank', rel: 'noopener noreferrer' }, `${tr.company ? `${tr.company} ` : ''}${tr.number}`)
        : `${tr.company ? `${tr.company} ` : ''}${tr.number}`)),
    act ? actionButtons(act.ticket, o, r.actions, act.onDone) : null,
    act ? actionHistory(o, r.history) : null)));
}

// timeline pages through the customer's messages, newest first.
function timeline(id) {
  const list = h('ol', { class: 'timeline' });
  const more = h('button', { class: 'btn small', hidden: true }, t('load_more'));
  const load = async (cursor) => {
    try {
      const r = await get(`/api/customers/${id}/timeline${cursor ? `?cursor=${cursor}` : ''}`);
      list.append(...r.items.map((m) => h('li', { class: `tl-item ${m.kind}` },
        h('div', { class: 'tl-meta' }, icon(m.channel, t(`channel_${m.channel}`)),
          h('a', { href: `#/all/t/${m.ticket_id}` }, `#${m.ticket_id} ${m.subject}`),
          m.store_id ? h('span', { class: 'muted' }, storeName(m.store_id)) : null,
          h('span', { class: 'muted' }, m.call ? t('tl_call') : t(`tl_${m.kind}`)),
          h('time', { datetime: m.created_at }, formatDateTime(m.created_at))),
        m.call ? h('p', { class: 'tl-call' }, icon('phone'), callLine(m.call)) : null,
        h('p', { class: 'tl-body' }, m.body.length > 400 ? `${m.body.slice(0, 400)}…` : m.body))));
      if (!r.items.length && !cursor) list.append(h('li', { class: 'muted' }, t('timeline_empty')));
      more.hidden = !r.next_cursor;
      more.onclick = () => load(r.next_cursor);
    } catch (err) { list.append(h('li', { class: 'error' }, errorText(err))); }
  };
  load();
  return [list, more];
}
