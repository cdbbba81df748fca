// Team workflow in the app: saved replies (the "/" picker in the reply box
// and their list) and the rules editor.
import { del, get, patch, post } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { agentName, channels, errorText, priorities, state, statuses, teamName, toast } from './state.js';

// ---- The "/" picker

let replyCache = { ticket: 0, list: null };

async function repliesFor(ticketId) {
  if (replyCache.ticket !== ticketId || !replyCache.list) {
    const res = await get(`/api/saved-replies?ticket_id=${ticketId}`);
    replyCache = { ticket: ticketId, list: res.saved_replies };
  }
  return replyCache.list;
}

// attachPicker shows a list above a textarea while the text before the
// cursor asks for one (the "/" of saved replies, the "@" of mentions):
// ↑/↓ move, Enter or Tab picks, Esc closes. match(before) returns the
// query typed after the trigger character, or null; items(query) the
// entries (a list with none closes it, unless there is an empty text);
// pick(item, from, to) replaces the trigger and query. It returns a
// function that opens the list at the cursor (for a button).
export function attachPicker(ta, { label, match, load = async () => {}, items: itemsFor, row, empty, pick }) {
  let box = null;
  let items = [];
  let focus = 0;
  let query = '';
  let start = -1; // where the trigger character is
  const close = () => { box?.remove(); box = null; start = -1; };
  const choose = (item) => {
    const from = start;
    const to = ta.selectionStart;
    close();
    pick(item, from, to);
  };
  const draw = (q) => {
    query = q;
    items = itemsFor(q);
    if (!items.length && !empty) { close(); return; }
    focus = Math.min(focus, Math.max(0, items.length - 1));
    if (!box) {
      box = h('div', { class: 'reply-picker', role: 'listbox', 'aria-label': label });
      ta.parentElement.append(box);
    }
    box.replaceChildren(...(items.length ? items.map((it, i) => h('div', {
      class: `pick${i === focus ? ' focused' : ''}`, role: 'option', 'aria-selected': String(i === focus),
      onmousedown: (e) => { e.preventDefault(); choose(it); },
    }, row(it))) : [h('div', { class: 'pick muted' }, empty())]));
  };
  const update = async () => {
    const before = ta.value.slice(0, ta.selectionStart);
    const q = match(before);
    if (q == null) { if (start >= 0) close(); return; } // opened by the button: stays
    const at = before.length - q.length - 1;
    try { await load(); } catch (err) { toast(errorText(err), true); return; }
    start = at;
    draw(q);
  };
  ta.addEventListener('input', update);
  ta.addEventListener('blur', () => setTimeout(close, 150));
  ta.addEventListener('keydown', (e) => {
    if (!box) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      focus = (focus + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % Math.max(1, items.length);
      draw(query);
    } else if ((e.key === 'Enter' || e.key === 'Tab') && items.length && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      e.stopPropagation();
      choose(items[focus]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  }, true);
  return async () => {
    ta.focus();
    try { await load(); } catch (err) { toast(errorText(err), true); return; }
    start = -1;
    draw('');
  };
}

// attachReplyPicker lets an agent type "/" and a few letters in the reply
// box to pick a saved reply; it is inserted with the ticket's values.
// It returns a function that opens the picker (for a button).
export function attachReplyPicker(ta, ticketId) {
  return attachPicker(ta, {
    label: t('saved_replies'),
    match: (before) => /(^|\s)\/([^\s/]{0,30})$/.exec(before)?.[2] ?? null,
    load: () => repliesFor(ticketId),
    items: (query) => {
      const q = query.toLowerCase();
      return replyCache.list.filter((r) => !q || r.title.toLowerCase().includes(q) || r.body.toLowerCase().includes(q)).slice(0, 8);
    },
    row: (r) => [h('strong', {}, r.title), h('span', {}, r.body.slice(0, 90))],
    empty: () => (replyCache.list.length ? t('saved_replies_none_match') : t('saved_replies_empty')),
    pick: async (r, from, to) => {
      try {
        const { body } = await post(`/api/saved-replies/${r.id}/render`, { ticket_id: ticketId });
        const at = from >= 0 ? from : ta.selectionStart;
        ta.setRangeText(body, at, from >= 0 ? to : ta.selectionEnd, 'end');
        ta.dispatchEvent(new Event('input'));
        r.uses++;
      } catch (err) { toast(errorText(err), true); }
      ta.focus();
    },
  });
}

// ---- Saved replies list

export async function savedRepliesAdmin(main) {
  const { saved_replies: list } = await get('/api/saved-replies');
  replyCache = { ticket: 0, list: null };
  const scope = (r) => [r.store_id ? state.stores.find((s) => s.id === r.store_id)?.name : '', r.team_id ? state.teams.find((x) => x.id === r.team_id)?.name : '']
    .filter(Boolean).join(' · ') || t('shared');
  const editor = (r) => {
    const err = h('p', { class: 'error', role: 'alert' });
    const f = h('form', { class: 'inline', novalidate: true },
      h('label', { class: 'field' }, h('span', {}, t('title')), h('input', { name: 'title', value: r?.title ?? '' })),
      h('label', { class: 'field' }, h('span', {}, t('store')), h('select', { name: 'store_id' },
        h('option', { value: '' }, t('all_stores')), state.stores.map((s) => h('option', { value: s.id, selected: r?.store_id === s.id }, s.name)))),
      h('label', { class: 'field' }, h('span', {}, t('team')), h('select', { name: 'team_id' },
        h('option', { value: '' }, t('all_teams')), state.teams.map((x) => h('option', { value: x.id, selected: r?.team_id === x.id }, x.name)))),
      h('label', { class: 'field wide' }, h('span', {}, t('text')), h('textarea', { name: 'body', rows: 5 }, r?.body ?? '')),
      h('p', { class: 'muted wide' }, t('placeholders_hint')),
      h('button', { type: 'submit', class: 'btn primary' }, r ? t('save') : t('add')),
      r ? h('button', { type: 'button', class: 'btn', onclick: () => savedRepliesAdmin(main) }, t('cancel')) : null, err);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = Object.fromEntries(new FormData(f));
      const body = { title: v.title, body: v.body, store_id: v.store_id ? Number(v.store_id) : null, team_id: v.team_id ? Number(v.team_id) : null };
      try {
        if (r) await patch(`/api/saved-replies/${r.id}`, body); else await post('/api/saved-replies', body);
        toast(t('saved'));
        savedRepliesAdmin(main);
      } catch (ex) {
        err.textContent = errorText(ex);
        f.querySelector(`[name="${ex.field}"]`)?.focus();
      }
    });
    return f;
  };
  main.replaceChildren(
    h('h1', {}, t('admin_replies')),
    h('p', { class: 'muted' }, t('saved_replies_hint')),
    list.length ? h('div', { class: 'card' }, h('table', {},
      h('thead', {}, h('tr', {}, [t('title'), t('used_for'), t('uses'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.map((r) => h('tr', {},
        h('td', {}, h('strong', {}, r.title), h('div', { class: 'muted clip' }, r.body.slice(0, 120))),
        h('td', {}, scope(r)), h('td', {}, String(r.uses)),
        h('td', { class: 'nowrap' },
          h('button', { class: 'btn small', onclick: (e) => e.target.closest('tr').after(h('tr', {}, h('td', { colspan: 4 }, editor(r)))) }, t('edit')), ' ',
          h('button', { class: 'btn small danger', onclick: async () => {
            if (!confirm(t('delete_confirm', { name: r.title }))) return;
            try { await del(`/api/saved-replies/${r.id}`); savedRepliesAdmin(main); } catch (err) { toast(errorText(err), true); }
          } }, t('delete'))))))))
      : h('div', { class: 'card muted' }, t('saved_replies_empty')),
    h('div', { class: 'card' }, h('h2', {}, t('add_saved_reply')), editor(null)));
}

// ---- Rules

const condOps = {
  channel: ['is', 'is_not'], status: ['is', 'is_not'], priority: ['is', 'is_not'], store_id: ['is', 'is_not'],
  team_id: ['is', 'is_not'], assignee_id: ['is', 'is_not'], tags: ['contains', 'not_contains'],
  subject: ['contains', 'not_contains', 'is'], body: ['contains', 'not_contains', 'is'], customer_domain: ['is', 'is_not'],
  business_hours: ['is'], hours_since_created: ['gt', 'lt'], hours_since_updated: ['gt', 'lt'],
  hours_since_customer: ['gt', 'lt'], hours_unanswered: ['gt', 'lt'],
  // The customer's latest order as last seen (lookups and order webhooks).
  'order.financial_status': ['is', 'is_not'], 'order.fulfillment_status': ['is', 'is_not'], 'order.country': ['is', 'is_not'],
  'order.tags': ['contains', 'not_contains'], 'order.total': ['gt', 'lt'], 'order.days_since': ['gt', 'lt'],
  rating: ['lte', 'gte', 'is'], // the customer's satisfaction rating, 1-5 (👍 5, 👎 1)
};
const orderNumbers = ['order.total', 'order.days_since'];
const actionTypes = ['set_team', 'set_assignee', 'set_status', 'set_priority', 'add_tags', 'remove_tags', 'add_note', 'auto_reply', 'notify', 'webhook'];
let webhooks = []; // for the webhook action, read with the rules
const triggers = ['created', 'customer_replied', 'updated', 'time', 'sla_at_risk', 'sla_breached', 'rated'];

const opt = (value, label, current) => h('option', { value, selected: String(current) === String(value) }, label);
const idOptions = (list, current, none) => [opt('', none, current ?? ''), ...list.map((x) => opt(x.id, x.name, current))];

// valueInput is the input for a condition's or action's value; read()
// turns it back into JSON.
function valueInput(kind, current) {
  const sel = (options) => h('select', { class: 'rule-value', 'aria-label': t('rule_value') }, options);
  switch (kind) {
    case 'channel': return sel(channels.map((c) => opt(c, t(`channel_${c}`), current)));
    case 'status': case 'set_status': return sel(statuses.map((s) => opt(s, t(`status_${s}`), current)));
    case 'priority': case 'set_priority': return sel(priorities.map((p) => opt(p, t(`priority_${p}`), current)));
    case 'store_id': return sel(idOptions(state.stores, current, t('no_store')));
    case 'team_id': case 'set_team': return sel(idOptions(state.teams, current, t('no_team')));
    case 'assignee_id': case 'set_assignee': return sel(idOptions(state.agents.filter((a) => a.active), current, t('unassigned')));
    case 'business_hours': return sel([opt('true', t('rule_inside_hours'), current), opt('false', t('rule_outside_hours'), current)]);
    case 'notify': return sel([opt('assignee', t('rule_notify_assignee'), current), opt('team', t('rule_notify_team'), current),
      ...state.agents.filter((a) => a.active).map((a) => opt(a.id, a.name, current))]);
    case 'webhook': return webhooks.length ? sel([
      // A webhook deleted since the rule was saved: say so rather than show another one.
      current != null && !webhooks.some((w) => w.id === current) ? opt('', t('webhook_deleted'), '') : null,
      ...webhooks.map((w) => opt(w.id, w.enabled ? w.name : `${w.name} (${t('webhook_off')})`, current))])
      : h('span', { class: 'rule-value muted', 'aria-label': t('rule_value') }, t('webhook_none'));
    case 'add_note': case 'auto_reply': return h('textarea', { class: 'rule-value', rows: 2, 'aria-label': t('rule_value') }, current ?? '');
    case 'add_tags': case 'remove_tags':
      return h('input', { class: 'rule-value', 'aria-label': t('rule_value'), placeholder: t('rule_tags_hint'), value: (current || []).join(', ') });
  }
  if (kind.startsWith('hours_')) return h('input', { class: 'rule-value', type: 'number', min: 0, step: 'any', 'aria-label': t('rule_hours'), value: current ?? '' });
  if (orderNumbers.includes(kind)) return h('input', { class: 'rule-value', type: 'number', min: 0, step: 'any', 'aria-label': t('rule_value'), value: current ?? '' });
  if (kind === 'order.financial_status' || kind === 'order.fulfillment_status') {
    return h('input', { class: 'rule-value', 'aria-label': t('rule_value'), placeholder: t(kind === 'order.financial_status' ? 'rule_order_paid_hint' : 'rule_order_fulfilled_hint'), value: current ?? '' });
  }
  if (kind === 'rating') return h('input', { class: 'rule-value', type: 'number', min: 1, max: 5, step: 1, 'aria-label': t('rule_value'), value: current ?? '' });
  return h('input', { class: 'rule-value', 'aria-label': t('rule_value'), value: current ?? '' });
}

function readValue(kind, el) {
  const v = el.value;
  if (['store_id', 'team_id', 'assignee_id', 'set_team', 'set_assignee'].includes(kind)) return v === '' ? null : Number(v);
  if (kind === 'webhook') return v ? Number(v) : null;
  if (kind === 'notify') return /^\d+$/.test(v) ? Number(v) : v;
  if (kind === 'business_hours') return v === 'true';
  if (kind.startsWith('hours_') || orderNumbers.includes(kind) || kind === 'rating') return v === '' ? null : Number(v);
  if (kind === 'add_tags' || kind === 'remove_tags') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return v;
}

function conditionRow(c = { field: 'subject', op: 'contains', value: '' }) {
  const fields = [...Object.keys(condOps), ...Object.keys(state.fieldLabels || {}).map((n) => `field.${n}`)];
  if (!fields.includes(c.field)) fields.push(c.field);
  const row = h('div', { class: 'rule-row' });
  const draw = (cur) => {
    const field = h('select', { class: 'rule-field', 'aria-label': t('rule_condition'), onchange: (e) => draw({ field: e.target.value, op: '', value: undefined }) },
      fields.map((f) => opt(f, f.startsWith('field.') ? t('rule_form_field', { name: state.fieldLabels?.[f.slice(6)] || f.slice(6) }) : t(`cond_${f}`), cur.field)));
    const ops = condOps[cur.field] || ['is', 'is_not', 'contains', 'not_contains'];
    const op = h('select', { class: 'rule-op', 'aria-label': t('rule_op') }, ops.map((o) => opt(o, t(`op_${o}`), cur.op || ops[0])));
    row.replaceChildren(field, op, valueInput(cur.field, cur.value),
      h('button', { type: 'button', class: 'btn small', 'aria-label': t('remove'), onclick: () => row.remove() }, '×'));
  };
  draw(c);
  row.read = () => {
    const field = row.querySelector('.rule-field').value;
    return { field, op: row.querySelector('.rule-op').value, value: readValue(field, row.querySelector('.rule-value')) };
  };
  return row;
}

function actionRow(a = { type: 'set_priority', value: 'high' }) {
  const row = h('div', { class: 'rule-row' });
  const draw = (cur) => {
    row.replaceChildren(
      h('select', { class: 'rule-field', 'aria-label': t('rule_action'), onchange: (e) => draw({ type: e.target.value }) },
        actionTypes.map((x) => opt(x, t(`act_${x}`), cur.type))),
      valueInput(cur.type, cur.value),
      h('button', { type: 'button', class: 'btn small', 'aria-label': t('remove'), onclick: () => row.remove() }, '×'));
  };
  draw(a);
  row.read = () => {
    const type = row.querySelector('.rule-field').value;
    return { type, value: readValue(type, row.querySelector('.rule-value')) };
  };
  return row;
}

function ruleEditor(main, r) {
  const conds = h('div', { class: 'rule-rows' }, (r?.conditions || []).map(conditionRow));
  const acts = h('div', { class: 'rule-rows' }, (r?.actions || [undefined]).map((a) => actionRow(a)));
  const err = h('p', { class: 'error', role: 'alert' });
  const f = h('form', { class: 'rule-editor', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, t('name')), h('input', { name: 'name', value: r?.name ?? '' })),
    h('label', { class: 'field' }, h('span', {}, t('rule_when')), h('select', { name: 'trigger' }, triggers.map((x) => opt(x, t(`trigger_${x}`), r?.trigger ?? 'created')))),
    h('label', { class: 'field' }, h('span', {}, t('rule_match')), h('select', { name: 'match' },
      opt('all', t('match_all'), r?.match ?? 'all'), opt('any', t('match_any'), r?.match))),
    h('h3', { class: 'form-heading' }, t('rule_conditions')), conds,
    h('button', { type: 'button', class: 'btn small', onclick: () => conds.append(conditionRow()) }, t('rule_add_condition')),
    h('h3', { class: 'form-heading' }, t('rule_actions')), acts,
    h('button', { type: 'button', class: 'btn small', onclick: () => acts.append(actionRow()) }, t('rule_add_action')),
    h('p', { class: 'muted' }, t('rule_hint')),
    h('div', { class: 'save-bar' }, h('button', { type: 'submit', class: 'btn primary' }, t('save')),
      h('button', { type: 'button', class: 'btn', onclick: () => rulesAdmin(main) }, t('cancel'))), err);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(f));
    const body = { name: v.name, trigger: v.trigger, match: v.match,
      conditions: [...conds.children].map((row) => row.read()), actions: [...acts.children].map((row) => row.read()) };
    try {
      if (r) await patch(`/api/rules/${r.id}`, body); else await post('/api/rules', body);
      toast(t('saved'));
      rulesAdmin(main);
    } catch (ex) {
      err.textContent = errorText(ex);
      const m = /^(conditions|actions)\.(\d+)/.exec(ex.field || '');
      const row = m ? (m[1] === 'conditions' ? conds : acts).children[Number(m[2])] : f.querySelector(`[name="${ex.field}"]`);
      row?.classList?.add('invalid');
      (row?.querySelector?.('select, input, textarea') || row)?.focus?.();
    }
  });
  main.replaceChildren(h('h1', {}, r ? r.name : t('rule_new')), h('div', { class: 'card' }, f));
}

