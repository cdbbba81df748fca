// onedesk chat widget, help search before a chat: widget.js loads this
// part (window.__onedeskParts.help) the first time a visitor with no
// conversation opens the widget of a store with published articles, and
// calls it with its shadow root, panel body, element helper, strings and
// settings.
// Articles open in a new tab; opening one from here and then not chatting
// in this visit is a deflection (helpcentre's package comment).
(() => {
  'use strict';
  const css = `.help{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#f6f7f9}
.help p{margin:0;color:#454851;font-size:13px}
.help input{font-size:15px;padding:10px 12px}
.help ul{list-style:none;margin:0;padding:0;display:grid;gap:6px}
.help li a{display:block;background:#fff;border:1px solid #e3e5ea;border-radius:10px;padding:9px 12px;color:#17181c;text-decoration:none}
.help li a:hover,.help li a:focus-visible{border-color:#9aa0ad}
.help li b{display:block;font-size:14px;margin-bottom:2px}
.help li span{font-size:12.5px;color:#5a5e68}
.help .ask{margin-top:auto;display:grid;gap:6px;text-align:center}`;
  let visit = '';
  const parts = (window.__onedeskParts ||= {});
  parts.help = ({ root, body, el, S, cfg, base, storeSlug, hooks, chat }) => {
    if (!root.querySelector('style[data-help]')) root.append(el('style', { 'data-help': '' }, css));
    visit = visit || `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
    let opened = false; // a suggested article was opened in this visit
    const prev = hooks.sent; // another part (greetings) may listen too
    hooks.sent = () => {
      prev?.();
      if (!opened) return;
      opened = false; // one contact per visit is enough
      fetch(`${base}/help/${encodeURIComponent(storeSlug)}/api/contact`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ visit }) }).catch(() => {});
    };
    const api = `${base}/help/${encodeURIComponent(storeSlug)}/api/search?lang=${encodeURIComponent(cfg.language || '')}&limit=5`;
    const list = el('ul', { 'aria-live': 'polite' });
    const note = el('p', {}, S.help_intro);
    let timer = 0; let asked = '';
    async function search(q, log) {
      q = q.trim();
      if (!q) { list.replaceChildren(); delete list.dataset.q; asked = ''; note.textContent = S.help_intro; return; }
      if (q === asked && !log) return;
      // The search logged when the box loses focus, as a click on an
      // article does on mousedown: a list that already answers q stays,
      // so the click's mouseup lands on the link it started on.
      const shown = list.dataset.q === q;
      asked = q;
      try {
        const res = await fetch(`${api}&q=${encodeURIComponent(q)}${log ? '&log=1' : ''}`);
        if (!res.ok || q !== asked || shown) return;
        const data = await res.json();
        // A later query may have been asked while this answer was read:
        // only the last one's articles are shown.
        if (q !== asked) return;
        list.dataset.q = q; // which query the list answers (tests wait for it)
        list.replaceChildren(...data.articles.map((a) => el('li', {}, el('a', {
          href: `${base}${a.url}?ref=widget&visit=${visit}`, target: '_blank', rel: 'noopener', onclick: () => { opened = true; },
        }, el('b', {}, a.title), el('span', {}, a.snippet)))));
        note.textContent = data.articles.length ? '' : S.help_none;
      } catch { /* the desk is unreachable: the chat button still works */ }
    }
    const input = el('input', { type: 'search', 'aria-label': S.help_search, placeholder: S.help_search, maxlength: '200', autocomplete: 'off',
      oninput: () => { clearTimeout(timer); timer = setTimeout(() => search(input.value, false), 250); },
      onchange: () => search(input.value, true) });
    body.replaceChildren(el('div', { class: 'help' },
      el('form', { role: 'search', onsubmit: (e) => { e.preventDefault(); clearTimeout(timer); search(input.value, true); } }, input),
      note, list,
      el('div', { class: 'ask' }, el('p', {}, S.help_still), el('button', { class: 'primary', type: 'button', onclick: chat }, S.help_chat))));
    input.focus();
  };
})();
