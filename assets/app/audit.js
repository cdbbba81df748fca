// Settings → Audit log (admins): who signed in and who changed accounts,
// settings and customers' data, from where; filters by person, kind and
// dates, pages of 50 newest first, and the same as CSV.
import { get } from './api.js';
import { h, icon } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { agentAvatar, errorText, state } from './state.js';

// The kinds the filter offers: one kind, or a group (a prefix ending in ".").
const kindFilters = ['login', 'login_failed', 'logout', 'password.', 'profile.', 'two_factor.', 'token.', 'agent.', 'customer.',
  'mailbox.', 'store.', 'form.', 'channel.', 'rule.', 'sla_policy.', 'webhook.', 'team.', 'settings.', 'backup.', 'retention.deleted'];

// kindLabel says an entry's kind in the agent's language: its own words
// where it has them, else "<thing> created/changed/deleted".
export function kindLabel(kind) {
  const own = `audit_k_${kind.replaceAll('.', '_')}`;
  if (t(own) !== own) return t(own);
  const [thing, action] = kind.split('.');
  const thingKey = `audit_t_${thing}`;
  const name = t(thingKey) !== thingKey ? t(thingKey) : thing;
  if (!action) return name;
  const key = `audit_${action}`;
  return t(key) !== key ? t(key, { thing: name }) : `${name}: ${action}`;
}

function filterLabel(f) {
  if (!f.endsWith('.')) return kindLabel(f);
  const key = `audit_t_${f.slice(0, -1)}`;
  return t(key) !== key ? t(key) : kindLabel(`${f.slice(0, -1)}.`);
}

// targetLabel says "agent:5" as "Agent #5", in the agent's language.
function targetLabel(target) {
  const [thing, id] = target.split(':');
  const key = `audit_t_${thing}`;
  return `${t(key) !== key ? t(key) : thing} #${id}`;
}

function who(e) {
  if (e.actor_kind === 'system') return t('audit_system');
  if (e.actor_kind === 'anonymous') return t('audit_anonymous');
  return [h('span', { class: 'agent-name' }, e.actor_id ? agentAvatar(e.actor_id) : null, e.actor_name || `#${e.actor_id}`),
    e.actor_kind === 'token' ? h('span', { class: 'muted' }, ` · ${t('audit_via_token')}`) : null];
}

// details says what an entry's data holds: fields changed, a reason, counts.
function details(e) {
  const d = e.data || {};
  const parts = [];
  // A field the app has a label for is named by it (Idioma, not language).
  if (Array.isArray(d.fields) && d.fields.length) parts.push(t('audit_fields', { fields: d.fields.map((f) => (t(f) !== f ? t(f) : f)).join(', ') }));
  if (d.reason) parts.push(t(`audit_reason_${d.reason}`));
  if (d.email) parts.push(d.email);
  if (d.from && d.to) parts.push(`${t(`role_${d.from}`)} → ${t(`role_${d.to}`)}`);
  if (d.tickets !== undefined) parts.push(t('audit_counts', { tickets: d.tickets, messages: d.messages ?? 0, files: d.files ?? 0 }));
  if (d.customer_id) parts.push(`#${d.customer_id}`);
  return parts.join(' · ');
}

export async function auditAdmin(main) {
  const query = () => {
    const p = new URLSearchParams();
    if (actor.value) p.set('actor_id', actor.value);
    if (kind.value) p.set('kind', kind.value);
    if (from.value) p.set('from', from.value);
    if (to.value) p.set('to', to.value);
    return p;
  };
  const reload = () => { body.replaceChildren(); load(0); };
  const actor = h('select', { id: 'audit-actor', 'aria-label': t('audit_who'), onchange: reload },
    h('option', { value: '' }, t('audit_everyone')),
    state.agents.map((a) => h('option', { value: a.id }, a.name)));
  const kind = h('select', { id: 'audit-kind', 'aria-label': t('audit_what'), onchange: reload },
    h('option', { value: '' }, t('audit_all_kinds')), kindFilters.map((f) => h('option', { value: f }, filterLabel(f))));
  const from = h('input', { type: 'date', id: 'audit-from', 'aria-label': t('audit_date_from'), onchange: reload });
  const to = h('input', { type: 'date', id: 'audit-to', 'aria-label': t('audit_date_to'), onchange: reload });
  const csv = h('a', { class: 'btn small', href: '/api/audit?format=csv&limit=1000', download: 'audit.csv' }, icon('download'), ' ', t('audit_csv'));
  const body = h('tbody', {});
  const more = h('button', { class: 'btn small', hidden: true }, t('load_more'));
  const status = h('p', { class: 'muted', role: 'status' });
  const load = async (before) => {
    const p = query();
    csv.href = `/api/audit?${new URLSearchParams([...p, ['format', 'csv'], ['limit', '1000']])}`;
    p.set('limit', '50');
    if (before) p.set('before', before);
    status.textContent = t('loading');
    try {
      const r = await get(`/api/audit?${p}`);
      body.append(...r.entries.map((e) => h('tr', { class: `audit-${e.kind.split('.')[0]}` },
        h('td', { class: 'when' }, h('time', { datetime: e.at }, formatDateTime(e.at))),
        h('td', { class: 'who' }, who(e)),
        h('td', { class: 'what' }, h('strong', {}, kindLabel(e.kind)), e.target ? h('span', { class: 'muted' }, ` · ${targetLabel(e.target)}`) : null),
        h('td', { class: 'details' }, details(e)),
        h('td', { class: 'from muted', title: e.user_agent }, e.ip))));
      status.textContent = body.children.length ? '' : t('audit_none');
      more.hidden = !r.next_before;
      more.onclick = () => load(r.next_before);
    } catch (err) {
      status.textContent = errorText(err);
    }
  };
  main.replaceChildren(
    h('h1', {}, t('admin_audit')),
    h('p', { class: 'muted' }, t('audit_hint')),
    h('div', { class: 'card audit' },
      h('div', { class: 'audit-filters' }, actor, kind,
        h('label', {}, h('span', { class: 'muted' }, t('audit_date_from')), from),
        h('label', {}, h('span', { class: 'muted' }, t('audit_date_to')), to), csv),
      h('div', { class: 'table-wrap' }, h('table', { class: 'audit-table' },
        h('thead', {}, h('tr', {}, [t('audit_when'), t('audit_who'), t('audit_what'), t('audit_details'), t('audit_address')].map((x) => h('th', {}, x)))),
        body)),
      status, more));
  await load(0);
}
