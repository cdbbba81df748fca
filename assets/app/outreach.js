// Writing first: the New ticket dialog (an email from a store's mailbox,
// a WhatsApp template, or a phone call logged as a ticket), the call log
// form on a ticket, and the signature preview of emailed replies.
import { get, post } from './api.js';
import { debounce, h, icon } from './dom.js';
import { t } from './i18n.js';
import { errorText, state, storeName, toast } from './state.js';

// renderSignature fills a signature's placeholders as the server does:
// the agent's own above the store's.
export function renderSignature(agent, store) {
  const first = (agent?.name || '').trim().split(/\s+/)[0] || '';
  const fill = (s) => (s || '').replaceAll('{agent_name}', agent?.name || '').replaceAll('{agent_first_name}', first)
    .replaceAll('{agent_email}', agent?.email || '').replaceAll('{store_name}', store?.name || '').trim();
  return [fill(agent?.signature), fill(store?.signature)].filter(Boolean).join('\n\n');
}

// signaturePreview shows under an email's editor what it will be signed
// with, with a switch to leave it off for this one message.
// compact (the reply box) shows it on one line, whole on hover.
export function signaturePreview(text, { id = 'sig', compact = false } = {}) {
  const box = h('div', { class: `sig-preview${compact ? ' compact' : ''}`, id, hidden: !text });
  const line = (x) => (compact ? x.replace(/\s*\n+\s*/g, ' · ') : x);
  const pre = h('div', { class: 'sig-text', title: text }, line(text));
  const on = h('input', { type: 'checkbox', checked: true, id: `${id}-on`, onchange: () => box.classList.toggle('off', !on.checked) });
  box.append(h('label', { class: 'sig-toggle' }, on, h('span', {}, t('signature_add'))), pre);
  box.set = (s) => { pre.textContent = line(s); pre.title = s; box.hidden = !s; };
  box.off = () => !on.checked; // sent as "signature": false
  return box;
}

const field = (label, control, hint) => h('label', { class: 'field' }, h('span', {}, label), control, hint ? h('small', { class: 'muted' }, hint) : null);

function statusSelect(id, def) {
  return h('select', { id, name: 'status' }, ['pending', 'open', 'resolved'].map((s) => h('option', { value: s, selected: s === def }, t(`nt_status_${s}`))));
}

let startFrom = null; // mailboxes and WhatsApp numbers, read once per dialog

// newTicketDialog opens the New ticket dialog; customer (optional) is the
// one written to; kind picks the first tab (email, whatsapp, call).
export async function newTicketDialog({ customer, kind = 'email', onDone } = {}) {
  document.querySelector('.overlay')?.remove();
  try { startFrom = await get('/api/start-options'); } catch (err) { toast(errorText(err), true); return; }
  const tabs = [['email', 'email'], ['whatsapp', 'whatsapp'], ['call', 'phone']].filter(([k]) => k !== 'whatsapp' || startFrom.whatsapp.length);
  const body = h('div', { class: 'nt-body' });
  const err = h('p', { class: 'error', role: 'alert' });
  const close = () => overlay.remove();
  let current = '';
  let submit = null;
  const show = (k) => {
    current = k;
    for (const b of tabBar.querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.kind === k));
    err.textContent = '';
    const parts = k === 'email' ? emailForm(customer) : k === 'whatsapp' ? whatsappForm(customer) : callForm(customer);
    submit = parts.submit;
    body.replaceChildren(...parts.fields);
    sendBtn.textContent = k === 'call' ? t('call_log') : t('nt_send');
    sendBtn.disabled = !!parts.disabled;
    body.querySelector('input:not([type=checkbox]):not([type=radio]), textarea')?.focus();
  };
  const tabBar = h('div', { class: 'nt-tabs', role: 'tablist', 'aria-label': t('new_ticket') },
    tabs.map(([k, ic]) => h('button', { type: 'button', role: 'tab', dataset: { kind: k }, onclick: () => show(k) }, icon(ic), t(`nt_kind_${k}`))));
  const sendBtn = h('button', { type: 'submit', class: 'btn primary', id: 'nt-send' }, t('nt_send'));
  const form = h('form', {
    class: 'dialog new-ticket', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'nt-title', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      sendBtn.disabled = true;
      try {
        const d = await submit();
        close();
        toast(current === 'call' ? t('call_logged_n', { id: d.id }) : t('nt_sent', { id: d.id }));
        onDone?.(d);
      } catch (ex) {
        err.textContent = errorText(ex);
        const name = (ex.field || '').replace(/^customer\./, '');
        (form.querySelector(`[name="${name}"]`) || form.querySelector(`[name="${ex.field}"]`))?.focus();
      } finally { sendBtn.disabled = false; }
    },
  },
  h('h2', { id: 'nt-title' }, customer ? t('nt_title_to', { name: customer.name || customer.identities?.[0]?.value || `#${customer.id}` }) : t('new_ticket')),
  tabBar, body, err,
  h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('cancel')), sendBtn));
  const overlay = h('div', {
    class: 'overlay', id: 'new-ticket', onclick: (e) => { if (e.target === overlay) close(); },
    onkeydown: (e) => {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    },
  }, form);
  document.body.append(overlay);
  show(tabs.some(([k]) => k === kind) ? kind : 'email');
}

