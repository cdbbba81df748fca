// Macros, snooze and scheduled replies (issue #28): the macro palette
// ("m" on a ticket), the macro manager, the bulk bar's macro menu, the
// snooze menu of a ticket, and the controls of a scheduled reply.
import { api, get, post } from './api.js';
import { h, icon } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { what } from './orderactions.js';
import { EV, agentName, can, errorText, state, teamName, toast } from './state.js';

// ---- The agent's macros, most used first (as the server orders them).

let cache = null; // {macros, order_actions, can_share}
export async function loadMacros(force = false) {
  if (!cache || force) cache = await get('/api/macros');
  return cache;
}

// dialog opens a modal dialog; its close gives the focus back.
function dialog(titleId, ...children) {
  document.querySelector('.overlay')?.remove();
  const back = document.activeElement;
  const overlay = h('div', {
    class: 'overlay', onclick: (e) => { if (e.target === overlay) close(); },
    onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); } },
  }, h('div', { class: 'dialog macros-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId }, ...children));
  // restore: false leaves the focus to what comes next (the reply box),
  // so the Enter that applied a macro cannot press the button that opened it.
  const close = (restore = true) => { overlay.remove(); if (restore) back?.focus?.(); };
  document.body.append(overlay);
  return { overlay, close };
}

// steps says in words what a macro does.
export function macroSteps(m) {
  const out = [];
  if (m.reply) out.push(m.send_reply ? t('macro_step_sends') : t('macro_step_fills'));
  if (m.status) out.push(t(`status_${m.status}`));
  if (m.priority) out.push(t(`priority_${m.priority}`));
  for (const tag of m.add_tags) out.push(`+${tag}`);
  for (const tag of m.remove_tags) out.push(`−${tag}`);
  if (m.assign_to === 'me') out.push(t('macro_assign_me'));
  else if (m.assign_to === 'nobody') out.push(t('unassigned'));
  else if (m.assign_to) out.push(agentName(Number(m.assign_to)));
  if (m.set_team_id) out.push(teamName(m.set_team_id));
  if (m.order_action) out.push(t(`oa_${m.order_action.name}`));
  return out.join(' · ');
}

// macroPalette lets the agent pick a macro for ticket d by typing part of
// its name; Enter applies the first match. onApplied(res) follows.
export async function macroPalette(d, onApplied) {
  let data;
  try { data = await loadMacros(true); } catch (err) { toast(errorText(err), true); return; }
  const input = h('input', { type: 'search', id: 'macro-search', placeholder: t('macro_search'), 'aria-label': t('macro_search'), autocomplete: 'off' });
  const list = h('ul', { class: 'macro-list', role: 'listbox', id: 'macro-list', 'aria-label': t('macros') });
  const { close } = dialog('macro-title',
    h('h2', { id: 'macro-title' }, t('macros')), input, list,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'btn', onclick: () => { close(); macroManager(); } }, t('macro_manage')),
      h('button', { type: 'button', class: 'btn', onclick: () => close() }, t('close'))));
  let shown = [];
  let at = 0;
  const apply = (m) => {
    close(false);
    document.activeElement?.blur?.();
    applyMacro(d, m, onApplied);
  };
  const draw = () => {
    const q = input.value.trim().toLocaleLowerCase();
    shown = data.macros.filter((m) => !q || m.name.toLocaleLowerCase().includes(q));
    at = Math.min(at, Math.max(0, shown.length - 1));
    list.replaceChildren(...(shown.length ? shown.map((m, i) => h('li', {
      role: 'option', 'aria-selected': String(i === at), class: i === at ? 'active' : '', dataset: { id: m.id },
      onclick: () => apply(m),
    }, h('strong', {}, m.name), h('span', { class: 'muted' }, macroSteps(m)))) : [h('li', { class: 'muted empty' }, data.macros.length ? t('macro_none_match') : t('macro_none_yet'))]));
  };
  input.addEventListener('input', () => { at = 0; draw(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); at = Math.min(at + 1, shown.length - 1); draw(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); at = Math.max(at - 1, 0); draw(); }
    if (e.key === 'Enter' && shown[at]) { e.preventDefault(); apply(shown[at]); }
  });
  draw();
  input.focus();
}

