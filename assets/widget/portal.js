// onedesk chat widget, portal part: "Where is my order?" and "Continue on
// another device". widget.js loads this part (window.__onedeskParts.portal)
// only when a visitor opens one of them, and hands it what it needs (w): its element maker, the
// panel's body, the visitor's token, a way back to the chat. Every text
// comes from the portal's catalogs; nothing from outside is HTML.
(() => {
  'use strict';
  const parts = (window.__onedeskParts ||= {});
  if (parts.portal) return;
  let strings = null;

  async function texts(w) {
    if (!strings) {
      const res = await fetch(`${w.base}/portal/${encodeURIComponent(w.slug)}/api/strings?lang=${encodeURIComponent(w.lang || '')}`);
      strings = (await res.json()).strings || {};
    }
    return strings;
  }

  async function post(w, path, body) {
    const res = await fetch(`${w.base}/portal/${encodeURIComponent(w.slug)}/api/${path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...body, lang: w.lang }),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(data.error || ''), { field: data.field });
    return data;
  }

  // view replaces the panel's body with a titled view and a way back.
  function view(w, s, title) {
    const { el } = w;
    const box = el('div', { class: 'off', role: 'region', 'aria-label': title });
    box.append(
      el('style', {}, '.pv{align-content:start}.pv dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}.pv dt{color:#676b76}.pv dd{margin:0}.pv ul{margin:0;padding-left:18px}.pv h3{margin:2px 0;font-size:15px}.pv .ok{background:#e8f5ec;color:#14532d;border-radius:8px;padding:8px 10px}'),
      el('div', {}, el('button', { class: 'attach', type: 'button', onclick: () => w.back() }, `← ${s.back_chat}`)),
      el('h3', {}, title),
    );
    box.classList.add('pv');
    w.body.replaceChildren(box);
    return box;
  }

  function orderForm(w, s, number = '', contact = '') {
    const { el } = w;
    const box = view(w, s, s.order_title);
    const err = el('p', { class: 'err', role: 'alert' });
    const btn = el('button', { class: 'primary', type: 'submit' }, s.order_find);
    const form = el('form', { class: 'pv', novalidate: true, style: 'display:grid;gap:10px', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      const f = new FormData(form);
      const n = String(f.get('number') || '').trim(); const c = String(f.get('contact') || '').trim();
      if (!n || !c) { err.textContent = s.order_unknown; return; }
      btn.disabled = true;
      try {
        const data = await post(w, 'order', { number: n, contact: c });
        orderResult(w, s, data.order, n, c);
      } catch (x) { err.textContent = x.message || s.err_generic; } finally { btn.disabled = false; }
    } },
    el('p', { style: 'margin:0' }, s.order_intro),
    el('label', {}, s.order_number, el('input', { name: 'number', autocomplete: 'off', value: number, placeholder: '#1001' })),
    el('label', {}, s.order_contact, el('input', { name: 'contact', autocomplete: 'email', value: contact })),
    err, btn);
    box.append(form);
    form.querySelector('input').focus();
  }

  function orderResult(w, s, o, number, contact) {
    const { el } = w;
    const box = view(w, s, o.cancelled ? `${o.number} · ${s.order_cancelled}` : o.number);
    const row = (k, v) => (v ? [el('dt', {}, k), el('dd', {}, v)] : []);
    box.append(el('dl', { 'data-order': o.number },
      ...row(s.order_placed, o.placed), ...row(s.order_fulfillment, o.fulfillment),
      ...row(s.order_payment, o.payment), ...row(s.order_total, o.total && `${o.total} ${o.currency}`)));
    if (o.items?.length) box.append(el('strong', {}, s.order_items), el('ul', {}, ...o.items.map((i) => el('li', {}, `${i.quantity} × ${i.title}`))));
    box.append(el('strong', {}, s.order_tracking));
    const links = (o.tracking || []).map((t) => el('li', {}, t.company ? `${t.company}: ` : '',
      /^https?:\/\//.test(t.url || '') ? el('a', { href: t.url, target: '_blank', rel: 'noopener noreferrer' }, t.number) : t.number));
    box.append(links.length ? el('ul', {}, ...links) : el('p', { style: 'margin:0;color:#676b76' }, s.order_no_tracking));

    // A ticket only if the visitor still wants help: their question goes in
    // the chat, with the order.
    const err = el('p', { class: 'err', role: 'alert' });
    const btn = el('button', { class: 'primary', type: 'submit' }, s.help_send);
    const form = el('form', { novalidate: true, style: 'display:grid;gap:8px', onsubmit: async (e) => {
      e.preventDefault();
      const message = String(new FormData(form).get('message') || '').trim();
      if (!message) { err.textContent = s.err_empty; return; }
      btn.disabled = true;
      err.textContent = '';
      try {
        if (!w.token()) {
          if (!w.online()) { w.back(); return; } // nobody online and no chat yet: the offline form
          w.back(); // opens the chat, whose connection gives the visitor a token
          for (let i = 0; i < 100 && !w.token(); i++) await new Promise((r) => { setTimeout(r, 100); });
        }
        const cid = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
        const data = await post(w, 'order/help', { token: w.token(), number, contact, message, cid });
        w.back();
        w.add({ from: 'visitor', id: data.id, text: data.text });
      } catch (x) {
        err.textContent = x.message || s.err_generic;
        btn.disabled = false;
      }
    } },
    el('label', {}, s.help_question, el('textarea', { name: 'message', rows: '3', maxlength: '4000' })), err, btn);
    box.append(form);
  }

  function continueForm(w, s) {
    const { el } = w;
    const box = view(w, s, s.continue_title);
    const err = el('p', { class: 'err', role: 'alert' });
    const btn = el('button', { class: 'primary', type: 'submit' }, s.continue_send);
    const form = el('form', { novalidate: true, style: 'display:grid;gap:10px', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      btn.disabled = true;
      try {
        const data = await post(w, 'continue', { token: w.token(), email: String(new FormData(form).get('email') || '').trim() });
        form.replaceWith(el('p', { class: 'ok', role: 'status' }, data.message || s.continue_sent));
      } catch (x) { err.textContent = x.message || s.err_generic; btn.disabled = false; }
    } },
    el('p', { style: 'margin:0' }, s.continue_intro),
    el('label', {}, s.email, el('input', { name: 'email', type: 'email', autocomplete: 'email' })), err, btn);
    box.append(form);
    form.querySelector('input').focus();
  }

  // resume takes the chat a continue link opens: the code is traded for
  // a visitor token of this device's own, then the chat opens with its
  // whole thread; a link used, expired or unknown says so.
  async function resume(w, s) {
    try {
      const data = await post(w, 'continue/open', { code: w.code });
      w.take(data.token);
      w.open();
    } catch (x) {
      w.open();
      view(w, s, s.continue_title).append(w.el('p', { class: 'err', role: 'alert' }, x.message || s.err_generic));
    }
  }

  parts.portal = {
    async open(what, w) {
      const s = await texts(w);
      if (what === 'order') orderForm(w, s); else if (what === 'resume') resume(w, s); else continueForm(w, s);
    },
  };
})();