export async function rulesAdmin(main) {
  const [{ rules }, hooks] = await Promise.all([get('/api/rules'), get('/api/webhooks')]);
  webhooks = hooks.webhooks;
  const move = async (i, by) => {
    const a = rules[i];
    const b = rules[i + by];
    try {
      await patch(`/api/rules/${a.id}`, { position: b.position });
      await patch(`/api/rules/${b.id}`, { position: a.position === b.position ? a.position + by : a.position });
      rulesAdmin(main);
    } catch (err) { toast(errorText(err), true); }
  };
  main.replaceChildren(
    h('div', { class: 'admin-head' }, h('h1', {}, t('admin_rules')),
      h('button', { class: 'btn primary', onclick: () => ruleEditor(main, null) }, t('rule_new'))),
    h('p', { class: 'muted' }, t('rules_hint')),
    rules.length ? h('div', { class: 'card' }, h('table', {},
      h('thead', {}, h('tr', {}, [t('name'), t('rule_when'), t('enabled'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, rules.map((r, i) => h('tr', {},
        h('td', {}, h('strong', {}, r.name), h('div', { class: 'muted' }, t('rule_summary', { conditions: r.conditions.length, actions: r.actions.length }))),
        h('td', {}, t(`trigger_${r.trigger}`)),
        h('td', {}, h('input', { type: 'checkbox', checked: r.enabled, 'aria-label': t('enabled'), onchange: async (e) => {
          try { await patch(`/api/rules/${r.id}`, { enabled: e.target.checked }); toast(t('saved')); } catch (err) { toast(errorText(err), true); e.target.checked = !e.target.checked; }
        } })),
        h('td', { class: 'nowrap' },
          h('button', { class: 'btn small', disabled: i === 0, 'aria-label': t('move_up'), onclick: () => move(i, -1) }, '↑'), ' ',
          h('button', { class: 'btn small', disabled: i === rules.length - 1, 'aria-label': t('move_down'), onclick: () => move(i, 1) }, '↓'), ' ',
          h('button', { class: 'btn small', onclick: () => ruleEditor(main, r) }, t('edit')), ' ',
          h('button', { class: 'btn small danger', onclick: async () => {
            if (!confirm(t('delete_confirm', { name: r.name }))) return;
            try { await del(`/api/rules/${r.id}`); rulesAdmin(main); } catch (err) { toast(errorText(err), true); }
          } }, t('delete'))))))))
      : h('div', { class: 'card muted' }, t('rules_empty')));
}

// ruleEventText describes a rule_applied event for the ticket's story.
export function ruleEventText(e) {
  const d = e.data || {};
  let what;
  switch (d.action) {
    case 'set_team': what = d.to ? teamName(d.to) : t('no_team'); break;
    case 'set_assignee': what = d.to ? agentName(d.to) : t('unassigned'); break;
    case 'set_status': what = t(`status_${d.to}`); break;
    case 'set_priority': what = t(`priority_${d.to}`); break;
    case 'add_tags': case 'remove_tags': what = (d.to || []).join(', ') || '–'; break;
    case 'notify': what = (d.agents || []).map(agentName).join(', '); break;
    case 'webhook': what = d.webhook || ''; break;
    default: what = '';
  }
  return t('ev_rule', { rule: d.rule, action: t(`act_${d.action}`) }) + (what ? `: ${what}` : '');
}