// applyMacro applies macro m to ticket d. A macro with an order action is
// answered first with what that action does in money (409): nothing
// happens until the agent confirms it in orderConfirm.
async function applyMacro(d, m, onApplied, confirm) {
  try {
    const res = await post(`/api/macros/${m.id}/apply`, confirm ? { ticket_id: d.id, confirm } : { ticket_id: d.id });
    toast(t('macro_applied', { name: m.name }) + (res.order_result ? ` · ${res.order_result}` : ''));
    cache = null;
    onApplied?.(res);
    return { ok: true };
  } catch (err) {
    if (err.status === 409 && err.data?.needs_confirmation) {
      if (!confirm) orderConfirm(d, m, err.data, onApplied);
      return { again: err.data };
    }
    if (err.status === 422 && err.data?.stopped) {
      // The shop said no: the macro stopped before its reply and changes.
      toast(t('macro_order_refused', { name: m.name, why: err.data.order_error }), true);
      onApplied?.({});
      return { refused: err.data.order_error };
    }
    toast(errorText(err), true);
    return { error: errorText(err) };
  }
}

// orderConfirm shows what a macro's order action will do — the order,
// the money back in its currency, restocking — as the order panel does,
// and what the macro does after it; Cancel sends nothing, Confirm applies
// the macro with the preview's token.
function orderConfirm(d, m, data, onApplied) {
  const pv = data.preview;
  const action = t(`oa_${pv.action}`);
  const said = h('p', { class: 'error oa-said', role: 'alert' }, data.changed ? t('macro_order_changed') : '');
  const rest = macroSteps({ ...m, order_action: null });
  const confirmBtn = h('button', { type: 'button', class: 'btn primary', id: 'macro-oa-confirm' }, t('oa_confirm', { action }));
  const { close } = dialog('macro-oa-title',
    h('h2', { id: 'macro-oa-title' }, t('macro_order_title', { name: m.name })),
    h('h3', {}, t('oa_title', { action, order: pv.order })),
    h('div', { class: 'oa-summary', id: 'macro-oa-summary' }, ...what(pv.action, pv)),
    rest ? h('p', { class: 'muted' }, t('macro_order_then', { steps: rest })) : null,
    said,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'btn', id: 'macro-oa-cancel', onclick: () => close() }, t('cancel')), confirmBtn));
  confirmBtn.addEventListener('click', async () => {
    confirmBtn.disabled = true; // the token keeps a second click to one action too
    const out = await applyMacro(d, m, onApplied, data.token);
    if (out.ok) close(false);
    else if (out.again) orderConfirm(d, m, out.again, onApplied);
    else said.textContent = out.refused || out.error || '';
  });
  confirmBtn.focus();
}

// macroManager lists the macros the agent sees, to add, change and delete
// (their own; shared ones with the macros.shared permission).
export async function macroManager(edit) {
  let data;
  try { data = await loadMacros(true); } catch (err) { toast(errorText(err), true); return; }
  if (edit !== undefined) { macroForm(data, edit); return; }
  const { close } = dialog('macros-title',
    h('h2', { id: 'macros-title' }, t('macro_manage')),
    h('ul', { class: 'macro-list manage' }, data.macros.length ? data.macros.map((m) => h('li', {},
      h('div', {}, h('strong', {}, m.name), ' ', h('span', { class: 'tag' }, m.owner_id ? t('macro_personal') : m.team_id ? teamName(m.team_id) : t('macro_shared')),
        h('div', { class: 'muted' }, macroSteps(m), ' · ', t('macro_uses', { n: m.uses }))),
      m.editable ? h('button', { type: 'button', class: 'btn small', onclick: () => { close(); macroForm(data, m); } }, t('edit')) : null))
      : [h('li', { class: 'muted' }, t('macro_none_yet'))]),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'btn', onclick: () => close() }, t('close')),
      h('button', { type: 'button', class: 'btn primary', id: 'macro-new', onclick: () => { close(); macroForm(data, null); } }, t('macro_new'))));
}

