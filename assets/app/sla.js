// SLAs in the app: the policies screen (Settings → SLA policies), the due
// badge of an inbox row, the SLA block beside a ticket and the text of a
// breach in the ticket's story. Due times tick live.
import { del, get, patch, post } from './api.js';
import { h } from './dom.js';
import { formatDateTime, formatTimeNear, t } from './i18n.js';
import { can, channels, errorText, priorities, state, storeName, teamName, toast } from './state.js';

// ---- Durations

const unitSeconds = { minutes: 60, hours: 3600, days: 86400 };

// shortDuration is a compact length of time: "45m", "1h 5m", "2d 3h"
// (in the agent's language), at least a minute.
export function shortDuration(ms) {
  const lang = document.documentElement.lang || 'en';
  const unit = (n, u) => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: lang === 'en' ? 'narrow' : 'short' }).format(n);
  const mins = Math.max(1, Math.floor(Math.abs(ms) / 60000));
  const d = Math.floor(mins / 1440);
  const hrs = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  if (d) return hrs ? `${unit(d, 'day')} ${unit(hrs, 'hour')}` : unit(d, 'day');
  if (hrs) return m ? `${unit(hrs, 'hour')} ${unit(m, 'minute')}` : unit(hrs, 'hour');
  return unit(m, 'minute');
}

// relative is "in 25m" or "3h ago" from now.
function relative(iso, now) {
  const ms = new Date(iso).getTime() - now;
  return ms >= 0 ? t('sla_in', { time: shortDuration(ms) }) : t('sla_ago', { time: shortDuration(ms) });
}

// splitSeconds shows a target in the largest unit that holds it whole.
function splitSeconds(secs) {
  if (!secs) return ['', 'hours'];
  if (secs % 86400 === 0) return [secs / 86400, 'days'];
  if (secs % 3600 === 0) return [secs / 3600, 'hours'];
  return [Math.round((secs / 60) * 100) / 100, 'minutes'];
}

// durationInput is a number and a unit; read() gives seconds (0 = none).
function durationInput(name, secs, label) {
  const [n, unit] = splitSeconds(secs);
  const num = h('input', { type: 'number', name, min: 0, step: 'any', value: n, placeholder: '–', 'aria-label': label, inputmode: 'decimal' });
  const sel = h('select', { 'aria-label': `${label} · ${t('sla_unit')}` },
    Object.keys(unitSeconds).map((u) => h('option', { value: u, selected: u === unit }, t(`sla_unit_${u}`))));
  const wrap = h('span', { class: 'duration' }, num, sel);
  wrap.read = () => (num.value.trim() === '' ? 0 : Math.round(Number(num.value) * unitSeconds[sel.value]));
  return wrap;
}

// ---- Live times

// live renders what render() returns now and again every half minute,
// for as long as it is on the page.
function live(render) {
  const el = h('span', { class: 'sla-live' }, render(Date.now()));
  el.tick = () => el.replaceChildren(...[render(Date.now())].flat().filter(Boolean));
  return el;
}

setInterval(() => { for (const el of document.querySelectorAll('.sla-live')) el.tick?.(); }, 30000);

// ---- The inbox badge

// slaBadge shows how long a ticket has left: overdue in red, at risk in
// amber, otherwise a quiet "due in".
export function slaBadge(tk) {
  return live((now) => {
    const s = tk.sla;
    if (!s?.due) return null;
    const due = new Date(s.due).getTime();
    const title = t('sla_due_at', { when: formatDateTime(s.due) });
    if (due <= now) return h('span', { class: 'pill sla-overdue', title }, t('sla_overdue', { time: shortDuration(now - due) }));
    if (s.warn && new Date(s.warn).getTime() <= now) return h('span', { class: 'pill sla-risk', title }, t('sla_due_in', { time: shortDuration(due - now) }));
    return h('span', { class: 'sla-quiet', title }, t('sla_due_in', { time: shortDuration(due - now) }));
  });
}

