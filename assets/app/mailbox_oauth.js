// A mailbox's OAuth2 sign-in (Gmail, Microsoft 365, another provider):
// its fields in the mailbox form, the redirect URL to register, and the
// Connect / Reconnect button that goes to the provider's consent page.
import { post } from './api.js';
import { h } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { errorText, toast } from './state.js';

const providerNames = { google: 'Google', microsoft: 'Microsoft 365' };

// oauthFields are the form fields of the sign-in (form() tuples).
export function oauthFields(m) {
  const o = m.oauth ?? {};
  const provider = o.provider ?? 'google';
  return [
    ['auth', t('mailbox_auth'), 'select', [['password', t('auth_password'), m.auth !== 'oauth2'], ['oauth2', t('auth_oauth2'), m.auth === 'oauth2']]],
    ['oauth_provider', t('oauth_provider'), 'select', ['google', 'microsoft', 'custom'].map((p) => [p, providerNames[p] ?? t('oauth_custom'), p === provider])],
    ['oauth_client_id', t('oauth_client_id'), 'text', o.client_id ?? ''],
    ['oauth_client_secret', o.has_client_secret ? t('oauth_client_secret_keep') : t('oauth_client_secret'), 'password', ''],
    ['oauth_tenant', t('oauth_tenant'), 'text', o.tenant ?? ''],
    ['oauth_auth_url', t('oauth_auth_url'), 'text', o.auth_url ?? ''],
    ['oauth_token_url', t('oauth_token_url'), 'text', o.token_url ?? ''],
    ['oauth_scopes', t('oauth_scopes'), 'text', o.scopes ?? ''],
  ];
}

// oauthBody trims the sign-in's values for the API: an empty secret
// keeps the stored one.
export function oauthBody(body) {
  if (!body.oauth_client_secret) delete body.oauth_client_secret;
  if (body.auth !== 'oauth2') for (const k of Object.keys(body)) if (k.startsWith('oauth_')) delete body[k];
  return body;
}

// connect sends the browser to the provider's consent page.
export async function connectMailbox(id) {
  const { url } = await post(`/api/mailboxes/${id}/connect`);
  location.href = url;
}

function connectButton(m, again) {
  return h('button', { type: 'button', class: `btn ${again ? 'primary' : 'small'} oauth-connect`, onclick: async (e) => {
    e.target.disabled = true;
    try { await connectMailbox(m.id); } catch (err) { toast(errorText(err), true); e.target.disabled = false; }
  } }, again ? t('oauth_reconnect') : t('oauth_connect'));
}

// oauthStatus is the sign-in's line on a mailbox's card (null for a
// password): connected, not yet, or stopped with Reconnect.
export function oauthStatus(m) {
  if (m.auth !== 'oauth2' || !m.oauth) return null;
  const o = m.oauth;
  const name = providerNames[o.provider] ?? o.token_url;
  if (o.reconnect) {
    return h('div', { class: 'oauth-status error mailbox-reconnect', role: 'alert' },
      // The error says what happened and to reconnect.
      h('p', {}, o.grant_error.charAt(0).toUpperCase() + o.grant_error.slice(1)), connectButton(m, true));
  }
  if (o.connected) {
    return h('div', { class: 'oauth-status' },
      h('p', { class: 'muted' }, t('oauth_connected', { provider: name, when: o.connected_at ? formatDateTime(o.connected_at) : '' })), connectButton(m, false));
  }
  return h('div', { class: 'oauth-status' }, h('p', { class: 'muted' }, t('oauth_not_connected', { provider: name })), connectButton(m, false));
}

// wireOAuth shows in form f the fields the chosen sign-in needs (the
// password ones for a password, the provider's for OAuth2) and the
// redirect URL to register with the app.
export function wireOAuth(f, redirectURL) {
  const field = (name) => f.querySelector(`[name="${name}"]`)?.closest('label');
  const copy = h('button', { type: 'button', class: 'btn small', onclick: async () => {
    try { await navigator.clipboard.writeText(redirectURL); toast(t('copied')); } catch { toast(redirectURL); }
  } }, t('copy'));
  const hint = h('p', { class: 'muted' });
  const panel = h('div', { class: 'field wide oauth-redirect' },
    h('span', {}, t('oauth_redirect_url')), h('div', { class: 'snippet' }, h('code', {}, redirectURL), copy, hint));
  field('oauth_scopes')?.after(panel);
  // The well-known servers of Google and Microsoft, where none is set yet.
  const servers = { google: ['imap.gmail.com', 'smtp.gmail.com'], microsoft: ['outlook.office365.com', 'smtp.office365.com'] };
  const fillServers = () => {
    const known = servers[f.elements.oauth_provider.value];
    if (f.elements.auth.value !== 'oauth2' || !known) return;
    // Only over nothing, or over another provider's: never the admin's own.
    const ours = (v) => !v || Object.values(servers).flat().includes(v);
    if (ours(f.elements.imap_host.value)) f.elements.imap_host.value = known[0];
    if (ours(f.elements.smtp_host.value)) f.elements.smtp_host.value = known[1];
  };
  const paint = () => {
    const oauth = f.elements.auth.value === 'oauth2';
    const provider = f.elements.oauth_provider.value;
    const show = (name, on) => { const el = field(name); if (el) el.hidden = !on; };
    for (const k of ['imap_password', 'smtp_password']) show(k, !oauth);
    for (const k of ['oauth_provider', 'oauth_client_id', 'oauth_client_secret']) show(k, oauth);
    show('oauth_tenant', oauth && provider === 'microsoft');
    for (const k of ['oauth_auth_url', 'oauth_token_url', 'oauth_scopes']) show(k, oauth && provider === 'custom');
    panel.hidden = !oauth;
    hint.textContent = t(`oauth_hint_${provider}`);
  };
  for (const name of ['auth', 'oauth_provider']) f.elements[name].addEventListener('change', () => { fillServers(); paint(); });
  paint();
}