// macroForm edits macro m (null: a new one).
function macroForm(data, m) {
  const v = m || { name: '', reply: '', send_reply: false, status: '', priority: '', add_tags: [], remove_tags: [], assign_to: '', set_team_id: null, team_id: null, owner_id: state.me.id, order_action: null };
  const field = (label, control) => h('label', { class: 'field' }, h('span', {}, label), control);
  const select = (id, value, options) => h('select', { id }, options.map(([val, text]) => h('option', { value: val, selected: String(val) === String(value ?? '') }, text)));
  const name = h('input', { id: 'macro-name', type: 'text', required: true, maxlength: 100, value: v.name });
  const reply = h('textarea', { id: 'macro-reply', rows: 4, placeholder: t('macro_reply_hint') });
  reply.value = v.reply;
  const sendReply = h('input', { type: 'checkbox', id: 'macro-send', checked: v.send_reply });
  const status = select('macro-status', v.status, [['', t('macro_keep')], ...['open', 'pending', 'resolved', 'closed'].map((s) => [s, t(`status_${s}`)])]);
  const priority = select('macro-priority', v.priority, [['', t('macro_keep')], ...['low', 'normal', 'high', 'urgent'].map((p) => [p, t(`priority_${p}`)])]);
  const addTags = h('input', { id: 'macro-add-tags', type: 'text', value: v.add_tags.join(', '), placeholder: t('macro_tags_hint') });
  const removeTags = h('input', { id: 'macro-remove-tags', type: 'text', value: v.remove_tags.join(', '), placeholder: t('macro_tags_hint') });
  const assign = select('macro-assign', v.assign_to, [['', t('macro_keep')], ['me', t('macro_assign_me')], ['nobody', t('unassigned')],
    ...state.agents.filter((a) => a.active).map((a) => [String(a.id), a.name])]);
  const team = select('macro-team', v.set_team_id, [['', t('macro_keep')], ...state.teams.map((x) => [x.id, x.name])]);
  // Scope: personal, or shared with everyone or a team (admins and supervisors).
  const scope = select('macro-scope', v.owner_id ? 'personal' : v.team_id ? `team:${v.team_id}` : 'all', [['personal', t('macro_personal')],
    ...(data.can_share ? [['all', t('macro_shared')], ...state.teams.map((x) => [`team:${x.id}`, t('macro_shared_team', { team: x.name })])] : [])]);
  // Order actions exist only when the desk has them: none offered else.
  const actions = data.order_actions || [];
  const orderAction = actions.length ? select('macro-order', v.order_action?.name || '', [['', t('macro_no_order_action')], ...actions.map((a) => [a.name, a.label || t('oa_' + a.name)])]) : null;
  // The chosen action's parameters, each a text field labelled in the
  // agent's language (macro_param_<name>; the raw name when unknown).
  const params = h('div', { class: 'macro-grid', id: 'macro-order-params' });
  const paramLabel = (p) => (t(`macro_param_${p}`) !== `macro_param_${p}` ? t(`macro_param_${p}`) : p);
  const drawParams = () => {
    const a = actions.find((x) => x.name === orderAction?.value);
    const was = a && v.order_action?.name === a.name ? v.order_action.params || {} : {};
    params.replaceChildren(...(a?.params || []).map((p) => field(paramLabel(p), h('input', { type: 'text', dataset: { param: p }, value: was[p] ?? '' }))));
  };
  orderAction?.addEventListener('change', drawParams);
  drawParams();
  const paramValues = () => Object.fromEntries([...params.querySelectorAll('[data-param]')].map((i) => [i.dataset.param, i.value]));
  const error = h('p', { class: 'error', role: 'alert' });
  const tags = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const { close } = dialog('macro-form-title',
    h('form', {
      class: 'macro-form', onsubmit: async (e) => {
        e.preventDefault();
        const sc = scope.value;
        const body = {
          name: name.value, reply: reply.value, send_reply: sendReply.checked, status: status.value, priority: priority.value,
          add_tags: tags(addTags.value), remove_tags: tags(removeTags.value), assign_to: assign.value,
          set_team_id: team.value ? Number(team.value) : null, shared: sc !== 'personal', team_id: sc.startsWith('team:') ? Number(sc.slice(5)) : null,
          order_action: orderAction?.value ? { name: orderAction.value, params: paramValues() } : null,
        };
        try {
          await api(m ? 'PATCH' : 'POST', m ? `/api/macros/${m.id}` : '/api/macros', body);
          cache = null;
          close();
          toast(t('saved'));
          macroManager();
        } catch (err) { error.textContent = errorText(err); }
      },
    },
    h('h2', { id: 'macro-form-title' }, m ? t('macro_edit') : t('macro_new')),
    field(t('macro_name'), name),
    field(t('macro_reply'), reply),
    h('label', { class: 'check' }, sendReply, t('macro_send_reply')),
    h('div', { class: 'macro-grid' },
      field(t('status'), status), field(t('priority'), priority),
      field(t('macro_add_tags'), addTags), field(t('macro_remove_tags'), removeTags),
      field(t('assignee'), assign), field(t('team'), team),
      orderAction ? field(t('macro_order_action'), orderAction) : null,
      field(t('macro_scope'), scope)),
    params,
    error,
    h('div', { class: 'buttons' },
      m ? h('button', { type: 'button', class: 'btn danger', onclick: async () => {
        if (!confirm(t('macro_delete_confirm', { name: m.name }))) return;
        try { await api('DELETE', `/api/macros/${m.id}`); cache = null; close(); macroManager(); } catch (err) { error.textContent = errorText(err); }
      } }, t('delete')) : null,
      h('button', { type: 'button', class: 'btn', onclick: () => { close(); macroManager(); } }, t('cancel')),
      h('button', { type: 'submit', class: 'btn primary', id: 'macro-save' }, t('save')))));
  name.focus();
}

