// Order actions from the ticket's order panel: a button per action the
// shop's platform allows, a dialog with the choices and what will happen
// in money (the shop's own suggestion, asked again as choices change),
// and a confirmation that acts once (the preview's key goes with it).
import { post } from './api.js';
import { debounce, h } from './dom.js';
import { t } from './i18n.js';
import { agentName, errorText, state, toast } from './state.js';

export function formatMoney(amount, currency) {
  if (!currency) return amount;
  try { return new Intl.NumberFormat(state.me.language, { style: 'currency', currency }).format(Number(amount)); } catch { return `${amount} ${currency}`; }
}

// actionButtons are the actions an order takes (none on a cancelled
// order but a replacement or a discount).
export function actionButtons(ticket, o, actions, onDone) {
  if (!o.id || !actions?.length) return null;
  const list = actions.filter((a) => !o.cancelled || a === 'create_discount' || a === 'create_replacement');
  return h('div', { class: 'order-actions' }, list.map((a) => h('button', {
    type: 'button', class: 'btn small', 'data-action': a, onclick: () => actionDialog(ticket, o, a, onDone),
  }, t(`oa_${a}`))));
}

// actionHistory lists what was done to an order from this ticket.
export function actionHistory(o, history) {
  const mine = (history || []).filter((x) => x.order === o.number);
  if (!mine.length) return null;
  return h('ul', { class: 'order-history' }, mine.map((x) => h('li', { class: `oa-${x.status}` },
    h('strong', {}, t(`oa_${x.action}`)), ' · ', t(`oa_status_${x.status}`),
    x.outcome?.amount ? ` · ${formatMoney(x.outcome.amount, x.outcome.currency)}` : '',
    x.outcome?.ref && !x.outcome.ref.startsWith('gid://') ? ` · ${x.outcome.ref}` : '',
    x.agent_id ? h('span', { class: 'muted' }, ` · ${agentName(x.agent_id)}`) : null,
    x.message ? h('div', { class: 'oa-message' }, x.message) : null)));
}

const reasons = ['customer', 'inventory', 'fraud', 'declined', 'staff', 'other'];
const addressFields = ['first_name', 'last_name', 'address1', 'address2', 'city', 'province', 'zip', 'country', 'phone'];

function check(name, label, checked) {
  return h('label', { class: 'check' }, h('input', { type: 'checkbox', name, checked }), ' ', label);
}

// fields are the choices of an action.
function fields(o, action) {
  switch (action) {
    case 'refund': case 'create_replacement':
      return [h('fieldset', { class: 'oa-items' }, h('legend', {}, t('oa_items')), o.items.filter((i) => i.id).map((i) => {
        const max = action === 'refund' ? (i.refundable_quantity ?? i.quantity) : i.quantity;
        return h('label', { class: 'oa-item' }, h('input', { type: 'number', min: 0, max, value: action === 'refund' ? 0 : i.quantity, name: `item:${i.id}`, 'aria-label': i.title }),
          ` × ${i.title}`, h('span', { class: 'muted' }, ` (${t('oa_of', { n: max })})`));
      })),
      ...(action === 'refund' ? [check('shipping', t('oa_shipping'), false), check('restock', t('oa_restock'), true),
        h('label', {}, t('oa_amount'), h('input', { name: 'amount', inputmode: 'decimal', placeholder: '0.00' })),
        check('notify', t('oa_notify'), true)] : []),
      h('label', {}, t('oa_note'), h('input', { name: 'note', maxlength: 2000 }))];
    case 'cancel':
      return [h('label', {}, t('oa_reason'), h('select', { name: 'reason' }, reasons.map((r) => h('option', { value: r }, t(`oa_reason_${r}`))))),
        check('refund', t('oa_cancel_refund'), true), check('restock', t('oa_restock'), true), check('notify', t('oa_notify'), true),
        h('label', {}, t('oa_note'), h('input', { name: 'note', maxlength: 2000 }))];
    case 'update_address': {
      const a = o.shipping_address || {};
      return [h('div', { class: 'oa-address' }, addressFields.map((f) => h('label', {}, t(`oa_addr_${f}`),
        h('input', { name: `addr:${f}`, value: a[f] || '', required: ['address1', 'city', 'country'].includes(f) }))))];
    }
    case 'create_discount':
      return [h('label', {}, t('oa_percent'), h('input', { name: 'percent', type: 'number', min: 1, max: 100, value: 10 })),
        h('label', {}, t('oa_value'), h('input', { name: 'value', inputmode: 'decimal', placeholder: '0.00' })),
        h('label', {}, t('oa_code'), h('input', { name: 'code', maxlength: 40 }))];
  }
  return [];
}

// params reads the dialog's choices as the API takes them.
function params(form, action) {
  const p = {};
  const items = [];
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.name.startsWith('item:')) { if (Number(el.value) > 0) items.push({ id: el.name.slice(5), quantity: Number(el.value) }); continue; }
    if (el.name.startsWith('addr:')) { (p.address ||= {})[el.name.slice(5)] = el.value.trim(); continue; }
    if (el.type === 'checkbox') p[el.name] = el.checked;
    else if (el.name === 'percent') p.percent = Number(el.value) || 0;
    else if (el.value.trim()) p[el.name] = el.value.trim();
  }
  if (items.length) p.items = items;
  if (action === 'create_discount' && p.value) delete p.percent;
  return p;
}

