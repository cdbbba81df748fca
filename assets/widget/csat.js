// onedesk chat widget, satisfaction part: loaded by widget.js the first
// time a message carries choices (a survey's ratings). It turns the
// message into a card with one button per rating; a press sends the
// choice, and the desk's thanks (or why it was refused) replaces the
// buttons. After a rating the card offers an optional comment, posted to
// /csat/comment with the pressed rating's token (its proof). No
// dependencies; it runs inside the widget's closed shadow root.
(() => {
  'use strict';
  const parts = (window.__onedeskParts ||= {});
  if (parts.csat) return;
  const css = '.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}'
    + '.choices button{border:1px solid #d0d3da;background:#fff;border-radius:8px;padding:6px 10px;font-size:16px;cursor:pointer;color:#17181c}'
    + '.choices button:hover{background:#eef1f6}.choices button[disabled]{opacity:.6;cursor:default}'
    + '.choices .done{font-size:13px;color:#454851;flex-basis:100%}'
    + '.choices form{display:grid;gap:6px;flex-basis:100%}.choices textarea{height:64px;resize:vertical;font-size:13px}'
    + '.choices form button{justify-self:start;font-size:13px}';
  const cards = new Map(); // message id -> {box, token of the rating pressed}
  // comment offers a box for an optional comment under a rated card.
  const comment = (w, S, card) => {
    const { el } = w;
    const err = el('span', { class: 'done', role: 'alert' });
    const ta = el('textarea', { name: 'comment', maxlength: '2000', 'aria-label': S.csat_comment, placeholder: S.csat_comment });
    const send = el('button', { type: 'submit' }, S.send);
    const form = el('form', { class: 'comment', onsubmit: async (e) => {
      e.preventDefault();
      const text = ta.value.trim();
      if (!text) return;
      send.disabled = true;
      err.textContent = '';
      try {
        const res = await fetch(`${w.base}/csat/comment`, { method: 'POST', headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify({ token: card.token, comment: text, lang: w.lang() }) });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error(data.error || S.error);
        form.replaceWith(el('span', { class: 'done', role: 'status' }, data.text || S.csat_comment_thanks));
      } catch (x) { err.textContent = x.message || S.error; send.disabled = false; }
    } }, ta, err, send);
    card.box.append(form);
    form.scrollIntoView?.({ block: 'nearest' });
  };
  parts.csat = {
    card(e, m, w) {
      const S = w.S();
      w.on.chosen = (f) => {
        const card = cards.get(f.id);
        if (!card) return;
        card.box.replaceChildren(w.el('span', { class: 'done', role: 'status' }, f.error || f.text || S.csat_thanks || ''));
        if (!f.error && card.token) comment(w, S, card);
      };
      const box = w.el('div', { class: 'choices', role: 'group', 'aria-label': S.csat_rate || '' });
      const card = { box, token: '' };
      for (const c of m.choices) {
        box.append(w.el('button', { type: 'button', 'data-choice': c.data, onclick: () => {
          if (!w.send({ type: 'choose', id: m.id, text: c.data })) return;
          card.token = c.data.replace(/^csat:/, '');
          for (const b of box.querySelectorAll('button')) b.disabled = true;
        } }, c.label));
      }
      cards.set(m.id, card);
      e.append(w.el('style', {}, css), box);
    },
  };
})();
