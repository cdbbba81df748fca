// Settings → Channels, Facebook Messenger & Instagram (admins): connect a
// Facebook page (and its linked Instagram professional account) by its id,
// page access token and app secret; show the callback URL and verify token
// to paste into the Meta app's webhook settings. Secrets are write-only:
// the server says only whether each is set.
import { post } from './api.js';
import { h, icon } from './dom.js';
import { t } from './i18n.js';
import { errorText, state, toast } from './state.js';

// copyField is a read-only value with a Copy button.
export function copyField(label, value) {
  const input = h('input', { type: 'text', readonly: true, value, spellcheck: 'false', onfocus: (e) => e.target.select() });
  return h('label', { class: 'field wide meta-copy' }, h('span', {}, label),
    h('div', { class: 'meta-copy-row' }, input,
      h('button', { type: 'button', class: 'btn small', onclick: async () => {
        try { await navigator.clipboard.writeText(value); } catch { input.select(); document.execCommand?.('copy'); }
        toast(t('meta_copied'));
      } }, t('meta_copy'))));
}

// setup is what to paste at Meta for a page: the callback URL and its
// verify token, and the webhook fields to subscribe.
function setup(a) {
  const s = a.settings || {};
  return h('div', { class: 'meta-setup', dataset: { setup: a.id } },
    h('div', { class: 'muted' }, s.instagram_username ? t('meta_instagram', { name: s.instagram_username }) : t('meta_no_instagram')),
    h('div', { class: 'meta-setup-fields' },
      copyField(t('meta_callback_url'), s.callback_url || `${location.origin}/hooks/meta`),
      copyField(t('meta_verify_token'), s.verify_token || '')),
    h('p', { class: 'muted' }, t('meta_fields_hint')));
}

export function metaCard({ pages, row, reload, storeOptions }) {
  const replace = { field: 'access_token', label: 'meta_replace_token', prompt: 'meta_new_token_prompt' };
  const err = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'btn primary' }, t('meta_connect_button'));
  const input = (name, type, placeholder, required = true) => h('input', { name, type, autocomplete: 'off', spellcheck: 'false', placeholder, required });
  const connect = h('form', { class: 'inline social-connect meta-connect', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, t('meta_page_id')), input('page_id', 'text', '104857600123456')),
    h('label', { class: 'field wide' }, h('span', {}, t('meta_access_token')), input('access_token', 'password', 'EAAG…')),
    h('label', { class: 'field' }, h('span', {}, t('meta_app_secret')), input('app_secret', 'password', '')),
    h('label', { class: 'field' }, h('span', {}, t('meta_instagram_id')), input('instagram_id', 'text', '17841400000000000', false)),
    h('label', { class: 'field' }, h('span', {}, t('store')), h('select', { name: 'store_id' }, storeOptions(state.stores[0]?.id))),
    button, err);
  connect.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const v = Object.fromEntries(new FormData(connect));
    button.disabled = true;
    button.textContent = t('meta_checking');
    try {
      const a = await post('/api/social-accounts', { platform: 'meta', page_id: v.page_id.trim(), access_token: v.access_token.trim(),
        app_secret: v.app_secret.trim(), instagram_id: v.instagram_id.trim(), store_id: v.store_id ? Number(v.store_id) : null });
      toast(t('meta_connected', { name: a.name }));
      reload();
    } catch (ex) {
      err.textContent = errorText(ex);
      connect.querySelector(`[name="${ex.field}"]`)?.focus();
      button.disabled = false;
      button.textContent = t('meta_connect_button');
    }
  });
  return h('div', { class: 'card social-card meta-card' },
    h('div', { class: 'social-head' }, icon('messenger'), icon('instagram'), h('h2', {}, t('meta_title'))),
    h('p', { class: 'muted' }, t('meta_mode')),
    pages.length ? h('table', { class: 'social-accounts' },
      h('thead', {}, h('tr', {}, [t('meta_page'), t('store'), t('status'), t('enabled'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, pages.flatMap((a) => [row(a, replace), h('tr', { class: 'meta-setup-row' }, h('td', { colspan: 5 }, setup(a)))])))
      : h('p', { class: 'muted social-empty' }, t('meta_none')),
    h('h3', { class: 'form-heading' }, t('meta_connect')),
    h('p', { class: 'muted' }, t('meta_connect_hint')),
    connect);
}