// lookup offers existing customers under an input as the agent types
// (by name, address, phone or order number); picking one calls pick with
// the customer. label is what an option shows for a customer.
function lookup(input, label, pick) {
  const list = h('datalist', { id: `${input.id}-found` });
  input.setAttribute('list', list.id);
  const found = new Map();
  let seq = 0;
  const search = debounce(async () => {
    const q = input.value.trim();
    if (q.length < 2 || found.has(q)) return;
    const mine = ++seq;
    try {
      const r = await get(`/api/customers?q=${encodeURIComponent(q)}`);
      if (mine !== seq) return;
      found.clear();
      list.replaceChildren(...r.customers.slice(0, 8).map((c) => {
        const text = label(c);
        found.set(text, c);
        return h('option', { value: text });
      }));
    } catch { /* the agent types on; a new customer is made */ }
  }, 250);
  input.addEventListener('input', () => {
    const c = found.get(input.value);
    if (c) pick(c); else search();
  });
  return list;
}

const identity = (c, kinds) => c?.identities?.find((i) => kinds.includes(i.kind))?.value || '';

// customerFields are To (and a new customer's name) unless the dialog
// was opened on a customer.
function customerFields(customer, kind) {
  const to = h('input', { name: kind, id: `nt-${kind}`, type: kind === 'email' ? 'email' : 'tel', required: true,
    value: identity(customer, kind === 'email' ? ['email'] : ['whatsapp', 'phone']), autocomplete: 'off',
    placeholder: kind === 'email' ? 'ana@example.com' : '+420 601 234 567' });
  const name = h('input', { name: 'name', id: 'nt-name', type: 'text', autocomplete: 'off' });
  const kinds = kind === 'email' ? ['email'] : ['whatsapp', 'phone'];
  const found = customer ? null : lookup(to, (c) => identity(c, kinds) || '', (c) => { name.value = c.name || ''; });
  return { to, name, fields: [field(t('nt_to'), to), found, customer ? null : field(t('nt_name'), name)] };
}

function emailForm(customer) {
  const boxes = startFrom.mailboxes;
  if (!boxes.length) return { fields: [h('p', { class: 'muted' }, t('nt_no_mailbox'))], disabled: true, submit: async () => {} };
  const who = customerFields(customer, 'email');
  const from = h('select', { name: 'mailbox_id', id: 'nt-from' }, boxes.map((m) => h('option', { value: String(m.id) },
    `${m.name ? `${m.name} <${m.address}>` : m.address}${m.store_id ? ` · ${storeName(m.store_id)}` : ''}`)));
  const subject = h('input', { name: 'subject', id: 'nt-subject', type: 'text', required: true, maxlength: 500 });
  const message = h('textarea', { name: 'body', id: 'nt-body', rows: 7, required: true, placeholder: t('nt_body_placeholder') });
  const sig = signaturePreview('', { id: 'nt-sig' });
  const paint = () => {
    const mb = boxes.find((m) => String(m.id) === from.value);
    sig.set(renderSignature(state.me, state.stores.find((s) => s.id === mb?.store_id)));
  };
  from.addEventListener('change', paint);
  paint();
  const status = statusSelect('nt-status', 'pending');
  return {
    fields: [...who.fields, boxes.length > 1 ? field(t('nt_from'), from) : h('p', { class: 'muted nt-from-one' }, t('nt_from'), ': ', from.options[0].textContent),
      field(t('nt_subject'), subject), field(t('nt_message'), message), sig, field(t('nt_after'), status)],
    submit: () => {
      const mb = boxes.find((m) => String(m.id) === from.value);
      return post('/api/tickets', {
        direction: 'outbound', channel: 'email', subject: subject.value, body: message.value, mailbox_id: mb.id,
        store_id: mb.store_id ?? null, status: status.value, ...(sig.off() ? { signature: false } : {}),
        ...(customer ? { customer_id: customer.id } : {}),
        customer: { email: who.to.value.trim(), name: who.name.value.trim() },
      });
    },
  };
}

