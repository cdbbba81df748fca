// The sidebar of views and the ticket list with search, sort and bulk actions.
import { get, post } from './api.js';
import { $, h, icon } from './dom.js';
import { age, t } from './i18n.js';
import { addFilter, agentAvatar, errorText, priorities, state, statusPill, teamName, toast, views } from './state.js';
import { slaBadge } from './sla.js';
import { addressName, bodyText, visitorName } from './people.js';
import { macroBulkSelect } from './macros.js';

let hooks = {}; // navigate(view, ticketId), openTicket(id), render()
export function initInbox(h) { hooks = h; }

export function currentView() {
  return views().find((v) => v.key === state.view) ?? views()[2];
}

let loadSeq = 0;
let loadingMore = null; // the next page's request, while in flight
// loadList fetches the first page of the current view (more=true appends
// the next page). A newer call wins over an older one still in flight.
// A refresh of a list scrolled past its first 200 rows fetches those and
// keeps the rows below them, so the agent's place survives live updates.
export async function loadList(more = false) {
  if (more && loadingMore) return loadingMore;
  const seq = ++loadSeq;
  const v = currentView();
  let url = `/api/tickets?${v.query}&sort=${state.sort}`;
  if (state.q) url += `&q=${encodeURIComponent(state.q)}`;
  for (const f of state.filters) url += `&${encodeURIComponent(f.key)}=${encodeURIComponent(f.value)}`;
  if (more) url += `&cursor=${encodeURIComponent(state.next)}`;
  else if (state.tickets.length > 50) url += `&limit=${Math.min(200, state.tickets.length)}`;
  state.loading = true;
  if (!more && !state.tickets.length) renderList();
  const request = (async () => {
  try {
    const res = await get(url);
    if (seq !== loadSeq) return;
    if (more) state.tickets = state.tickets.concat(res.tickets.filter((x) => !state.tickets.some((y) => y.id === x.id)));
    else if (state.tickets.length > 200 && res.next_cursor) {
      const fresh = new Set(res.tickets.map((x) => x.id));
      state.tickets = res.tickets.concat(state.tickets.slice(200).filter((x) => !fresh.has(x.id)));
      res.next_cursor = state.next; // the rows kept end where the last page ended
    } else state.tickets = res.tickets;
    state.next = res.next_cursor;
    state.listError = '';
    const ids = new Set(state.tickets.map((x) => x.id));
    for (const id of state.selected) if (!ids.has(id)) state.selected.delete(id);
    if (state.focus >= state.tickets.length) state.focus = state.tickets.length - 1;
  } catch (err) {
    if (seq !== loadSeq) return;
    state.listError = errorText(err);
  } finally {
    if (seq === loadSeq) state.loading = false;
  }
  renderList();
  })();
  if (more) {
    loadingMore = request;
    // A refresh may have overtaken this page: look again whether the end is near.
    request.finally(() => { if (loadingMore === request) { loadingMore = null; watchMore(); } });
  }
  return request;
}

