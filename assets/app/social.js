// Settings → Channels (admins): the social accounts customers write to.
// Telegram: connect a bot by its token, see how its messages arrive and how
// it is doing, switch it off, give it a new token, move it to another
// store, disconnect it. Tokens are write-only: the server never sends them.
import { del, get, patch, post } from './api.js';
import { h, icon } from './dom.js';
import { age, formatDateTime, t } from './i18n.js';
import { metaCard } from './meta.js';
import { whatsappCard } from './whatsapp.js';
import { errorText, state, toast } from './state.js';

function storeOptions(current) {
  return [h('option', { value: '', selected: current == null }, t('no_store')),
    ...state.stores.map((s) => h('option', { value: String(s.id), selected: s.id === current }, s.name))];
}

// statusLine tells how an account is doing: connected (with its last
// contact), failing (with the reason), starting, or switched off.
function statusLine(a) {
  const st = a.state || {};
  if (!a.enabled) return [h('span', { class: 'pill social-off' }, t('social_off'))];
  if (st.last_error) {
    return [h('span', { class: 'pill hook-failed' }, t('social_failing')), ' ',
      h('span', { class: 'muted', title: formatDateTime(st.last_error_at) }, age(st.last_error_at)),
      h('div', { class: 'error social-error', role: 'alert' }, st.last_error)];
  }
  if (st.last_ok_at) {
    return [h('span', { class: 'pill hook-ok' }, t('social_ok')), ' ',
      h('span', { class: 'muted', title: formatDateTime(st.last_ok_at) }, t('social_last_contact', { when: age(st.last_ok_at) }))];
  }
  return [h('span', { class: 'muted' }, t('social_waiting'))];
}

function modeLine(a) {
  const st = a.state || {};
  if (st.mode === 'webhook' && st.webhook_url) return h('div', { class: 'muted clip', title: st.webhook_url }, t('social_mode_webhook_at', { url: st.webhook_url }));
  if (st.mode === 'polling') return h('div', { class: 'muted' }, t('social_mode_polling_short'));
  return null;
}