// macroBulkSelect is the bulk bar's macro menu: it applies a macro to the
// selected tickets (replies are sent: there is no box to edit them in).
export function macroBulkSelect(ids, done) {
  const sel = h('select', { id: 'bulk-macro', 'aria-label': t('macro_apply') }, h('option', { value: '' }, t('macro_apply')));
  loadMacros().then((data) => {
    sel.append(...data.macros.filter((m) => !m.order_action).map((m) => h('option', { value: m.id }, m.name)));
  }).catch(() => {});
  sel.addEventListener('change', async () => {
    const m = cache?.macros.find((x) => String(x.id) === sel.value);
    if (!m) return;
    if (m.reply && !confirm(t('macro_bulk_confirm', { name: m.name, n: ids.length }))) { sel.value = ''; return; }
    try {
      const res = await post(`/api/macros/${m.id}/bulk`, { ids });
      cache = null;
      done(res, m);
    } catch (err) { toast(errorText(err), true); sel.value = ''; }
  });
  return sel;
}

// ---- Snooze

const presets = ['later_today', 'tomorrow', 'next_week', 'customer_reply'];

// snoozeControl is the ticket header's snooze menu, or, on a snoozed
// ticket, when it wakes and a button to wake it now.
export function snoozeControl(d, reload) {
  if (!can('tickets.edit')) return d.snooze ? snoozedNote(d) : null;
  if (d.snooze) {
    return h('span', { class: 'snoozed', id: 'snoozed' }, snoozedNote(d),
      h('button', { type: 'button', class: 'btn small', id: 'wake', onclick: async () => {
        try { await api('DELETE', `/api/tickets/${d.id}/snooze`); reload(); } catch (err) { toast(errorText(err), true); }
      } }, t('snooze_wake')));
  }
  if (d.status === 'resolved' || d.status === 'closed') return null;
  const snooze = async (body) => {
    try { await post(`/api/tickets/${d.id}/snooze`, body); toast(t('snoozed_toast')); reload(); } catch (err) { toast(errorText(err), true); }
  };
  return h('select', {
    id: 'snooze', 'aria-label': t('snooze'), class: 'snooze-select',
    onchange: (e) => {
      const v = e.target.value;
      e.target.value = '';
      if (v === 'custom') pickTime(t('snooze_until'), t('snooze'), (at) => snooze({ until: at }));
      else if (v) snooze({ preset: v });
    },
  }, h('option', { value: '' }, t('snooze')), presets.map((p) => h('option', { value: p }, t(`snooze_${p}`))), h('option', { value: 'custom' }, t('snooze_custom')));
}

function snoozedNote(d) {
  return h('span', { class: 'pill snoozed-pill', title: t('snoozed') },
    d.snooze.wake_at ? t('snoozed_until', { when: formatDateTime(d.snooze.wake_at) }) : t('snoozed_until_reply'));
}