export function renderSidebar() {
  const nav = $('#nav');
  if (!nav) return;
  const item = (v) => h('button', {
    class: 'nav-item', 'aria-current': String(v.key === state.view && !/^#\/(admin|customers|reports)/.test(location.hash)),
    onclick: () => hooks.navigate(v.key, null), dataset: { view: v.key },
  }, v.icon ? icon(v.icon) : v.channel ? icon(v.channel) : icon(v.group === 'stores' ? 'inbox' : v.group === 'teams' ? 'user' : 'inbox'),
  h('span', { class: 'label' }, v.label), h('span', { class: 'count' }));
  const all = views();
  const group = (name, title) => {
    const items = all.filter((v) => v.group === name);
    return items.length ? h('div', { class: 'nav-group' }, h('h2', {}, title), items.map(item)) : null;
  };
  nav.replaceChildren(...[
    h('div', { class: 'nav-group' }, all.filter((v) => !v.group).map(item)),
    group('teams', t('nav_teams')),
    group('channels', t('nav_channels')),
    group('stores', t('nav_stores')),
  ].filter(Boolean));
  showUnread();
}

// ---- Unread counts on the views: asked for after the list is on screen,
// then again when the agent socket says something changed, at most every
// two seconds.

let unread = { counts: {}, cap: 100 };
let unreadTimer = null;
let unreadAt = 0;

export function refreshUnread(soon = false) {
  if (unreadTimer) return;
  const wait = soon ? 300 : Math.max(300, 2000 - (Date.now() - unreadAt));
  unreadTimer = setTimeout(async () => {
    unreadAt = Date.now();
    try { unread = await get('/api/views/unread'); } catch { /* the counts stay as they were */ }
    unreadTimer = null;
    showUnread();
  }, wait);
}

function showUnread() {
  for (const el of document.querySelectorAll('#nav [data-view]')) {
    const n = unread.counts[el.dataset.view] || 0;
    const badge = el.querySelector('.count');
    const text = n >= unread.cap ? `${unread.cap - 1}+` : n ? String(n) : '';
    if (badge.textContent === text) continue;
    badge.textContent = text;
    if (n) badge.setAttribute('aria-label', t('unread_n', { n })); else badge.removeAttribute('aria-label');
  }
}

export function renderList() {
  const pane = $('#list');
  if (!pane) return;
  const v = currentView();
  const head = h('div', { class: 'list-head' },
    h('div', { class: 'title' },
      h('h1', { id: 'list-title' }, v.label),
      h('label', { class: 'sr-only', for: 'sort' }, t('sort_label')),
      // A search lists tickets newest (or oldest) first whatever the sort
      // (it reads its index in ticket order): the menu offers only those
      // while one is on, and the agent's sort comes back after it.
      h('select', { id: 'sort', onchange: (e) => { state.sort = e.target.value; localStorage.setItem('onedesk.sort', state.sort); loadList(); } },
        (state.q ? ['newest', 'oldest'] : ['updated', 'newest', 'oldest', 'customer']).map((s) => h('option', {
          value: s, selected: s === (state.q && state.sort !== 'oldest' ? 'newest' : state.sort),
        }, t(`sort_${s}`)))),
      h('span', { class: 'list-filters' },
      h('label', { class: 'sr-only', for: 'priority-filter' }, t('filter_priority')),
      h('select', { id: 'priority-filter', onchange: (e) => setPriority(e.target.value) },
        h('option', { value: '' }, t('any_priority')),
        priorities.map((p) => h('option', { value: p, selected: state.filters.some((f) => f.key === 'priority' && f.value === p) }, t(`priority_${p}`)))),
      // Due times only matter where SLA policies are set (or a filter is on).
      !v.sla && (state.slaPolicies.length || state.filters.some((f) => f.key === 'sla')) ? [
        h('label', { class: 'sr-only', for: 'sla-filter' }, t('filter_sla')),
        h('select', { id: 'sla-filter', onchange: (e) => setSLA(e.target.value) },
          h('option', { value: '' }, t('sla_any')),
          ['at_risk', 'breached'].map((s) => h('option', { value: s, selected: state.filters.some((f) => f.key === 'sla' && f.value === s) }, t(`sla_${s}`))))] : null)),
    h('div', { class: 'search', role: 'search' }, icon('search'),
      h('input', {
        type: 'search', id: 'search', placeholder: t('search_placeholder'), 'aria-label': t('search_placeholder'),
        value: state.q, oninput: onSearch,
        onkeydown: (e) => { if (e.key === 'Escape') { e.target.value = ''; onSearch(e); e.target.blur(); } },
      })),
    state.filters.length ? h('div', { class: 'filters', role: 'group', 'aria-label': t('filters') }, icon('filter'),
      state.filters.map((f) => h('span', { class: 'chip' }, f.label,
        h('button', { 'aria-label': t('filter_remove', { filter: f.label }), onclick: () => removeFilter(f.key) }, '×'))),
      state.filters.length > 1 ? h('button', { class: 'link', onclick: () => removeFilter() }, t('clear')) : null) : null,
    state.selected.size ? bulkBar() : null);

  let body;
  let more = null;
  if (state.listError) {
    body = h('div', { class: 'banner error', role: 'alert' }, state.listError, ' ',
      h('button', { class: 'btn small', onclick: () => loadList() }, t('retry')));
  } else if (state.loading && !state.tickets.length) {
    body = h('div', { 'aria-busy': 'true' }, [1, 2, 3, 4, 5].map(() => h('div', { class: 'skeleton' })));
  } else if (!state.tickets.length) {
    const narrowed = state.q || state.filters.length;
    body = h('div', { class: 'empty' }, h('strong', {}, narrowed ? t('empty_search') : t('empty_view')),
      narrowed ? t('empty_search_hint') : t('empty_view_hint'));
  } else {
    // Rows are built once and kept while their ticket does not change:
    // a live update or the next page touches only the rows it changes,
    // and the list itself stays (a next page is appended to it).
    const seen = new Set();
    const list = state.tickets.map((tk, i) => { seen.add(tk.id); return row(tk, i); });
    for (const id of rowCache.keys()) if (!seen.has(id)) rowCache.delete(id);
    body = $('#row-list') || h('div', { role: 'list', 'aria-labelledby': 'list-title', id: 'row-list' });
    const shown = body.children;
    const kept = shown.length <= list.length && [...shown].every((el, i) => el === list[i]);
    if (kept) body.append(...list.slice(shown.length));
    else body.replaceChildren(...list);
    // The next page loads by itself as the end of the list comes near; the
    // button is there for keyboards and for when that does not happen.
    if (state.next) {
      more = $('#more') || h('div', { class: 'more', id: 'more' }, h('button', { class: 'btn small', onclick: () => loadList(true) }, t('load_more')));
    }
  }
  let rows = $('#rows');
  const fresh = !rows || rows.parentNode !== pane;
  if (fresh) rows = h('div', { class: 'rows', id: 'rows' });
  const scroll = rows.scrollTop;
  const hadSearchFocus = document.activeElement?.id === 'search';
  const caret = hadSearchFocus ? document.activeElement.selectionStart : 0;
  // A tag being typed in the bulk bar outlives a live refresh.
  const tagDraft = $('#bulk-tag')?.value ?? '';
  const hadTagFocus = document.activeElement?.id === 'bulk-tag';
  const children = [body, more].filter(Boolean);
  if (children.length !== rows.children.length || children.some((c, i) => rows.children[i] !== c)) rows.replaceChildren(...children);
  if (fresh) pane.replaceChildren(head, rows);
  else pane.firstElementChild.replaceWith(head);
  const bulkTag = $('#bulk-tag');
  if (bulkTag) { bulkTag.value = tagDraft; if (hadTagFocus) bulkTag.focus(); }
  if (rows.scrollTop !== scroll) rows.scrollTop = scroll;
  watchMore();
  // For the first-paint measurement in the browser benchmark; the unread
  // counts wait for it.
  if (state.tickets.length && !performance.getEntriesByName('inbox-painted').length) {
    performance.mark('inbox-painted');
    refreshUnread(true);
  }
  if (hadSearchFocus) { const s = $('#search'); s.focus(); s.setSelectionRange(caret, caret); }
}

// watchMore loads the next page when the end of the list comes within a
// screen of view. An observer rather than scroll events: rows drawn for the
// first time change the list's height under a fast scroll, and the
// observer looks again after each layout.
let moreObserver = null;
let observedRows = null;
function watchMore() {
  const rows = $('#rows');
  const more = $('#more');
  if (!rows) return;
  if (observedRows !== rows) {
    moreObserver?.disconnect();
    observedRows = rows;
    moreObserver = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && state.next && !loadingMore && !state.listError) loadList(true);
    }, { root: rows, rootMargin: '0px 0px 100% 0px' });
  }
  moreObserver.disconnect();
  if (more) moreObserver.observe(more);
}

