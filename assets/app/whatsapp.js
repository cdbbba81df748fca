// WhatsApp Business (Cloud API) in the app. Settings → Channels (admins):
// connect a number by its phone number id, access token and app secret;
// copy the callback URL and verify token onedesk made into the Meta app's
// webhook settings; list the approved templates agents may send once the
// 24-hour window is closed. In a ticket: whether the window is open, and
// when it is closed the templates offered in the reply box.
import { patch, post } from './api.js';
import { h } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { copyField } from './meta.js';
import { errorText, toast } from './state.js';

// templateLines writes templates as the editor shows them: one a line,
// "name | language | text".
function templateLines(list) {
  return (list || []).map((x) => `${x.name} | ${x.language} | ${x.body}`).join('\n');
}

function readTemplates(text) {
  return text.split('\n').filter((l) => l.trim()).map((l) => {
    const [name = '', language = '', ...body] = l.split('|');
    return { name: name.trim(), language: language.trim(), body: body.join('|').trim() };
  });
}

// setup is what to paste at Meta for a number, and its templates.
function setup(a, reload) {
  const s = a.settings || {};
  const area = h('textarea', { name: 'templates', rows: 3, spellcheck: 'false', 'aria-label': t('wa_templates'),
    placeholder: 'order_update | en_US | Hello {{1}}, your order {{2}} has news.' }, templateLines(s.templates));
  area.value = templateLines(s.templates);
  const save = h('button', { type: 'submit', class: 'btn small' }, t('wa_templates_save'));
  const form = h('form', { class: 'wa-templates', onsubmit: async (e) => {
    e.preventDefault();
    save.disabled = true;
    try {
      await patch(`/api/social-accounts/${a.id}`, { templates: readTemplates(area.value) });
      toast(t('saved'));
      reload();
    } catch (err) { toast(errorText(err), true); area.focus(); save.disabled = false; }
  } },
  h('label', { class: 'field wide' }, h('span', {}, t('wa_templates')), area),
  h('p', { class: 'muted' }, t('wa_templates_hint')), save);
  return h('div', { class: 'meta-setup', dataset: { setup: a.id } },
    h('div', { class: 'meta-setup-fields' },
      copyField(t('meta_callback_url'), s.webhook_url || `${location.origin}/hooks/whatsapp`),
      copyField(t('meta_verify_token'), s.verify_token || '')),
    h('p', { class: 'muted' }, t('wa_fields_hint')),
    form);
}

export function whatsappCard({ numbers, row, reload, card }) {
  const replace = { field: 'access_token', label: 'meta_replace_token', prompt: 'meta_new_token_prompt' };
  return card({
    cls: 'wa-card', icons: ['whatsapp'], title: t('channel_whatsapp'), mode: t('wa_mode'),
    head: 'wa_number', accounts: numbers, none: 'wa_none', heading: 'wa_connect', hint: 'wa_connect_hint',
    rows: (a) => [row(a, replace), h('tr', { class: 'meta-setup-row' }, h('td', { colspan: 5 }, setup(a, reload)))],
    form: { cls: 'wa-connect', platform: 'whatsapp', button: 'wa_connect_button', checking: 'wa_checking', reload,
      connected: (a) => t('wa_connected', { name: a.handle }),
      fields: [
        { label: 'wa_phone_number_id', name: 'phone_number_id', type: 'text', placeholder: '106540352242922' },
        { label: 'whatsapp_access_token', name: 'access_token', type: 'password', placeholder: 'EAAG…', wide: true },
        { label: 'meta_app_secret', name: 'app_secret', type: 'password', placeholder: '' },
      ] },
  });
}

// windowBadge says in a WhatsApp ticket's header whether free replies
// reach the customer now, and until when.
export function windowBadge(d) {
  const w = d.reply_window;
  if (!w) return null;
  if (w.open) return h('span', { class: 'pill wa-window open', title: formatDateTime(w.until) }, t('wa_window_open', { until: formatDateTime(w.until) }));
  return h('span', { class: 'pill wa-window closed' }, t('wa_window_closed_short'));
}

// windowNotice, in the reply box of a WhatsApp ticket whose window is
// closed, says so and offers the number's templates: pick one, fill its
// values, send it.
export function windowNotice(d, onSent) {
  const w = d.reply_window;
  if (!w || w.open) return null;
  const list = w.templates || [];
  const since = w.until ? t('wa_window_closed', { when: formatDateTime(w.until) }) : t('wa_window_never');
  if (!list.length) {
    return h('div', { class: 'wa-notice', role: 'note' }, h('strong', {}, since), ' ', t('wa_no_templates'));
  }
  const params = h('div', { class: 'wa-params' });
  const preview = h('p', { class: 'wa-preview muted' });
  const select = h('select', { 'aria-label': t('wa_template'), onchange: () => fill() },
    list.map((x, i) => h('option', { value: String(i) }, `${x.name} (${x.language})`)));
  const fill = () => {
    const x = list[Number(select.value)];
    params.replaceChildren(...Array.from({ length: x.params }, (_, i) => h('label', { class: 'field' }, h('span', {}, `{{${i + 1}}}`),
      h('input', { type: 'text', dataset: { param: i + 1 }, required: true, oninput: () => show() }))));
    show();
  };
  const show = () => {
    const x = list[Number(select.value)];
    let text = x.body;
    params.querySelectorAll('input').forEach((el) => { text = text.replaceAll(`{{${el.dataset.param}}}`, el.value || `{{${el.dataset.param}}}`); });
    preview.textContent = text;
  };
  const button = h('button', { type: 'submit', class: 'btn primary' }, t('wa_send_template'));
  const form = h('form', { class: 'wa-notice', role: 'group', 'aria-label': t('wa_template'), onsubmit: async (e) => {
    e.preventDefault();
    const x = list[Number(select.value)];
    const values = [...params.querySelectorAll('input')].map((el) => el.value.trim());
    const empty = [...params.querySelectorAll('input')].find((el) => !el.value.trim());
    if (empty) { empty.focus(); return; }
    button.disabled = true;
    try {
      await post(`/api/tickets/${d.id}/template`, { name: x.name, language: x.language, params: values });
      toast(t('wa_template_sent'));
      onSent();
    } catch (err) { toast(errorText(err), true); button.disabled = false; }
  } },
  h('p', {}, h('strong', {}, since), ' ', t('wa_window_closed_hint')),
  h('div', { class: 'wa-pick' }, h('label', { class: 'field' }, h('span', {}, t('wa_template')), select), params),
  preview, button);
  fill();
  return form;
}