function whatsappForm(customer) {
  const numbers = startFrom.whatsapp;
  const who = customerFields(customer, 'phone');
  const number = h('select', { name: 'account_id', id: 'nt-number' }, numbers.map((n) => h('option', { value: String(n.id) }, `${n.name || n.handle} (${n.handle})`)));
  const tpl = h('select', { name: 'template', id: 'nt-template' });
  const params = h('div', { class: 'wa-params' });
  const preview = h('p', { class: 'wa-preview muted' });
  const list = () => numbers.find((n) => String(n.id) === number.value)?.templates || [];
  const show = () => {
    const x = list()[Number(tpl.value)];
    let text = x?.body || '';
    params.querySelectorAll('input').forEach((el) => { text = text.replaceAll(`{{${el.dataset.param}}}`, el.value || `{{${el.dataset.param}}}`); });
    preview.textContent = text;
  };
  const fill = () => {
    const x = list()[Number(tpl.value)];
    params.replaceChildren(...Array.from({ length: x?.params || 0 }, (_, i) => field(`{{${i + 1}}}`,
      h('input', { type: 'text', name: 'params', dataset: { param: i + 1 }, required: true, oninput: show }))));
    show();
  };
  const fillTemplates = () => {
    tpl.replaceChildren(...list().map((x, i) => h('option', { value: String(i) }, `${x.name} (${x.language})`)));
    fill();
  };
  number.addEventListener('change', fillTemplates);
  tpl.addEventListener('change', fill);
  fillTemplates();
  const status = statusSelect('nt-wa-status', 'pending');
  return {
    fields: [...who.fields, numbers.length > 1 ? field(t('nt_number'), number) : null, field(t('wa_template'), tpl), params,
      h('p', { class: 'muted' }, t('nt_whatsapp_hint')), preview, field(t('nt_after'), status)].filter(Boolean),
    disabled: !list().length,
    submit: () => {
      const x = list()[Number(tpl.value)];
      const acct = numbers.find((n) => String(n.id) === number.value);
      return post('/api/tickets', {
        direction: 'outbound', channel: 'whatsapp', account_id: acct.id, store_id: acct.store_id ?? null, status: status.value,
        template: { name: x.name, language: x.language, params: [...params.querySelectorAll('input')].map((el) => el.value.trim()) },
        ...(customer ? { customer_id: customer.id } : {}),
        customer: { phone: who.to.value.trim(), name: who.name.value.trim() },
      });
    },
  };
}

// callFields are a call's direction, duration, outcome and notes.
function callFields() {
  const dir = (v, checked) => h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'direction', value: v, checked }), t(`call_${v}`));
  const minutes = h('input', { name: 'duration_s', id: 'call-minutes', type: 'number', min: 0, max: 1440, step: 1, value: '', inputmode: 'numeric' });
  const outcome = h('select', { name: 'outcome', id: 'call-outcome' }, ['answered', 'no_answer', 'voicemail', 'busy'].map((o) => h('option', { value: o }, t(`call_outcome_${o}`))));
  const notes = h('textarea', { name: 'notes', id: 'call-notes', rows: 5, placeholder: t('call_notes_placeholder') });
  const direction = h('fieldset', { class: 'field call-direction' }, h('legend', {}, t('call_direction')), dir('in', true), dir('out', false));
  return {
    fields: [direction, h('div', { class: 'call-row' }, field(t('call_minutes'), minutes), field(t('call_outcome'), outcome)), field(t('call_notes'), notes)],
    value: (form) => ({
      direction: form.querySelector('[name=direction]:checked').value, duration_s: Math.round(Number(minutes.value || 0) * 60),
      outcome: outcome.value, notes: notes.value,
    }),
  };
}