const rowCache = new Map(); // ticket id -> {key, el}

function row(tk, i) {
  const classes = ['row'];
  if (tk.unread) classes.push('unread');
  if (i === state.focus) classes.push('focused');
  if (tk.id === state.openId) classes.push('open');
  // The minute is in the key so a row's age ("5m") stays true.
  const key = `${JSON.stringify(tk)}|${state.selected.has(tk.id)}|${state.view}|${Math.floor(Date.now() / 60000)}`;
  const cached = rowCache.get(tk.id);
  if (cached && cached.key === key) {
    cached.el.className = classes.join(' ');
    return cached.el;
  }
  const el = h('div', {
    class: classes.join(' '), role: 'listitem', dataset: { id: tk.id },
    onclick: (e) => {
      if (e.target.type === 'checkbox') return;
      state.focus = state.tickets.findIndex((x) => x.id === tk.id);
      hooks.openTicket(tk.id);
    },
  },
  h('input', {
    type: 'checkbox', 'aria-label': t('select_ticket', { id: tk.id }), checked: state.selected.has(tk.id),
    onchange: (e) => { e.target.checked ? state.selected.add(tk.id) : state.selected.delete(tk.id); renderList(); },
  }),
  h('span', { class: 'ch' }, icon(tk.channel, t(`channel_${tk.channel}`))),
  h('span', { class: 'who' }, addressName(tk.customer_name) || (tk.channel === 'chat' ? visitorName(tk.customer_id) : t('unknown_customer'))),
  h('time', { class: 'when', datetime: tk.updated_at, title: tk.updated_at }, age(tk.updated_at)),
  h('a', { class: 'subj', href: `#/${state.view}/t/${tk.id}`, tabindex: '-1', onclick: (e) => e.preventDefault() }, tk.subject),
  h('span', { class: 'snip' }, tk.match ? matchPassage(tk.match) : bodyText(tk.snippet)),
  h('span', { class: 'meta' }, statusPill(tk.status), slaBadge(tk),
    tk.priority === 'high' || tk.priority === 'urgent' ? h('span', { class: `pill ${tk.priority}` }, t(`priority_${tk.priority}`)) : null,
    tk.assignee_id ? agentAvatar(tk.assignee_id, { named: true }) : h('span', {}, t('unassigned')),
    tk.team_id ? h('span', {}, teamName(tk.team_id)) : null,
    tk.tags.slice(0, 3).map((tag) => h('span', { class: 'tag' }, tag))));
  rowCache.set(tk.id, { key, el });
  return el;
}