// socialCard is a platform's card: its accounts (rows gives each one's
// table rows) and, under them, the form that connects another. The form
// has the platform's fields (trimmed into the request under their names)
// and a store; its button says it is checking while the server asks the
// platform, and a refusal shows by the field it names, which keeps focus.
function socialCard({ cls, icons, title, mode, head, accounts, rows, none, heading, hint, form: f }) {
  const err = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'btn primary' }, t(f.button));
  const connect = h('form', { class: `inline social-connect ${f.cls}`, novalidate: true },
    f.fields.map((x) => h('label', { class: x.wide ? 'field wide' : 'field' }, h('span', {}, t(x.label)),
      h('input', { name: x.name, type: x.type, autocomplete: 'off', spellcheck: 'false', placeholder: x.placeholder, required: !x.optional }))),
    h('label', { class: 'field' }, h('span', {}, t('store')), h('select', { name: 'store_id' }, storeOptions(state.stores[0]?.id))),
    button, err);
  connect.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const v = Object.fromEntries(new FormData(connect));
    const body = { platform: f.platform, store_id: v.store_id ? Number(v.store_id) : null };
    for (const x of f.fields) body[x.name] = v[x.name].trim();
    button.disabled = true;
    button.textContent = t(f.checking);
    try {
      const a = await post('/api/social-accounts', body);
      toast(f.connected(a));
      f.reload();
    } catch (ex) {
      err.textContent = errorText(ex);
      (connect.querySelector(`[name="${ex.field}"]`) || connect.querySelector('input'))?.focus();
      button.disabled = false;
      button.textContent = t(f.button);
    }
  });
  return h('div', { class: `card social-card ${cls}` },
    h('div', { class: 'social-head' }, icons.map((x) => icon(x)), h('h2', {}, title)),
    h('p', { class: 'muted' }, mode),
    accounts.length ? h('table', { class: 'social-accounts' },
      h('thead', {}, h('tr', {}, [t(head), t('store'), t('status'), t('enabled'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, accounts.flatMap(rows)))
      : h('p', { class: 'muted social-empty' }, t(none)),
    h('h3', { class: 'form-heading' }, t(heading)),
    h('p', { class: 'muted' }, t(hint)),
    connect);
}

export async function channelsAdmin(main, reloadMeta) {
  await reloadMeta();
  const { social_accounts: list, modes } = await get('/api/social-accounts');
  const bots = list.filter((a) => a.platform === 'telegram');
  const reload = () => channelsAdmin(main, reloadMeta);
  const change = async (a, body, input, undo) => {
    try { await patch(`/api/social-accounts/${a.id}`, body); toast(t('saved')); reload(); } catch (err) { toast(errorText(err), true); undo?.(input); }
  };
  // row shows an account; replace names the setting its "new token"
  // button asks for (Telegram's token by default).
  const row = (a, replace = { field: 'token', label: 'tg_replace_token', prompt: 'tg_new_token_prompt' }) => h('tr', { dataset: { account: a.id } },
    h('td', {}, h('strong', {}, a.handle), h('div', { class: 'muted' }, a.name), modeLine(a)),
    h('td', {}, h('select', { 'aria-label': t('store'), onchange: (e) => change(a, { store_id: e.target.value ? Number(e.target.value) : null }, e.target,
      (el) => { el.value = a.store_id == null ? '' : String(a.store_id); }) }, storeOptions(a.store_id))),
    h('td', { class: 'social-status' }, statusLine(a)),
    h('td', {}, h('input', { type: 'checkbox', checked: a.enabled, 'aria-label': t('social_enabled', { name: a.handle }),
      onchange: (e) => change(a, { enabled: e.target.checked }, e.target, (el) => { el.checked = !el.checked; }) })),
    h('td', { class: 'actions' },
      h('button', { class: 'btn small', onclick: async () => {
        const token = prompt(t(replace.prompt, { name: a.handle }));
        if (!token) return;
        change(a, { [replace.field]: token.trim() });
      } }, t(replace.label)), ' ',
      h('button', { class: 'btn small danger', onclick: async () => {
        if (!confirm(t('social_disconnect_confirm', { name: a.handle }))) return;
        try { await del(`/api/social-accounts/${a.id}`); toast(t('social_disconnected', { name: a.handle })); reload(); } catch (err) { toast(errorText(err), true); }
      } }, t('social_disconnect'))));

  const telegram = socialCard({
    cls: 'tg-card', icons: ['telegram'], title: t('channel_telegram'),
    mode: t(modes?.telegram === 'webhook' ? 'social_mode_webhook' : 'social_mode_polling'),
    head: 'tg_bot', accounts: bots, rows: (a) => row(a), none: 'tg_none', heading: 'tg_connect', hint: 'tg_connect_hint',
    form: { cls: 'tg-connect', platform: 'telegram', button: 'tg_connect_button', checking: 'tg_checking', reload,
      connected: (a) => t('tg_connected', { name: a.handle }),
      fields: [{ label: 'tg_token', name: 'token', type: 'password', placeholder: '123456789:AAE…', wide: true }] },
  });
  const token = telegram.querySelector('[name=token]');
  main.replaceChildren(
    h('h1', {}, t('admin_channels')),
    h('p', { class: 'muted admin-hint' }, t('channels_hint')),
    telegram,
    whatsappCard({ numbers: list.filter((a) => a.platform === 'whatsapp'), row, reload, card: socialCard }),
    metaCard({ pages: list.filter((a) => a.platform === 'meta'), row, reload, card: socialCard }));
  if (!list.length) token.focus();
  // A bot just connected or switched on says how it is doing once Telegram
  // has answered: look again shortly, unless the admin is typing a token.
  if (bots.some((a) => a.enabled && !a.state?.last_ok_at && !a.state?.last_error)) {
    setTimeout(() => {
      if (main.isConnected && location.hash === '#/admin/channels' && !token.value) reload();
    }, 2000);
  }
}
