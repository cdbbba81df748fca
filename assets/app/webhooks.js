// Outgoing webhooks (Settings → Webhooks, admins): the list with how each
// one's posts are going, the editor, the signing secret shown once, a
// test post and the recent deliveries.
import { del, get, patch, post } from './api.js';
import { h } from './dom.js';
import { age, formatDateTime, t } from './i18n.js';
import { errorText, toast } from './state.js';

const hookEvents = ['ticket.created', 'ticket.updated', 'message.created', 'ticket.rated'];
const eventLabel = (e) => (hookEvents.includes(e) || e === 'ping' || e === 'rule.webhook' ? t(`webhook_event_${e.replace('.', '_')}`) : e);

// statusLine tells how the latest post went and what waits.
function statusLine(w) {
  const parts = [];
  if (w.last_status === 'ok') parts.push(h('span', { class: 'pill hook-ok' }, t('webhook_ok')), ' ', h('span', { class: 'muted', title: formatDateTime(w.last_delivery_at) }, age(w.last_delivery_at)));
  else if (w.last_status === 'failed') parts.push(h('span', { class: 'pill hook-failed' }, t('webhook_failing')), ' ', h('span', { class: 'muted', title: formatDateTime(w.last_delivery_at) }, age(w.last_delivery_at)));
  else parts.push(h('span', { class: 'muted' }, t('webhook_never')));
  if (w.queued) parts.push(h('div', { class: 'muted' }, t('webhook_queued', { n: w.queued })));
  if (w.last_status === 'failed' && w.last_error) parts.push(h('div', { class: 'error hook-error', title: w.last_error }, w.last_error));
  return parts;
}

// secretCard shows a secret once, with a copy button.
function secretCard(w, secret) {
  const copy = h('button', { type: 'button', class: 'btn small', onclick: async () => {
    try { await navigator.clipboard.writeText(secret); toast(t('copied')); } catch { toast(secret); }
  } }, t('copy'));
  return h('div', { class: 'card hook-secret', role: 'status' },
    h('h2', {}, t('webhook_secret_title', { name: w.name })),
    h('div', { class: 'snippet' }, h('p', { class: 'muted' }, t('webhook_secret_once')), h('code', {}, secret), copy));
}

async function sendTest(w, after) {
  try {
    await post(`/api/webhooks/${w.id}/test`);
    toast(t('webhook_test_queued'));
    after?.();
  } catch (err) { toast(errorText(err), true); }
}

export async function webhooksAdmin(main, shown) {
  const { webhooks } = await get('/api/webhooks');
  main.replaceChildren(
    h('div', { class: 'admin-head' }, h('h1', {}, t('admin_webhooks')),
      h('button', { class: 'btn primary', onclick: () => webhookEditor(main, null) }, t('webhook_new'))),
    h('p', { class: 'muted' }, t('webhooks_hint')),
    ...(shown ? [secretCard(shown.webhook, shown.secret)] : []),
    webhooks.length ? h('div', { class: 'card' }, h('table', { class: 'hooks phone-cards' },
      h('thead', {}, h('tr', {}, [t('name'), t('webhook_events'), t('status'), t('enabled'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, webhooks.map((w) => h('tr', {},
        h('td', { class: 'wide' }, h('a', { href: '#/admin/webhooks', class: 'hook-name', title: t('webhook_deliveries'), onclick: (e) => { e.preventDefault(); webhookDetail(main, w.id); } }, h('strong', {}, w.name)),
          h('div', { class: 'muted clip hook-url', title: w.url }, w.url)),
        h('td', { class: 'nowrap', dataset: { label: t('webhook_events') } }, w.events.length ? w.events.map((e) => h('div', {}, eventLabel(e))) : h('span', { class: 'muted' }, t('webhook_rules_only'))),
        h('td', { class: 'hook-status', dataset: { label: t('status') } }, statusLine(w)),
        h('td', { dataset: { label: t('enabled') } }, h('input', { type: 'checkbox', checked: w.enabled, 'aria-label': t('enabled'), onchange: async (e) => {
          try { await patch(`/api/webhooks/${w.id}`, { enabled: e.target.checked }); toast(t('saved')); } catch (err) { toast(errorText(err), true); e.target.checked = !e.target.checked; }
        } })),
        h('td', { class: 'actions' },
          h('button', { class: 'btn small', disabled: !w.enabled, onclick: () => sendTest(w, () => webhookDetail(main, w.id)) }, t('webhook_test')), ' ',
          h('button', { class: 'btn small', onclick: () => webhookEditor(main, w) }, t('edit')), ' ',
          h('button', { class: 'btn small danger', onclick: async () => {
            if (!confirm(t('delete_confirm', { name: w.name }))) return;
            try { await del(`/api/webhooks/${w.id}`); webhooksAdmin(main); } catch (err) { toast(errorText(err), true); }
          } }, t('delete'))))))))
      : h('div', { class: 'card muted' }, t('webhooks_empty')));
}

function webhookEditor(main, w) {
  const err = h('p', { class: 'error', role: 'alert' });
  const f = h('form', { class: 'rule-editor', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, t('name')), h('input', { name: 'name', value: w?.name ?? '', placeholder: t('webhook_name_hint') })),
    h('label', { class: 'field' }, h('span', {}, t('webhook_url')), h('input', { name: 'url', type: 'url', value: w?.url ?? '', placeholder: 'https://' })),
    h('fieldset', { class: 'hook-events', name: 'events' }, h('legend', {}, t('webhook_events')),
      hookEvents.map((e) => h('label', { class: 'field check' },
        h('input', { type: 'checkbox', name: 'event', value: e, checked: w ? w.events.includes(e) : true }),
        h('span', {}, eventLabel(e), ' ', h('code', { class: 'muted' }, e)))),
      h('p', { class: 'muted' }, t('webhook_events_hint'))),
    h('label', { class: 'field check' }, h('input', { type: 'checkbox', name: 'enabled', checked: w ? w.enabled : true }), h('span', {}, t('webhook_enabled'))),
    w ? h('p', { class: 'muted' }, t('webhook_secret_hint'), ' ',
      h('button', { type: 'button', class: 'btn small', onclick: async () => {
        if (!confirm(t('webhook_rotate_confirm', { name: w.name }))) return;
        try {
          const res = await patch(`/api/webhooks/${w.id}`, { rotate_secret: true });
          webhooksAdmin(main, { webhook: res, secret: res.secret });
        } catch (ex) { toast(errorText(ex), true); }
      } }, t('webhook_rotate'))) : h('p', { class: 'muted' }, t('webhook_secret_new_hint')),
    h('div', { class: 'save-bar' }, h('button', { type: 'submit', class: 'btn primary' }, w ? t('save') : t('add')),
      h('button', { type: 'button', class: 'btn', onclick: () => webhooksAdmin(main) }, t('cancel')), err));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const body = { name: f.elements.name.value, url: f.elements.url.value,
      events: [...f.querySelectorAll('[name=event]:checked')].map((x) => x.value), enabled: f.elements.enabled.checked };
    try {
      if (w) {
        await patch(`/api/webhooks/${w.id}`, body);
        toast(t('saved'));
        webhooksAdmin(main);
      } else {
        const res = await post('/api/webhooks', body);
        toast(t('saved'));
        webhooksAdmin(main, { webhook: res, secret: res.secret });
      }
    } catch (ex) {
      err.textContent = errorText(ex);
      (ex.field === 'events' ? f.querySelector('[name=event]') : f.querySelector(`[name="${ex.field}"]`))?.focus();
    }
  });
  main.replaceChildren(h('h1', {}, w ? w.name : t('webhook_new')), h('div', { class: 'card' }, f));
  f.elements.name.focus();
}