// ---- The ticket's SLA block

const policyOf = (id) => (state.slaPolicies || []).find((p) => p.id === id);

// slaBlock shows where the ticket stands against its policy; null when no
// policy covers it.
export function slaBlock(d) {
  const s = d.sla;
  if (!s) return null;
  const p = policyOf(s.policy_id);
  const target = p?.targets?.[d.priority];
  const when = (iso, text, cls) => h('time', { datetime: iso, title: formatDateTime(iso), class: cls || null }, text);
  const clock = (due, now) => {
    const ms = new Date(due).getTime() - now;
    if (ms <= 0) return when(due, t('sla_overdue_by', { time: shortDuration(ms) }), 'sla-bad');
    const risky = s.due === due && s.warn && new Date(s.warn).getTime() <= now;
    return when(due, t('sla_due_at', { when: relative(due, now) }), risky ? 'sla-warn' : null);
  };
  const firstResponse = (now) => {
    const late = s.breached.includes('first_response');
    if (!late && target && !target.first_response) return h('span', { class: 'muted' }, t('sla_no_target'));
    if (d.first_response_at) {
      return when(d.first_response_at, t(late ? 'sla_met_late' : 'sla_met', { when: relative(d.first_response_at, now) }), late ? 'sla-bad' : 'sla-ok');
    }
    if (s.first_response_due) return clock(s.first_response_due, now);
    return late ? h('span', { class: 'sla-bad' }, t('sla_breached_state')) : h('span', { class: 'muted' }, t('sla_no_target'));
  };
  const resolution = (now) => {
    const late = s.breached.includes('resolution');
    if (!late && target && !target.resolution) return h('span', { class: 'muted' }, t('sla_no_target'));
    if (d.status === 'resolved' || d.status === 'closed') {
      return late ? h('span', { class: 'sla-bad' }, t('sla_resolved_late')) : h('span', { class: 'sla-ok' }, t('sla_resolved_in_time'));
    }
    if (s.paused) return h('span', { class: 'muted' }, t('sla_paused'));
    if (s.resolution_due) return [clock(s.resolution_due, now), late && new Date(s.resolution_due).getTime() > now ? h('span', { class: 'sla-bad' }, ` · ${t('sla_breached_state')}`) : null];
    return late ? h('span', { class: 'sla-bad' }, t('sla_breached_state')) : h('span', { class: 'muted' }, t('sla_no_target'));
  };
  return h('div', { class: 'sla-panel', id: 'sla-panel' },
    h('h2', {}, t('sla')),
    h('p', { class: 'sla-policy' }, p ? p.name : s.policy_id ? `#${s.policy_id}` : t('sla_no_policy'),
      p?.business_hours && d.store_id ? h('span', { class: 'muted' }, ` · ${t('sla_business_hours')}`) : null),
    h('dl', { class: 'sla-targets' },
      h('dt', {}, t('sla_first_response')), h('dd', {}, live((now) => firstResponse(now))),
      h('dt', {}, t('sla_resolution')), h('dd', {}, live((now) => resolution(now)))));
}

// slaEventText describes an sla_breached event for the ticket's story.
export function slaEventText(e) {
  const d = e.data || {};
  const due = d.due ? formatTimeNear(d.due, e.created_at) : '';
  return d.target === 'resolution' ? t('ev_sla_breached_resolution', { due }) : t('ev_sla_breached_first_response', { due });
}

// ---- Settings → SLA policies

const scopeOf = (p) => [p.store_id ? storeName(p.store_id) || `#${p.store_id}` : '', p.channel ? t(`channel_${p.channel}`) : '',
  p.team_id ? teamName(p.team_id) : ''].filter(Boolean).join(' · ') || t('sla_all_tickets');