// The passage a search matched, its words marked (parts from the API:
// text nodes, never markup).
function matchPassage(parts) {
  return parts.map((p) => (p.hit ? h('mark', {}, p.text) : p.text));
}

function setPriority(p) {
  if (p) addFilter('priority', p, `${t('priority')}: ${t(`priority_${p}`)}`);
  else state.filters = state.filters.filter((f) => f.key !== 'priority');
  state.focus = -1;
  loadList();
}

// setSLA narrows the list to tickets at risk or past a due time.
function setSLA(s) {
  if (s) addFilter('sla', s, `${t('sla')}: ${t(`sla_${s}`)}`);
  else state.filters = state.filters.filter((f) => f.key !== 'sla');
  state.focus = -1;
  loadList();
}

// Tickets become at risk and overdue as time passes, without a change to
// announce it: a list narrowed by SLA is fetched again every minute.
setInterval(() => {
  if ($('#list') && !state.loading && (currentView().sla || state.filters.some((f) => f.key === 'sla'))) loadList();
}, 60000);

// removeFilter drops one filter by key, or all of them.
export function removeFilter(key) {
  state.filters = key ? state.filters.filter((f) => f.key !== key) : [];
  state.focus = -1;
  loadList();
}

let searchTimer;
function onSearch(e) {
  clearTimeout(searchTimer);
  const q = e.target.value.trim();
  searchTimer = setTimeout(() => { if (q !== state.q) { state.q = q; state.focus = -1; loadList(); } }, 180);
}

