// Admin screens (agents, teams, stores), API tokens and the agent's own settings.
import { api, del, get, patch, post, setCSRF } from './api.js';
import { $, h } from './dom.js';
import { formatDateTime, formatNumber, languages, setLocale, t } from './i18n.js';
import { importing, leftText } from './history.js';
import { agentAvatar, can, errorText, state, toast } from './state.js';
import { formsAdmin } from './forms.js';
import { helpAdmin } from './helpcentre.js';
import { handoverDialog } from './handover.js';
import { rulesAdmin, savedRepliesAdmin } from './workflow.js';
import { webhooksAdmin } from './webhooks.js';
import { channelsAdmin } from './social.js';
import { csatSettings } from './csat.js';
import { slaAdmin } from './sla.js';
import { backupCard } from './backups.js';
import { renderSignature } from './outreach.js';
import { connectMailbox, oauthBody, oauthFields, oauthStatus, wireOAuth } from './mailbox_oauth.js';
import { auditAdmin } from './audit.js';
import { twoFactorCard } from './signin.js';
import { greetingsScreen } from './greetings.js';
import { avatarCard } from './avatar.js';
import { notificationsAdmin } from './notifications.js';

let ctx = {};

// sectionPermission is what each settings screen needs (desk/roles.go);
// the others (saved replies, SLA, tokens, my settings) are everyone's.
export const sectionPermission = {
  agents: 'agents.manage', teams: 'settings.team', stores: 'settings.channels', forms: 'settings.channels',
  mailboxes: 'settings.channels', channels: 'settings.channels', rules: 'settings.rules', webhooks: 'settings.channels',
  settings: 'settings.desk', audit: 'settings.desk',
  help: 'settings.channels',
};

export async function renderAdmin(section, c) {
  ctx = c;
  const main = $('#admin');
  const render = {
    agents, teams, stores, forms: (main) => formsAdmin(main, ctx.reloadMeta), help: (main) => helpAdmin(main, ctx.reloadMeta), mailboxes, settings: deskSettings, tokens, me: mySettings, notifications: notificationsAdmin,
    replies: savedRepliesAdmin, rules: rulesAdmin, audit: async (main) => { await ctx.reloadMeta(); await auditAdmin(main); }, webhooks: webhooksAdmin, channels: (main) => channelsAdmin(main, ctx.reloadMeta), sla: (main) => slaAdmin(main, ctx.reloadMeta),
  }[section];
  if (!render || (sectionPermission[section] && !can(sectionPermission[section]))) {
    main.replaceChildren(h('p', { class: 'error' }, t('admin_only')));
    return;
  }
  main.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  try {
    await render(main);
  } catch (err) {
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
  }
}

// form builds a form whose submit calls fn with the values and shows the
// server's error beside the form, focusing the field at fault.
function form(fields, submitLabel, fn) {
  const err = h('p', { class: 'error', role: 'alert' });
  const f = h('form', { class: 'inline', novalidate: true },
    fields.map(([name, label, type, options]) => {
      if (type === 'heading') return h('h3', { class: 'form-heading' }, label);
      if (type === 'checkbox') {
        return h('label', { class: 'field check' }, h('input', { name, type, checked: !!options }), h('span', {}, label));
      }
      return h('label', { class: `field${type === 'textarea' ? ' wide' : ''}` }, h('span', {}, label),
        type === 'select'
          ? h('select', { name }, options.map(([v, text, sel]) => h('option', { value: v, selected: !!sel }, text)))
          : type === 'textarea'
            ? h('textarea', { name, rows: 5 }, options ?? '')
            : h('input', { name, type, value: options ?? '' }));
    }),
    h('button', { type: 'submit', class: 'btn primary' }, submitLabel), err);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await fn(Object.fromEntries(new FormData(f)), f);
    } catch (ex) {
      err.textContent = errorText(ex);
      if (ex.field) (f.querySelector(`[name="${ex.field}"]`) || f.querySelector(`[name="${ex.field.split('.').pop()}"]`))?.focus();
    }
  });
  return f;
}

// roles are the built-in roles, most able first (desk/roles.go).
const roles = ['admin', 'supervisor', 'agent', 'light'];