// what says what the action will do, from the shop's preview (the order
// panel's dialog and a macro's confirmation say it alike).
export function what(action, pv) {
  const lines = [];
  const money = (x) => formatMoney(x, pv.currency);
  if ((action === 'refund' || action === 'cancel') && pv.amount) {
    lines.push(h('strong', {}, t('oa_money_back', { amount: money(pv.amount) })));
    if (pv.maximum) lines.push(t('oa_money_max', { max: money(pv.maximum) }));
    if (pv.shipping && Number(pv.shipping) > 0) lines.push(t('oa_money_shipping', { amount: money(pv.shipping) }));
  }
  if (action === 'cancel') lines.unshift(t(pv.amount ? 'oa_cancel_what' : 'oa_cancel_what_no_refund'));
  if ((action === 'refund' && pv.items > 0 || action === 'cancel') && pv.restock) lines.push(t('oa_restock_what'));
  if (action === 'update_address') lines.push(t('oa_address_what'), t('oa_no_money'));
  if (action === 'resend_confirmation') lines.push(t('oa_resend_what'), t('oa_no_money'));
  if (action === 'create_discount') lines.push(t('oa_discount_what', { worth: pv.worth.endsWith('%') ? pv.worth : money(pv.worth) }));
  if (action === 'create_replacement') lines.push(t('oa_replacement_what', { n: pv.items || 0, worth: money(pv.worth) }), t('oa_no_charge'));
  return lines.map((l) => h('p', {}, l));
}

// actionDialog asks for an action's choices, shows what it does and acts
// on confirmation.
export function actionDialog(ticket, o, action, onDone) {
  document.querySelector('.overlay')?.remove();
  const summary = h('div', { class: 'oa-summary', 'aria-live': 'polite' }, h('p', { class: 'muted' }, t('oa_preview_loading')));
  const err = h('p', { class: 'error', role: 'alert' });
  // The shop's answer to a confirmation stays until the choices change.
  const said = h('p', { class: 'error oa-said', role: 'alert' });
  const confirmBtn = h('button', { type: 'submit', class: 'btn primary', id: 'oa-confirm', disabled: true }, t('oa_confirm', { action: t(`oa_${action}`) }));
  let preview = null;
  let seq = 0;
  const close = () => { overlay.remove(); window.removeEventListener('hashchange', close); };
  window.addEventListener('hashchange', close);
  const ask = async () => {
    const mine = ++seq;
    confirmBtn.disabled = true;
    preview = null;
    try {
      const pv = await post(`/api/tickets/${ticket.id}/order-actions/preview`, { order: o.number, action, params: params(form, action) });
      if (mine !== seq) return;
      preview = pv;
      err.textContent = '';
      summary.replaceChildren(...what(action, pv));
      confirmBtn.disabled = false;
    } catch (ex) {
      if (mine !== seq) return;
      summary.replaceChildren();
      err.textContent = errorText(ex);
    }
  };
  const form = h('form', {
    class: 'dialog order-action', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'oa-title', novalidate: true,
    oninput: debounce(() => { said.textContent = ''; ask(); }, 400),
    onsubmit: async (e) => {
      e.preventDefault();
      if (!preview) return;
      confirmBtn.disabled = true; // the key keeps a second click to one action too
      try {
        const res = await post(`/api/tickets/${ticket.id}/order-actions`, { order: o.number, action, params: params(form, action), key: preview.key });
        close();
        // A repeated key answers the first request's result, which may still be under way.
        toast(res.status === 'done' ? t('oa_done', { action: t(`oa_${action}`), order: o.number }) + (res.outcome?.ref && !res.outcome.ref.startsWith('gid://') ? ` · ${res.outcome.ref}` : '')
          : `${t(`oa_${action}`)} · ${o.number} · ${t(`oa_status_${res.status}`)}`);
        onDone?.();
      } catch (ex) {
        // A refusal is the shop's own sentence: shown as it is, and the
        // next try is a new confirmation.
        said.textContent = errorText(ex);
        if (ex?.status === 422) onDone?.();
        ask();
      }
    },
  }, h('h2', { id: 'oa-title' }, t('oa_title', { action: t(`oa_${action}`), order: o.number })),
  ...fields(o, action), h('h3', {}, t('oa_what_happens')), summary, err, said,
  h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('cancel')), confirmBtn));
  const overlay = h('div', { class: 'overlay', id: 'order-action-dialog', onclick: (e) => { if (e.target === overlay) close(); },
    onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); close(); } } }, form);
  document.body.append(overlay);
  (form.querySelector('input, select') || confirmBtn).focus();
  ask();
}

// eventText is an order_action event on the ticket's history.
export function orderEventText(e, who) {
  const d = e.data;
  const money = d.amount ? ` · ${formatMoney(d.amount, d.currency)}` : '';
  return `${t('ev_order_action', { who, action: t(`oa_${d.action}`), order: d.order, status: t(`oa_status_${d.status}`) })}${money}${d.message ? ` — ${d.message}` : ''}`;
}