function targetsSummary(p) {
  const show = (secs) => (secs ? shortDuration(secs * 1000) : '–');
  return [...priorities].reverse().filter((x) => p.targets[x]).map((x) => `${t(`priority_${x}`)} ${show(p.targets[x].first_response)} / ${show(p.targets[x].resolution)}`).join(' · ');
}

export async function slaAdmin(main, reloadMeta) {
  const { sla_policies: list } = await get('/api/sla-policies');
  state.slaPolicies = list;
  const admin = can('settings.rules'); // may change the policies
  const reload = async () => { await reloadMeta?.(); await slaAdmin(main, reloadMeta); };
  const move = async (i, by) => {
    const a = list[i];
    const b = list[i + by];
    try {
      await patch(`/api/sla-policies/${a.id}`, { position: b.position });
      await patch(`/api/sla-policies/${b.id}`, { position: a.position === b.position ? a.position + by : a.position });
      reload();
    } catch (err) { toast(errorText(err), true); }
  };
  main.replaceChildren(...[
    h('div', { class: 'admin-head' }, h('h1', {}, t('admin_sla')),
      admin ? h('button', { class: 'btn primary', onclick: () => slaEditor(main, null, reload) }, t('sla_new')) : null),
    h('p', { class: 'muted admin-hint' }, t('sla_hint')),
    admin ? null : h('p', { class: 'muted' }, t('sla_readonly')),
    list.length ? h('div', { class: 'card' }, h('table', { class: 'sla-list' },
      h('thead', {}, h('tr', {}, [t('name'), t('sla_scope'), t('sla_clock'), t('enabled'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.map((p, i) => h('tr', { dataset: { id: p.id } },
        h('td', {}, h('strong', {}, p.name), h('div', { class: 'muted sla-summary', title: t('sla_summary_hint') }, targetsSummary(p))),
        h('td', {}, scopeOf(p)),
        h('td', {}, p.business_hours ? t('sla_business_hours') : t('sla_calendar')),
        h('td', {}, h('input', { type: 'checkbox', checked: p.enabled, disabled: !admin, 'aria-label': t('enabled'), onchange: async (e) => {
          try { await patch(`/api/sla-policies/${p.id}`, { enabled: e.target.checked }); p.enabled = e.target.checked; toast(t('saved')); await reloadMeta?.(); } catch (err) { toast(errorText(err), true); e.target.checked = !e.target.checked; }
        } })),
        h('td', { class: 'nowrap actions' }, admin ? [
          h('button', { class: 'btn small', disabled: i === 0, 'aria-label': t('move_up'), title: t('move_up'), onclick: () => move(i, -1) }, '↑'), ' ',
          h('button', { class: 'btn small', disabled: i === list.length - 1, 'aria-label': t('move_down'), title: t('move_down'), onclick: () => move(i, 1) }, '↓'), ' ',
          h('button', { class: 'btn small', onclick: () => slaEditor(main, p, reload) }, t('edit')), ' ',
          h('button', { class: 'btn small danger', onclick: async () => {
            if (!confirm(t('delete_confirm', { name: p.name }))) return;
            try { await del(`/api/sla-policies/${p.id}`); toast(t('saved')); reload(); } catch (err) { toast(errorText(err), true); }
          } }, t('delete'))] : null))))))
      : h('div', { class: 'card muted' }, t('sla_empty')),
  ].filter(Boolean));
}

// slaEditor writes a policy (p null for a new one); the server's
// complaint outlines the input at fault.
function slaEditor(main, p, reload) {
  const opt = (value, label, current) => h('option', { value, selected: String(current ?? '') === String(value) }, label);
  const inputs = {};
  const targetRows = priorities.map((prio) => {
    const tg = p?.targets?.[prio] || {};
    const cell = (kind, secs) => {
      const el = durationInput(`targets.${prio}.${kind}`, secs, `${t(`priority_${prio}`)} · ${t(`sla_${kind}`)}`);
      inputs[`${prio}.${kind}`] = el;
      return h('td', {}, el);
    };
    return h('tr', {}, h('th', { scope: 'row' }, t(`priority_${prio}`)), cell('first_response', tg.first_response), cell('resolution', tg.resolution));
  });
  const table = h('table', { class: 'sla-targets-edit' },
    h('thead', {}, h('tr', {}, h('th', {}, t('priority')), h('th', {}, t('sla_first_response')), h('th', {}, t('sla_resolution')))),
    h('tbody', {}, targetRows));
  const err = h('p', { class: 'error', role: 'alert' });
  const f = h('form', { class: 'sla-editor', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, t('name')), h('input', { type: 'text', name: 'name', value: p?.name ?? '', placeholder: t('sla_name_placeholder') })),
    h('div', { class: 'sla-scope' },
      h('label', { class: 'field' }, h('span', {}, t('store')), h('select', { name: 'store_id' },
        opt('', t('all_stores'), p?.store_id), state.stores.map((s) => opt(s.id, s.name, p?.store_id)))),
      h('label', { class: 'field' }, h('span', {}, t('cond_channel')), h('select', { name: 'channel' },
        opt('', t('sla_any_channel'), p?.channel), channels.map((c) => opt(c, t(`channel_${c}`), p?.channel)))),
      h('label', { class: 'field' }, h('span', {}, t('team')), h('select', { name: 'team_id' },
        opt('', t('all_teams'), p?.team_id), state.teams.map((x) => opt(x.id, x.name, p?.team_id))))),
    h('div', {},
      h('label', { class: 'field check' }, h('input', { type: 'checkbox', name: 'business_hours', checked: p ? p.business_hours : true }),
        h('span', {}, t('sla_count_business_hours'))),
      h('p', { class: 'muted hint' }, t('sla_business_hours_hint'), ' ', h('a', { href: '#/admin/stores' }, t('admin_stores')))),
    h('h3', { class: 'form-heading' }, t('sla_targets')),
    table,
    h('p', { class: 'muted hint' }, t('sla_targets_hint')),
    h('label', { class: 'field check' }, h('input', { type: 'checkbox', name: 'enabled', checked: p ? p.enabled : true }), h('span', {}, t('enabled'))),
    h('div', { class: 'save-bar' }, h('button', { type: 'submit', class: 'btn primary' }, t('save')),
      h('button', { type: 'button', class: 'btn', onclick: () => reload() }, t('cancel'))),
    err);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const x of f.querySelectorAll('.invalid')) x.classList.remove('invalid');
    err.textContent = '';
    const v = Object.fromEntries(new FormData(f));
    const targets = {};
    for (const prio of priorities) {
      const tg = { first_response: inputs[`${prio}.first_response`].read(), resolution: inputs[`${prio}.resolution`].read() };
      if (tg.first_response || tg.resolution) targets[prio] = tg;
    }
    const body = {
      name: v.name, store_id: v.store_id ? Number(v.store_id) : null, channel: v.channel, team_id: v.team_id ? Number(v.team_id) : null,
      business_hours: v.business_hours === 'on', enabled: v.enabled === 'on', targets,
    };
    try {
      if (p) await patch(`/api/sla-policies/${p.id}`, body); else await post('/api/sla-policies', body);
      toast(t('saved'));
      reload();
    } catch (ex) {
      err.textContent = errorText(ex);
      const m = /^targets\.(\w+)\.(\w+)$/.exec(ex.field || '');
      const at = m ? inputs[`${m[1]}.${m[2]}`] : ex.field === 'targets' ? table : f.querySelector(`[name="${ex.field}"]`);
      at?.classList.add('invalid');
      (at?.querySelector?.('input, select') || at)?.focus?.();
    }
  });
  main.replaceChildren(h('h1', {}, p ? p.name : t('sla_new')), h('div', { class: 'card' }, f));
  f.querySelector('input[name="name"]').focus();
}