async function agents(main) {
  await ctx.reloadMeta();
  const roleSelect = (a) => h('select', {
    'aria-label': t('role'),
    onchange: async (e) => {
      try { await patch(`/api/agents/${a.id}`, { role: e.target.value }); toast(t('saved')); agents(main); } catch (err) { toast(errorText(err), true); e.target.value = a.role; }
    },
  }, roles.map((r) => h('option', { value: r, selected: r === a.role }, t(`role_${r}`))));
  // Order actions move money: agents get them one by one; a light agent
  // never writes to customers, so cannot hold them (desk.MayHold).
  const grantBox = (a) => (a.role === 'agent' ? h('label', { class: 'agent-grant' },
    h('input', { type: 'checkbox', checked: (a.grants || []).includes('order_actions'), onchange: async (e) => {
      const next = (a.grants || []).filter((g) => g !== 'order_actions').concat(e.target.checked ? ['order_actions'] : []);
      try { await patch(`/api/agents/${a.id}`, { grants: next }); a.grants = next; toast(t('saved')); } catch (err) { toast(errorText(err), true); e.target.checked = !e.target.checked; }
    } }), ' ', t('agent_grant_order_actions')) : null);
  // The stores an agent works in: none ticked is every store. An admin
  // works in every store, so theirs is a text, not a choice.
  const storesCell = (a) => {
    const ids = a.store_ids || [];
    const names = ids.map((id) => state.stores.find((s) => s.id === id)?.name).filter(Boolean);
    if (a.role === 'admin' || !state.stores.length) return h('span', { class: 'muted' }, t('all_stores'));
    const save = async (next) => {
      try { await patch(`/api/agents/${a.id}`, { store_ids: next }); a.store_ids = next; toast(t('saved')); agents(main); } catch (err) { toast(errorText(err), true); agents(main); }
    };
    return h('details', { class: 'agent-stores' },
      h('summary', { 'aria-label': t('agent_stores_of', { name: a.name }) }, names.length ? names.join(', ') : t('all_stores')),
      h('div', { class: 'agent-stores-list' }, state.stores.map((s) => h('label', {},
        h('input', { type: 'checkbox', checked: ids.includes(s.id), onchange: (e) => save(e.target.checked ? [...ids, s.id] : ids.filter((x) => x !== s.id)) }),
        ' ', s.name))));
  };
  const activeBtn = (a) => h('button', {
    class: `btn small${a.active ? ' danger' : ''}`,
    onclick: async () => {
      try { await patch(`/api/agents/${a.id}`, { active: !a.active }); agents(main); } catch (err) { toast(errorText(err), true); }
    },
  }, a.active ? t('deactivate') : t('activate'));
  const pwBtn = (a) => h('button', {
    class: 'btn small',
    onclick: async () => {
      const pw = prompt(t('new_password_for', { name: a.name }));
      if (!pw) return;
      try { await patch(`/api/agents/${a.id}`, { password: pw }); toast(t('saved')); } catch (err) { toast(errorText(err), true); }
    },
  }, t('set_password'));
  // An agent who lost their phone (and their recovery codes) signs in
  // with the password alone once an admin resets it.
  const twoFactor = (a) => (a.two_factor
    ? [t('twofa_state_on'), ' ', a.id === state.me.id ? null : h('button', { class: 'btn small', onclick: async () => {
      if (!confirm(t('twofa_reset_confirm', { name: a.name }))) return;
      try { await del(`/api/agents/${a.id}/two-factor`); toast(t('saved')); agents(main); } catch (err) { toast(errorText(err), true); }
    } }, t('twofa_reset'))]
    : h('span', { class: 'muted' }, t('twofa_state_off')));
  main.replaceChildren(
    h('h1', {}, t('admin_agents')),
    // A phone shows each agent as a card, each value under its column's name.
    h('div', { class: 'card' }, h('table', { class: 'agents-table phone-cards' },
      h('thead', {}, h('tr', {}, [t('name'), t('email'), t('role'), t('admin_stores'), t('status'), t('twofa_column'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, state.agents.map((a) => h('tr', {},
        h('td', { class: 'who' }, h('span', { class: 'agent-name' }, agentAvatar(a.id), a.name)), h('td', { class: 'email' }, a.email),
        h('td', { dataset: { label: t('role') } }, roleSelect(a), grantBox(a)), h('td', { dataset: { label: t('admin_stores') } }, storesCell(a)),
        h('td', { dataset: { label: t('status') } }, a.active ? t('active') : t('inactive')),
        h('td', { dataset: { label: t('twofa_column') } }, twoFactor(a)),
        h('td', { class: 'actions' }, a.id === state.me.id ? '' : [pwBtn(a), ' '], h('button', { class: 'btn small', onclick: () => handoverDialog({ agent: a }) }, t('handover_button')), ' ', activeBtn(a)))))),
      h('p', { class: 'muted admin-hint roles-hint' }, t('roles_hint'))),
    h('div', { class: 'card' }, h('h2', {}, t('add_agent')), h('p', { class: 'muted' }, t('add_agent_hint')),
      form([['name', t('name'), 'text'], ['email', t('email'), 'email'], ['password', t('password_new'), 'password'],
        ['role', t('role'), 'select', roles.map((r) => [r, t(`role_${r}`), r === 'agent'])]], t('add'),
      async (v) => { await post('/api/agents', v); toast(t('saved')); agents(main); })));
}

async function teams(main) {
  await ctx.reloadMeta();
  const members = (team) => h('div', { class: 'bulk' }, state.agents.filter((a) => a.active).map((a) => h('label', { class: 'member' },
    h('input', {
      type: 'checkbox', checked: team.agent_ids.includes(a.id),
      onchange: async (e) => {
        const ids = e.target.checked ? [...team.agent_ids, a.id] : team.agent_ids.filter((x) => x !== a.id);
        try { await patch(`/api/teams/${team.id}`, { agent_ids: ids }); team.agent_ids = ids; } catch (err) { toast(errorText(err), true); e.target.checked = !e.target.checked; }
      },
    }), ' ', agentAvatar(a.id), ' ', a.name)));
  // How new tickets of the team find an agent: by hand, or round robin
  // among members online and under the cap.
  const assignment = (team) => {
    const cap = h('input', {
      type: 'number', min: 0, step: 1, value: String(team.max_open ?? 0), class: 'team-cap', disabled: team.assignment !== 'round_robin',
      'aria-label': t('team_max_open'), title: t('team_max_open_hint'),
      onchange: async (e) => {
        const n = Number(e.target.value);
        try { await patch(`/api/teams/${team.id}`, { max_open: n }); team.max_open = n; toast(t('saved')); } catch (err) { toast(errorText(err), true); e.target.value = String(team.max_open ?? 0); }
      },
    });
    return h('div', { class: 'team-assign' },
      h('select', {
        'aria-label': t('team_assignment'),
        onchange: async (e) => {
          try {
            await patch(`/api/teams/${team.id}`, { assignment: e.target.value });
            team.assignment = e.target.value;
            cap.disabled = team.assignment !== 'round_robin';
            toast(t('saved'));
          } catch (err) { toast(errorText(err), true); e.target.value = team.assignment; }
        },
      }, ['manual', 'round_robin'].map((x) => h('option', { value: x, selected: (team.assignment || 'manual') === x }, t(`assign_${x}`)))),
      h('label', {}, h('span', {}, t('team_max_open')), cap));
  };
  main.replaceChildren(
    h('h1', {}, t('admin_teams')),
    ...(state.teams.length ? [h('p', { class: 'muted admin-hint' }, t('team_assignment_hint'))] : []),
    state.teams.length ? h('div', { class: 'card' }, h('table', { class: 'teams-table phone-cards' },
      h('thead', {}, h('tr', {}, [t('name'), t('members'), t('team_assignment')].map((x) => h('th', {}, x)))),
      h('tbody', {}, state.teams.map((team) => h('tr', {},
        h('td', { class: 'wide' }, h('input', {
          type: 'text', value: team.name, 'aria-label': t('name'),
          onchange: async (e) => { try { await patch(`/api/teams/${team.id}`, { name: e.target.value }); toast(t('saved')); } catch (err) { toast(errorText(err), true); } },
        })),
        h('td', { class: 'wide', dataset: { label: t('members') } }, members(team)),
        h('td', { class: 'wide', dataset: { label: t('team_assignment') } }, assignment(team)))))))
      : h('div', { class: 'card muted' }, t('no_teams')),
    h('div', { class: 'card' }, h('h2', {}, t('add_team')),
      form([['name', t('name'), 'text']], t('add'), async (v) => { await post('/api/teams', { name: v.name }); toast(t('saved')); teams(main); })));
}

async function stores(main) {
  await ctx.reloadMeta();
  if (ctx.sub?.[1] === 'greetings') return greetingsScreen(main, Number(ctx.sub[0])); // #/admin/stores/{id}/greetings
  const langOptions = (cur) => Object.entries(languages).map(([code, name]) => [code, name, code === cur]);
  main.replaceChildren(
    h('h1', {}, t('admin_stores')),
    ...(state.stores.length ? state.stores.map((s) => storeCard(s, langOptions, () => stores(main)))
      : [h('div', { class: 'card muted' }, t('no_stores'))]),
    h('div', { class: 'card' }, h('h2', {}, t('add_store')),
      form([['name', t('name'), 'text'], ['language', t('language'), 'select', langOptions('en')], ['timezone', t('timezone'), 'text', 'UTC']], t('add'),
        async (v) => { await post('/api/stores', v); toast(t('saved')); stores(main); })));
}

// Days of the week as the store's hours list them (Sunday first), shown
// from Monday.
const weekOrder = [1, 2, 3, 4, 5, 6, 0];
const dayName = (i) => new Intl.DateTimeFormat(state.me.language, { weekday: 'long' }).format(new Date(Date.UTC(2026, 10, 22 + i, 12)));

// storeCard edits one store: its name and language, the sites that may
// embed its chat, and how the chat widget looks and behaves, with the
// snippet to paste and a preview of the launcher.
function storeCard(s, langOptions, reload) {
  const c = s.chat || {};
  const snippet = `<script src="${location.origin}/widget.js" data-store="${s.slug}" async></script>`;
  const preview = h('button', { type: 'button', class: 'launcher-preview', tabindex: -1, 'aria-hidden': 'true' });
  const paint = (f) => {
    const v = Object.fromEntries(new FormData(f));
    preview.style.background = v.color;
    preview.style.justifySelf = v.position === 'left' ? 'start' : 'end';
    preview.textContent = v.launcher || t('chat_launcher_default');
  };
  const hours = c.hours?.length === 7 ? c.hours : ['', '09:00-17:00', '09:00-17:00', '09:00-17:00', '09:00-17:00', '09:00-17:00', ''];
  const f = form([
    ['name', t('name'), 'text', s.name], ['slug', t('slug'), 'text', s.slug], ['language', t('language'), 'select', langOptions(s.language)],
    ['timezone', t('timezone'), 'text', s.timezone],
    ['logo_url', t('logo_url'), 'url', s.logo_url || ''],
    ['country', t('store_country'), 'text', s.country || ''],
    ['allowed_origins', t('allowed_origins'), 'textarea', (s.allowed_origins || []).join('\n')],
    ['-', t('orders_heading'), 'heading'],
    ['platform', t('orders_platform'), 'select', ['shopify', 'woocommerce'].map((x) => [x, t(`orders_platform_${x}`), (s.orders?.platform || 'shopify') === x])],
    ['shopify_domain', t('orders_shopify_domain'), 'text', s.orders?.shopify_domain || ''],
    ['shopify_token', s.orders?.shopify_token_set ? t('orders_token_set') : t('orders_shopify_token'), 'password', ''],
    ['lookup_url', t('orders_lookup_url'), 'url', s.orders?.lookup_url || ''],
    ['lookup_secret', s.orders?.lookup_secret_set ? t('orders_secret_set') : t('orders_lookup_secret'), 'password', ''],
    ['woo_url', t('orders_woo_url'), 'url', s.orders?.woo_url || ''],
    ['woo_key', s.orders?.woo_key_set ? t('orders_woo_key_set') : t('orders_woo_key'), 'password', ''],
    ['woo_secret', s.orders?.woo_key_set ? t('orders_woo_key_set') : t('orders_woo_secret'), 'password', ''],
    ['webhook_secret', t(s.orders?.webhook_secret_set ? 'orders_webhook_secret_set' : 'orders_webhook_secret', { url: `${location.origin}/hooks/orders/${s.id}` }), 'password', ''],
    ['-', t('signature_store'), 'heading'],
    ['signature', t('signature'), 'textarea', s.signature || ''],
    ['-', t('chat_widget'), 'heading'],
    ['color', t('chat_color'), 'color', c.color || '#2457d6'],
    ['position', t('chat_position'), 'select', [['right', t('chat_right'), c.position !== 'left'], ['left', t('chat_left'), c.position === 'left']]],
    ['launcher', t('chat_launcher'), 'text', c.launcher || ''],
    ['greeting', t('chat_greeting'), 'textarea', c.greeting || ''],
    ['prechat', t('chat_prechat'), 'select', ['off', 'optional', 'required'].map((x) => [x, t(`prechat_${x}`), (c.prechat || 'off') === x])],
    ['files', t('chat_files'), 'checkbox', c.files],
    ['max_file_mb', t('chat_max_file_mb'), 'number', String(c.max_file_mb || 10)],
    ['page_url', t('chat_page_url'), 'url', c.page_url || ''],
    ['-', t('chat_hours'), 'heading'],
    ['hours_on', t('chat_hours_on'), 'checkbox', c.hours?.length === 7],
    ...weekOrder.map((i) => [`hours_${i}`, dayName(i), 'text', hours[i]]),
    ['-', t('chat_idle'), 'heading'],
    ['idle_minutes', t('chat_idle_minutes'), 'number', String(c.idle_minutes || 0)],
    ['idle_status', t('chat_idle_status'), 'select', ['resolved', 'pending'].map((x) => [x, t(`status_${x}`), (c.idle_status || 'resolved') === x])],
  ], t('save'), async (v) => {
    const body = {
      name: v.name, slug: v.slug, language: v.language, timezone: v.timezone, logo_url: v.logo_url, country: v.country, signature: v.signature,
      allowed_origins: v.allowed_origins.split(/\s+/).filter(Boolean),
      // Secrets are write-only: an empty box keeps the one set before.
      orders: { platform: v.platform, shopify_domain: v.shopify_domain, lookup_url: v.lookup_url, woo_url: v.woo_url,
        ...(v.shopify_token ? { shopify_token: v.shopify_token } : {}), ...(v.lookup_secret ? { lookup_secret: v.lookup_secret } : {}),
        ...(v.woo_key ? { woo_key: v.woo_key } : {}), ...(v.woo_secret ? { woo_secret: v.woo_secret } : {}),
        ...(v.webhook_secret ? { webhook_secret: v.webhook_secret } : {}) },
      chat: {
        color: v.color, position: v.position, launcher: v.launcher, greeting: v.greeting, prechat: v.prechat,
        files: v.files === 'on', max_file_mb: Number(v.max_file_mb) || 0,
        hours: v.hours_on === 'on' ? [0, 1, 2, 3, 4, 5, 6].map((i) => v[`hours_${i}`]) : [],
        idle_minutes: Number(v.idle_minutes) || 0, idle_status: v.idle_status, page_url: v.page_url,
      },
    };
    await patch(`/api/stores/${s.id}`, body);
    toast(t('saved'));
    reload();
  });
  f.addEventListener('input', () => paint(f));
  for (const i of weekOrder) f.querySelector(`[name=hours_${i}]`).placeholder = t('chat_closed');
  const sigBox = f.querySelector('[name=signature]');
  sigBox.placeholder = t('signature_store_placeholder');
  sigBox.after(h('small', { class: 'muted' }, t('signature_hint')));
  paint(f);
  const copy = h('button', { type: 'button', class: 'btn small', onclick: async () => {
    try { await navigator.clipboard.writeText(snippet); toast(t('copied')); } catch { toast(snippet); }
  } }, t('copy'));
  return h('div', { class: 'card store-card' }, h('h2', {}, s.name),
    h('div', { class: 'snippet' }, h('p', { class: 'muted' }, t('chat_snippet_hint')), h('code', {}, snippet), copy),
    h('p', {}, h('a', { class: 'btn small greetings-link', href: `#/admin/stores/${s.id}/greetings` }, t('greetings_link'))),
    h('div', { class: 'snippet' }, h('p', { class: 'muted' }, t('portal_link_hint')),
      h('a', { href: `/portal/${s.slug}`, target: '_blank', rel: 'noopener' }, `${location.origin}/portal/${s.slug}`)),
    h('div', { class: 'preview-row' }, h('span', { class: 'muted' }, t('chat_preview')), preview),
    f, h('p', { class: 'muted' }, t('chat_hours_hint')), csatSettings(s));
}

// mailboxFields are the settings of a support mailbox, filled from m.
function mailboxFields(m) {
  const sec = (cur) => ['tls', 'starttls', 'none'].map((v) => [v, t(`sec_${v}`), v === cur]);
  return [
    ['address', t('email'), 'email', m.address ?? ''],
    ['name', t('mailbox_name'), 'text', m.name ?? ''],
    ...oauthFields(m),
    ['imap_host', t('imap_host'), 'text', m.imap_host ?? ''],
    ['imap_port', t('port'), 'text', String(m.imap_port ?? 993)],
    ['imap_security', t('security'), 'select', sec(m.imap_security ?? 'tls')],
    ['imap_username', t('username'), 'text', m.imap_username ?? ''],
    ['imap_password', m.id ? t('password_keep') : t('password'), 'password', ''],
    ['imap_folder', t('folder'), 'text', m.imap_folder ?? 'INBOX'],
    ['after_import', t('after_import'), 'select', ['leave', 'seen', 'move'].map((v) => [v, t(`after_${v}`), v === (m.after_import ?? 'leave')])],
    ['move_to', t('move_to'), 'text', m.move_to ?? ''],
    ['poll_seconds', t('poll_seconds'), 'text', String(m.poll_seconds ?? 60)],
    ['smtp_host', t('smtp_host'), 'text', m.smtp_host ?? ''],
    ['smtp_port', t('port'), 'text', String(m.smtp_port ?? 587)],
    ['smtp_security', t('security'), 'select', sec(m.smtp_security ?? 'starttls')],
    ['smtp_username', t('username'), 'text', m.smtp_username ?? ''],
    ['smtp_password', m.id ? t('password_keep') : t('password'), 'password', ''],
    ['max_message_mb', t('max_message_mb'), 'text', String(m.max_message_mb ?? 25)],
    ['plus_addressing', t('plus_addressing'), 'checkbox', m.plus_addressing],
    ['auto_ack', t('auto_ack'), 'checkbox', m.auto_ack],
    ['auto_ack_text', t('auto_ack_text'), 'textarea', m.auto_ack_text || t('auto_ack_default')],
    ['-', t('mailbox_start'), 'heading'],
    // "Everything, as new tickets" is offered where it is already chosen
    // (set through the API); the form asks the two usual questions.
    ['start_from', t('start_from'), 'select', ['new', 'history', ...(m.start_from === 'all' ? ['all'] : [])]
      .map((v) => [v, t(`start_${v}`), v === (m.start_from ?? 'new')])],
    ['history_since', t('history_since'), 'date', m.history_since ? m.history_since.slice(0, 10) : ''],
    ['sent_folder', t('sent_folder'), 'text', m.sent_folder ?? ''],
  ];
}

// startFields shows the history's day only when history is asked for,
// says what history is, and hints that the Sent folder is found alone.
function startFields(f) {
  const since = f.querySelector('[name=history_since]').closest('label');
  const start = f.querySelector('[name=start_from]');
  const sent = f.querySelector('[name=sent_folder]');
  sent.placeholder = t('sent_folder_auto');
  sent.closest('label').after(h('p', { class: 'muted wide start-hint' }, t('mailbox_start_hint')));
  const show = () => { since.hidden = start.value !== 'history'; };
  start.addEventListener('change', show);
  show();
  return f;
}

// historyStatus shows a mailbox's history import: a bar with done of
// total and the time left while it runs, with a button to cancel it.
function historyStatus(m, reload) {
  const p = m.history;
  if (!p) return null;
  const nums = { done: formatNumber(p.done), total: formatNumber(p.total) };
  const lines = {
    pending: () => t('history_pending'),
    running: () => [t('history_running', nums), p.left_s != null ? ` · ${leftText(p.left_s)}` : ''],
    done: () => t('history_done', { n: p.done }),
    cancelled: () => t('history_cancelled', nums),
  };
  const active = importing(p);
  return h('div', { class: 'history-status', id: `history-${m.id}`, role: 'status' },
    active ? h('progress', { max: Math.max(p.total, 1), value: p.done, 'aria-label': t('mailbox_start') }) : null,
    h('p', { class: active ? '' : 'muted' }, (lines[p.state] || (() => p.state))()),
    p.error ? h('p', { class: 'error' }, t('history_failing', { error: p.error })) : null,
    active ? h('button', { type: 'button', class: 'btn small', onclick: async (e) => {
      e.target.disabled = true;
      try { await post(`/api/mailboxes/${m.id}/history/cancel`); dispatchEvent(new Event('onedesk:history')); reload(); } catch (err) { toast(errorText(err), true); e.target.disabled = false; }
    } }, t('history_cancel')) : null);
}

// mailboxBody turns form values into the API's types; an empty password
// keeps the stored one.
function mailboxBody(v) {
  const body = { ...v };
  for (const k of ['imap_port', 'smtp_port', 'poll_seconds', 'max_message_mb']) body[k] = Number(v[k]);
  for (const k of ['plus_addressing', 'auto_ack']) body[k] = v[k] === 'on';
  for (const k of ['imap_password', 'smtp_password']) if (!v[k]) delete body[k];
  if (body.start_from !== 'history' || !body.history_since) delete body.history_since;
  return oauthBody(body);
}

let historyTimer = 0;

async function mailboxes(main) {
  const { mailboxes: list, oauth_redirect_url: redirectURL } = await get('/api/mailboxes');
  // The form, with the sign-in's fields shown as chosen.
  const mailboxForm = (m, label, fn) => { const f = form(mailboxFields(m), label, fn); wireOAuth(f, redirectURL); return startFields(f); };
  const ticketLink = (im) => h('a', { href: `#/open/t/${im.ticket_id}` }, im.subject || `#${im.ticket_id}`);
  const status = (m) => [
    oauthStatus(m),
    m.oauth?.reconnect ? null : m.stuck ? h('p', { class: 'error mailbox-stuck', role: 'alert' }, m.failing_uid
      ? t('mailbox_stuck_uid', { uid: m.failing_uid, error: m.last_error })
      : t('mailbox_stuck_since', { when: formatDateTime(m.failing_since), error: m.last_error }))
      : m.last_error ? h('p', { class: 'error', role: 'alert' }, t('mailbox_error', { error: m.last_error }))
        : h('p', { class: 'muted' }, m.last_success_at ? t('mailbox_ok', { when: formatDateTime(m.last_success_at) }) : t('mailbox_waiting')),
    h('p', { class: 'muted mailbox-last' }, m.last_message
      ? [t('mailbox_last_message', { when: formatDateTime(m.last_message.imported_at) }), ' ', ticketLink(m.last_message)]
      : t('mailbox_no_messages')),
    // Partly read mail: counted, the newest listed with why, each a link to its ticket.
    m.partial_count ? h('details', { class: 'mailbox-partial' },
      h('summary', {}, t('mailbox_partial', { n: m.partial_count })),
      h('ul', {}, m.partial.map((im) => h('li', {}, ticketLink(im), ' ',
        h('span', { class: 'muted' }, `${formatDateTime(im.imported_at)} · ${im.partial}`))))) : null,
  ];
  const test = (m) => h('button', { type: 'button', class: 'btn small', onclick: async (e) => {
    e.target.disabled = true;
    try {
      const res = await post(`/api/mailboxes/${m.id}/test`);
      res.ok ? toast(t('test_ok')) : toast(res.error, true);
    } catch (err) { toast(errorText(err), true); } finally { e.target.disabled = false; }
  } }, t('test_connection'));
  const reload = () => mailboxes(main);
  main.replaceChildren(
    h('h1', {}, t('admin_mailboxes')),
    h('p', { class: 'muted' }, t('mailboxes_hint')),
    ...(list.length ? list.map((m) => h('div', { class: 'card' },
      h('h2', {}, m.name ? `${m.name} <${m.address}>` : m.address), ...status(m), historyStatus(m, reload), test(m),
      mailboxForm(m, t('save'), async (v) => { await patch(`/api/mailboxes/${m.id}`, mailboxBody(v)); toast(t('saved')); dispatchEvent(new Event('onedesk:history')); reload(); })))
      : [h('div', { class: 'card muted' }, t('no_mailboxes'))]),
    h('div', { class: 'card' }, h('h2', {}, t('add_mailbox')),
      mailboxForm({}, t('add'), async (v) => {
        const made = await post('/api/mailboxes', mailboxBody(v));
        dispatchEvent(new Event('onedesk:history'));
        // An OAuth2 mailbox goes on to the provider's consent page at once.
        if (v.auth === 'oauth2') return connectMailbox(made.id);
        toast(t('saved')); reload();
      })));
  // While an import runs its bar moves: the status alone is redrawn, so
  // a form being edited is left as it is.
  clearTimeout(historyTimer);
  const follow = async () => {
    if (!document.body.contains(main) || !location.hash.startsWith('#/admin/mailboxes')) return;
    try {
      const { mailboxes: now } = await get('/api/mailboxes');
      for (const m of now) $(`#history-${m.id}`)?.replaceWith(historyStatus(m, reload) || '');
      if (now.some((m) => importing(m.history))) historyTimer = setTimeout(follow, 3000);
    } catch { historyTimer = setTimeout(follow, 10000); }
  };
  if (list.some((m) => importing(m.history))) historyTimer = setTimeout(follow, 3000);
}

async function tokens(main) {
  const { tokens: list } = await get('/api/tokens');
  const shown = h('div');
  main.replaceChildren(
    h('h1', {}, t('admin_tokens')),
    h('p', { class: 'muted' }, t('tokens_hint')),
    shown,
    h('div', { class: 'card' }, list.length ? h('table', {},
      h('thead', {}, h('tr', {}, [t('name'), t('created'), t('last_used'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.map((tok) => h('tr', {}, h('td', {}, tok.name), h('td', {}, formatDateTime(tok.created_at)),
        h('td', {}, tok.last_used_at ? formatDateTime(tok.last_used_at) : t('never')),
        h('td', {}, h('button', { class: 'btn small danger', onclick: async () => {
          if (!confirm(t('revoke_confirm', { name: tok.name }))) return;
          try { await del(`/api/tokens/${tok.id}`); tokens(main); } catch (err) { toast(errorText(err), true); }
        } }, t('revoke')))))))
      : h('p', { class: 'muted' }, t('no_tokens'))),
    h('div', { class: 'card' }, h('h2', {}, t('add_token')),
      form([['name', t('name'), 'text']], t('create'), async (v) => {
        const tok = await post('/api/tokens', { name: v.name });
        await tokens(main);
        $('#admin > div').replaceWith(h('div', { class: 'card' }, h('strong', {}, t('token_once')), h('p', { class: 'secret' }, tok.token)));
      })));
}

async function deskSettings(main) {
  const st = await get('/api/settings');
  main.replaceChildren(
    h('h1', {}, t('admin_settings')),
    h('div', { class: 'card' }, form([
      ['reopen_days', t('reopen_days'), 'text', String(st.reopen_days)],
      ['assign_on_reply', t('assign_on_reply'), 'checkbox', st.assign_on_reply],
      ['retention_months', t('retention_months'), 'number', String(st.retention_months ?? 0)],
      ['require_two_factor', t('require_2fa'), 'checkbox', st.require_two_factor],
    ], t('save'), async (v) => {
      await patch('/api/settings', { reopen_days: Number(v.reopen_days), assign_on_reply: v.assign_on_reply === 'on', retention_months: Number(v.retention_months), require_two_factor: v.require_two_factor === 'on' });
      toast(t('saved'));
    }), h('p', { class: 'muted' }, t('reopen_days_hint')), h('p', { class: 'muted' }, t('assign_on_reply_hint')),
    h('p', { class: 'muted' }, t('retention_hint')), h('p', { class: 'muted' }, t('require_2fa_hint'))),
    await systemMailCard(),
    await backupCard());
}

// systemMailCard sets the server the desk's own mail (password reset
// links) leaves through; empty, the first store's mailbox sends it.
async function systemMailCard() {
  const m = await get('/api/settings/system-mail');
  const sec = ['tls', 'starttls', 'none'].map((v) => [v, t(`sec_${v}`), v === (m.security || 'starttls')]);
  return h('div', { class: 'card', id: 'system-mail' }, h('h2', {}, t('sysmail_title')), h('p', { class: 'muted' }, t('sysmail_hint')),
    form([
      ['host', t('smtp_host'), 'text', m.host ?? ''],
      ['port', t('port'), 'text', m.port ? String(m.port) : ''],
      ['security', t('security'), 'select', sec],
      ['username', t('username'), 'text', m.username ?? ''],
      ['password', m.password_set ? t('password_keep') : t('password'), 'password', ''],
      ['from', t('sysmail_from'), 'email', m.from ?? ''],
      ['from_name', t('sysmail_from_name'), 'text', m.from_name ?? ''],
    ], t('save'), async (v) => {
      await api('PUT', '/api/settings/system-mail', { ...v, port: Number(v.port) || 0 });
      toast(t('saved'));
    }));
}

async function mySettings(main) {
  const me = state.me;
  main.replaceChildren(
    h('h1', {}, t('my_settings')),
    h('div', { class: 'card', id: 'notifications-link' }, h('h2', {}, t('notif_title')), h('p', { class: 'muted' }, t('notif_summary')),
      h('a', { class: 'btn', href: '#/admin/notifications' }, t('notif_open'))),
    h('div', { class: 'card' }, form([
      ['name', t('name'), 'text', me.name],
      ['language', t('language'), 'select', Object.entries(languages).map(([code, name]) => [code, name, code === me.language])],
      ['timezone', t('timezone'), 'text', me.timezone],
    ], t('save'), async (v) => {
      const res = await patch('/api/me', v);
      state.me = { ...res.agent, permissions: state.me.permissions };
      await setLocale(res.agent.language, res.agent.timezone);
      location.reload();
    })),
    await avatarCard(),
    signatureCard(me),
    h('div', { class: 'card' }, h('h2', {}, t('theme')),
      h('div', { class: 'bulk' }, ['light', 'dark', 'auto'].map((th) => h('button', { class: 'btn small', onclick: () => {
        th === 'auto' ? localStorage.removeItem('onedesk.theme') : localStorage.setItem('onedesk.theme', th);
        document.documentElement.setAttribute('data-theme', th === 'auto' ? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light') : th);
      } }, t(`theme_${th}`))))),
    h('div', { class: 'card' }, h('h2', {}, t('change_password')),
      form([['current_password', t('password_current'), 'password'], ['password', t('password_new'), 'password']], t('save'), async (v, f) => {
        const res = await patch('/api/me', { current_password: v.current_password, password: v.password });
        // A new password starts a new session and ends every other one.
        setCSRF(res.csrf_token);
        f.reset();
        toast(t('saved'));
      })),
    await twoFactorCard());
}

// signatureCard edits the agent's own email signature, with a preview of
// how it reads under a reply (above the store's, when the store has one).
function signatureCard(me) {
  const area = h('textarea', { name: 'signature', id: 'my-signature', rows: 4, placeholder: t('signature_mine_placeholder') }, me.signature || '');
  area.value = me.signature || '';
  const store = state.stores.find((s) => s.signature) || null;
  const preview = h('div', { class: 'sig-text', id: 'my-signature-preview' });
  const paint = () => { preview.textContent = renderSignature({ ...me, signature: area.value }, store) || '–'; };
  area.addEventListener('input', paint);
  paint();
  const form = h('form', { onsubmit: async (e) => {
    e.preventDefault();
    try {
      const res = await patch('/api/me', { signature: area.value });
      state.me = res.agent;
      toast(t('saved'));
    } catch (err) { toast(errorText(err), true); }
  } },
  h('label', { class: 'field' }, h('span', {}, t('signature')), area),
  h('p', { class: 'muted' }, t('signature_hint')),
  h('div', { class: 'sig-preview' }, h('span', { class: 'muted' }, store ? t('signature_preview_with', { store: store.name }) : t('signature_preview')), preview),
  h('button', { type: 'submit', class: 'btn primary' }, t('save')));
  return h('div', { class: 'card', id: 'signature-card' }, h('h2', {}, t('signature_mine')), form);
}