// bulkBar changes the selected tickets in one request; each ticket
// changes all or nothing, and those refused stay selected.
function bulkBar() {
  const ids = [...state.selected];
  const apply = async (change) => {
    let res;
    try {
      res = await post('/api/tickets/bulk', { ids, ...change });
    } catch (err) {
      toast(errorText(err), true);
      renderList();
      return;
    }
    state.selected.clear();
    if (res.failed.length) {
      const f = res.failed[0];
      toast(t('bulk_failed', { n: res.failed.length, first: `#${f.id}: ${f.error}` }), true);
      for (const x of res.failed) if (state.tickets.some((tk) => tk.id === x.id)) state.selected.add(x.id);
    } else toast(t('bulk_done', { n: res.updated.length }));
    loadList();
  };
  const select = (label, options, onpick, id) => h('select', {
    'aria-label': label, id,
    onchange: (e) => { if (e.target.value !== '') onpick(e.target.value); },
  }, h('option', { value: '' }, label), options);
  const chosen = state.tickets.filter((tk) => state.selected.has(tk.id));
  const onSelected = [...new Set(chosen.flatMap((tk) => tk.tags))].sort();
  const known = [...new Set(state.tickets.flatMap((tk) => tk.tags))].sort();
  return h('div', { class: 'bulk', role: 'toolbar', 'aria-label': t('bulk_actions') },
    h('strong', {}, t('selected_n', { n: ids.length })),
    select(t('assign_to'), [h('option', { value: 'none' }, t('unassigned')), state.agents.filter((a) => a.active).map((a) => h('option', { value: a.id }, a.name))],
      (v) => apply({ assignee_id: v === 'none' ? null : Number(v) })),
    select(t('transfer_to'), state.teams.map((x) => h('option', { value: x.id }, x.name)), (v) => apply({ team_id: Number(v) })),
    select(t('set_status'), ['open', 'pending', 'resolved', 'closed'].map((s) => h('option', { value: s }, t(`status_${s}`))), (v) => apply({ status: v })),
    select(t('set_priority'), priorities.map((p) => h('option', { value: p }, t(`priority_${p}`))), (v) => apply({ priority: v }), 'bulk-priority'),
    h('input', {
      type: 'text', id: 'bulk-tag', list: 'bulk-tags', placeholder: t('bulk_add_tag'), 'aria-label': t('bulk_add_tag'), autocomplete: 'off',
      onkeydown: (e) => {
        if (e.key === 'Enter' && e.target.value.trim()) { e.preventDefault(); apply({ add_tags: [e.target.value.trim()] }); }
        if (e.key === 'Escape') { e.target.value = ''; e.target.blur(); }
      },
    }),
    h('datalist', { id: 'bulk-tags' }, known.map((tag) => h('option', { value: tag }))),
    onSelected.length ? select(t('bulk_remove_tag'), onSelected.map((tag) => h('option', { value: tag }, tag)), (v) => apply({ remove_tags: [v] }), 'bulk-untag') : null,
    macroBulkSelect(ids, (res, m) => {
      state.selected.clear();
      if (res.failed.length) {
        const f = res.failed[0];
        toast(t('bulk_failed', { n: res.failed.length, first: `#${f.id}: ${f.error}` }), true);
        for (const x of res.failed) if (state.tickets.some((tk) => tk.id === x.id)) state.selected.add(x.id);
      } else toast(t('macro_bulk_done', { name: m.name, n: res.updated.length }));
      loadList();
    }),
    h('button', { class: 'btn small', onclick: () => { state.selected.clear(); renderList(); } }, t('clear')));
}

// moveFocus moves the keyboard focus in the list by delta rows; past the
// last row loaded it loads the next page and moves on into it.
export async function moveFocus(delta) {
  if (!state.tickets.length) return;
  if (state.focus + delta >= state.tickets.length && state.next) {
    await loadList(true);
  }
  const old = state.focus;
  state.focus = Math.max(0, Math.min(state.tickets.length - 1, state.focus + delta));
  if (old === state.focus && $('.row.focused')) return;
  // Only the two rows change: a long list is not drawn again for a key.
  $('.row.focused')?.classList.remove('focused');
  const el = $(`#row-list > .row[data-id="${state.tickets[state.focus].id}"]`);
  if (!el) { renderList(); return; }
  el.classList.add('focused');
  el.scrollIntoView({ block: 'nearest' });
}

export function focusedTicket() { return state.tickets[state.focus]; }