function callForm(customer) {
  const phone = h('input', { name: 'phone', id: 'call-phone', type: 'tel', value: identity(customer, ['phone', 'whatsapp']), autocomplete: 'off', placeholder: '+420 601 234 567' });
  const email = h('input', { name: 'email', id: 'call-email', type: 'email', autocomplete: 'off' });
  const name = h('input', { name: 'name', id: 'call-name', type: 'text', autocomplete: 'off' });
  const subject = h('input', { name: 'subject', id: 'call-subject', type: 'text', maxlength: 500, placeholder: t('call_subject_placeholder') });
  const store = state.stores.length > 1 ? h('select', { name: 'store_id', id: 'call-store' }, h('option', { value: '' }, '–'),
    state.stores.map((s) => h('option', { value: String(s.id) }, s.name))) : null;
  const c = callFields();
  const status = statusSelect('call-status', 'resolved');
  // Picking an existing customer by name fills their phone and email.
  let picked = null;
  const who = (x) => [x.name, identity(x, ['phone', 'whatsapp']) || identity(x, ['email'])].filter(Boolean).join(' · ');
  const found = customer ? null : lookup(name, who, (x) => {
    picked = x;
    phone.value = identity(x, ['phone', 'whatsapp']);
    email.value = identity(x, ['email']);
  });
  name.addEventListener('input', () => { if (picked && name.value !== who(picked)) picked = null; });
  return {
    fields: [customer ? null : h('p', { class: 'muted' }, t('call_customer_hint')),
      customer ? null : h('div', { class: 'call-row' }, field(t('nt_phone'), phone), field(t('email'), email)),
      customer ? null : field(t('nt_name'), name), found,
      store ? field(t('store'), store) : null, ...c.fields, field(t('nt_subject'), subject), field(t('status'), status)].filter(Boolean),
    submit: () => post('/api/calls', {
      ...c.value(phone.closest('form')), subject: subject.value, status: status.value,
      store_id: store?.value ? Number(store.value) : (state.stores.length === 1 ? state.stores[0].id : null),
      ...(customer || picked ? { customer_id: (customer || picked).id } : { customer: { phone: phone.value.trim(), email: email.value.trim(), name: name.value.trim() } }),
    }),
  };
}

// callDialog logs a call on an open ticket.
export function callDialog(ticket, onDone) {
  document.querySelector('.overlay')?.remove();
  const c = callFields();
  const err = h('p', { class: 'error', role: 'alert' });
  const close = () => overlay.remove();
  const submitBtn = h('button', { type: 'submit', class: 'btn primary', id: 'call-save' }, t('call_log'));
  const form = h('form', {
    class: 'dialog call-log', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'call-title', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      submitBtn.disabled = true;
      try {
        await post(`/api/tickets/${ticket.id}/calls`, c.value(form));
        close();
        toast(t('call_logged'));
        onDone?.();
      } catch (ex) { err.textContent = errorText(ex); submitBtn.disabled = false; }
    },
  }, h('h2', { id: 'call-title' }, t('call_log_on', { id: ticket.id })), ...c.fields, err,
  h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('cancel')), submitBtn));
  const overlay = h('div', { class: 'overlay', id: 'call-dialog', onclick: (e) => { if (e.target === overlay) close(); },
    onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); close(); } } }, form);
  document.body.append(overlay);
  form.querySelector('#call-minutes').focus();
}

// callLine is how a logged call reads in a thread or timeline.
export function callLine(call) {
  const mins = Math.floor(call.duration_s / 60);
  const secs = String(call.duration_s % 60).padStart(2, '0');
  return [t(`call_${call.direction}`), t(`call_outcome_${call.outcome}`), call.duration_s ? `${mins}:${secs}` : null].filter(Boolean).join(' · ');
}