// pickTime asks for a date and time (the agent's browser clock) and
// calls onpick with it as RFC 3339.
export function pickTime(title, button, onpick, initial) {
  const pad = (n) => String(n).padStart(2, '0');
  const local = (x) => `${x.getFullYear()}-${pad(x.getMonth() + 1)}-${pad(x.getDate())}T${pad(x.getHours())}:${pad(x.getMinutes())}`;
  const start = initial ? new Date(initial) : new Date(Date.now() + 3600e3);
  const input = h('input', { type: 'datetime-local', id: 'pick-time', required: true, value: local(start), min: local(new Date()) });
  const { close } = dialog('pick-title',
    h('form', { onsubmit: (e) => { e.preventDefault(); const at = new Date(input.value); if (Number.isNaN(at.getTime())) return; close(); onpick(at.toISOString().replace(/\.\d{3}Z$/, 'Z')); } },
      h('h2', { id: 'pick-title' }, title),
      h('label', { class: 'field' }, h('span', {}, t('pick_time')), input),
      h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'btn', onclick: () => close() }, t('cancel')),
        h('button', { type: 'submit', class: 'btn primary', id: 'pick-ok' }, button))));
  input.focus();
}

// ---- Scheduled replies

// scheduledControls shows when a scheduled reply goes, with its edit and
// cancel buttons.
export function scheduledControls(m, reload) {
  const edit = () => {
    const ta = h('textarea', { id: 'edit-scheduled', rows: 5 });
    ta.value = m.body;
    const at = h('input', { type: 'datetime-local', id: 'edit-scheduled-at' });
    const pad = (n) => String(n).padStart(2, '0');
    const x = new Date(m.scheduled_at);
    at.value = `${x.getFullYear()}-${pad(x.getMonth() + 1)}-${pad(x.getDate())}T${pad(x.getHours())}:${pad(x.getMinutes())}`;
    const error = h('p', { class: 'error', role: 'alert' });
    const { close } = dialog('edit-scheduled-title', h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api('PATCH', `/api/messages/${m.id}`, { body: ta.value, send_at: new Date(at.value).toISOString().replace(/\.\d{3}Z$/, 'Z') });
          close();
          reload();
        } catch (err) { error.textContent = errorText(err); }
      },
    }, h('h2', { id: 'edit-scheduled-title' }, t('scheduled_edit')),
    h('label', { class: 'field' }, h('span', {}, t('message')), ta),
    h('label', { class: 'field' }, h('span', {}, t('scheduled_send_at')), at), error,
    h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'btn', onclick: () => close() }, t('cancel')),
      h('button', { type: 'submit', class: 'btn primary', id: 'edit-scheduled-save' }, t('save')))));
    ta.focus();
  };
  return h('div', { class: 'delivery scheduled' }, icon('clock'), t('delivery_scheduled_at', { when: formatDateTime(m.scheduled_at) }),
    can('tickets.reply') ? [
      h('button', { type: 'button', class: 'btn small', onclick: edit }, t('edit')),
      h('button', { type: 'button', class: 'btn small', onclick: async () => {
        if (!confirm(t('scheduled_cancel_confirm'))) return;
        try { await api('DELETE', `/api/messages/${m.id}`); reload(); } catch (err) { toast(errorText(err), true); }
      } }, t('scheduled_cancel'))] : null);
}

// ---- Events

// eventText describes the events of this file, and null for others.
export function eventText(e, who) {
  switch (e.type) {
    case EV.MacroApplied: return e.data.order_action
      ? t(e.data.order_error ? 'ev_macro_order_failed' : 'ev_macro_order', { who, name: e.data.macro, action: t(`oa_${e.data.order_action}`), result: e.data.order_error || e.data.order_result || '' })
      : t('ev_macro_applied', { who, name: e.data.macro });
    case EV.Snoozed: return e.data.until ? t('ev_snoozed_until', { who, when: formatDateTime(e.data.until) }) : t('ev_snoozed_reply', { who });
    case EV.Woke: return t(`ev_woke_${e.data.reason}`);
    case EV.ReplyEdited: return t('ev_reply_edited', { who, when: formatDateTime(e.data.scheduled_at) });
    case EV.ReplyCancelled: return t('ev_reply_cancelled', { who });
  }
  return null;
}

// viaMacro names the macro an event's change came from.
export function viaMacro(e) {
  return e.data?.macro && e.type !== EV.MacroApplied ? h('span', { class: 'via-macro' }, ' · ', t('via_macro', { name: e.data.macro })) : null;
}

// openPalette is "m": the palette for the ticket on screen.
export function openPaletteFor(d, onApplied) {
  if (!d || !can('tickets.edit')) return;
  macroPalette(d, onApplied);
}