// webhookDetail shows a webhook's recent deliveries, refreshed while any
// waits and the page is open.
async function webhookDetail(main, id) {
  const [w, { deliveries }] = await Promise.all([get(`/api/webhooks/${id}`), get(`/api/webhooks/${id}/deliveries`)]);
  const status = (d) => {
    if (d.status === 'delivered') return h('span', { class: 'pill hook-ok' }, t('webhook_delivered'));
    if (d.status === 'failed') return h('span', { class: 'pill hook-failed' }, t('webhook_failed'));
    return [h('span', { class: 'pill hook-queued' }, d.attempts ? t('webhook_retrying') : t('webhook_waiting')),
      d.attempts && d.next_attempt_at ? h('div', { class: 'muted' }, t('webhook_next', { when: formatDateTime(d.next_attempt_at) })) : null];
  };
  const view = h('div', { class: 'hook-detail' },
    h('div', { class: 'admin-head' }, h('h1', {}, w.name),
      h('button', { class: 'btn', disabled: !w.enabled, onclick: () => sendTest(w, () => webhookDetail(main, id)) }, t('webhook_test')),
      h('button', { class: 'btn', onclick: () => webhookEditor(main, w) }, t('edit')),
      h('button', { class: 'btn', onclick: () => webhooksAdmin(main) }, t('webhook_back'))),
    h('p', { class: 'muted clip hook-url' }, w.url),
    h('div', { class: 'card hook-status' }, statusLine(w)),
    h('div', { class: 'card' }, h('h2', {}, t('webhook_deliveries')),
      deliveries.length ? h('table', { class: 'deliveries' },
        h('thead', {}, h('tr', {}, [t('webhook_when'), t('webhook_event'), t('webhook_ticket'), t('status'), t('webhook_attempts'), t('webhook_answer')].map((x) => h('th', {}, x)))),
        h('tbody', {}, deliveries.map((d) => h('tr', { dataset: { id: d.id, status: d.status } },
          h('td', { class: 'nowrap', title: formatDateTime(d.created_at) }, age(d.created_at)),
          h('td', {}, eventLabel(d.event), h('div', { class: 'muted' }, `#${d.id}`)),
          h('td', {}, d.ticket_id ? h('a', { href: `#/open/t/${d.ticket_id}` }, `#${d.ticket_id}`) : '–'),
          h('td', {}, status(d)),
          h('td', {}, String(d.attempts)),
          h('td', {}, d.response_code ? String(d.response_code) : '–', d.error ? h('div', { class: 'error hook-error', title: d.error }, d.error) : null)))))
        : h('p', { class: 'muted' }, t('webhook_no_deliveries'))));
  main.replaceChildren(view);
  if (deliveries.some((d) => d.status === 'queued')) {
    setTimeout(() => { if (view.isConnected) webhookDetail(main, id).catch(() => {}); }, 3000);
  }
}
