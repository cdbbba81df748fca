// onedesk chat widget, satisfaction part: loaded by widget.js the first
// time a message carries choices (a survey's ratings). It turns the
// message into a card with one button per rating; a press sends the
// choice, and the desk's thanks (or why it was refused) replaces the
// buttons. No dependencies; it runs inside the widget's closed shadow root.
(() => {
  'use strict';
  const parts = (window.__onedeskParts ||= {});
  if (parts.csat) return;
  const css = '.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}'
    + '.choices button{border:1px solid #d0d3da;background:#fff;border-radius:8px;padding:6px 10px;font-size:16px;cursor:pointer;color:#17181c}'
    + '.choices button:hover{background:#eef1f6}.choices button[disabled]{opacity:.6;cursor:default}'
    + '.choices .done{font-size:13px;color:#454851}';
  const cards = new Map(); // message id -> the card's buttons box
  parts.csat = {
    card(e, m, w) {
      const S = w.S();
      w.on.chosen = (f) => {
        const box = cards.get(f.id);
        if (!box) return;
        box.replaceChildren(w.el('span', { class: 'done', role: 'status' }, f.error || f.text || S.csat_thanks || ''));
      };
      const box = w.el('div', { class: 'choices', role: 'group', 'aria-label': S.csat_rate || '' });
      for (const c of m.choices) {
        box.append(w.el('button', { type: 'button', 'data-choice': c.data, onclick: () => {
          if (!w.send({ type: 'choose', id: m.id, text: c.data })) return;
          for (const b of box.querySelectorAll('button')) b.disabled = true;
        } }, c.label));
      }
      cards.set(m.id, box);
      e.append(w.el('style', {}, css), box);
    },
  };
})();
