// Settings → Channels, Facebook Messenger & Instagram (admins): connect a
// Facebook page (and its linked Instagram professional account) by its id,
// page access token and app secret; show the callback URL and verify token
// to paste into the Meta app's webhook settings. Secrets are write-only:
// the server says only whether each is set.
import { h } from './dom.js';
import { t } from './i18n.js';
import { toast } from './state.js';

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
      copyField(t('meta_callback_url'), s.webhook_url || `${location.origin}/hooks/meta`),
      copyField(t('meta_verify_token'), s.verify_token || '')),
    h('p', { class: 'muted' }, t('meta_fields_hint')));
}

export function metaCard({ pages, row, reload, card }) {
  const replace = { field: 'access_token', label: 'meta_replace_token', prompt: 'meta_new_token_prompt' };
  return card({
    cls: 'meta-card', icons: ['messenger', 'instagram'], title: t('meta_title'), mode: t('meta_mode'),
    head: 'meta_page', accounts: pages, none: 'meta_none', heading: 'meta_connect', hint: 'meta_connect_hint',
    rows: (a) => [row(a, replace), h('tr', { class: 'meta-setup-row' }, h('td', { colspan: 5 }, setup(a)))],
    form: { cls: 'meta-connect', platform: 'meta', button: 'meta_connect_button', checking: 'meta_checking', reload,
      connected: (a) => t('meta_connected', { name: a.name }),
      fields: [
        { label: 'meta_page_id', name: 'page_id', type: 'text', placeholder: '104857600123456' },
        { label: 'meta_access_token', name: 'access_token', type: 'password', placeholder: 'EAAG…', wide: true },
        { label: 'meta_app_secret', name: 'app_secret', type: 'password', placeholder: '' },
        { label: 'meta_instagram_id', name: 'instagram_id', type: 'text', placeholder: '17841400000000000', optional: true },
      ] },
  });
}
