// onedesk chat widget: proactive greetings. Loaded by widget.js only when
// the store has greetings (its config lists them, in the visitor's
// language). The first greeting, in the store's order, whose page pattern
// matches this page and whose audience is this visitor is shown after its
// time on the page, once per visit, as a small bubble over the launcher
// that opens the chat. Shown, opened and chats started are counted.
(() => {
  'use strict';
  const parts = (window.__onedeskParts ||= {});
  if (parts.greet) return;
  // A pattern matches the page's path and query: '*' is any run of
  // characters, nothing else is special; without '*' it is a prefix
  // (greetings/greetings.go says the same, and matches the same way).
  const match = (pattern, page) => {
    if (!pattern.includes('*')) return page.startsWith(pattern);
    let p = 0; let s = 0; let star = -1; let mark = 0;
    while (s < page.length) {
      if (p < pattern.length && pattern[p] === '*') { star = p++; mark = s; }
      else if (p < pattern.length && pattern[p] === page[s]) { p++; s++; }
      else if (star >= 0) { p = star + 1; s = ++mark; }
      else return false;
    }
    while (p < pattern.length && pattern[p] === '*') p++;
    return p === pattern.length;
  };
  const storage = (k) => { try { return window[k]; } catch { return null; } };

  parts.greet = (api) => {
    const session = storage('sessionStorage');
    const local = storage('localStorage');
    const key = `onedesk.greet.${api.slug}`;
    const sget = (k) => { try { return session?.getItem(k) || ''; } catch { return ''; } };
    const sset = (k, v) => { try { session?.setItem(k, v); } catch { /* private mode */ } };
    // A visit is this tab's session; a returning visitor was seen on an
    // earlier one (a mark kept across visits).
    let visit = sget(`${key}.visit`);
    if (!visit) {
      let seen = '';
      // A chat token from before this visit is a mark too (the store may
      // have had no greetings then).
      try { seen = local?.getItem(`${key}.seen`) || local?.getItem(`onedesk.chat.${api.slug}`) || ''; local?.setItem(`${key}.seen`, String(Date.now())); } catch { /* private mode */ }
      visit = seen ? 'returning' : 'new';
      sset(`${key}.visit`, visit);
    }
    const beacon = (id, event) => {
      fetch(`${api.base}/chat/greet?${api.q}`, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify({ id, event }) }).catch(() => {});
    };
    // A chat started after a greeting this visit counts for it, once.
    const prevSent = api.hooks.sent; // another part (help search) may listen too
    api.hooks.sent = () => {
      prevSent?.();
      const shown = sget(`${key}.shown`);
      if (shown && !sget(`${key}.chat`)) { sset(`${key}.chat`, '1'); beacon(Number(shown), 'chat'); }
    };
    if (sget(`${key}.shown`)) return; // once per visit
    const page = () => location.pathname + location.search;
    const g = api.cfg.greetings.find((x) => match(x.match || '', page()) && (x.audience === 'any' || x.audience === visit));
    if (!g) return;
    const wait = Math.max(0, g.delay * 1000 - performance.now());
    setTimeout(() => {
      // Still this page (a shop that changes pages without loading them),
      // chat not open, nothing shown meanwhile in another tab's visit.
      if (!match(g.match || '', page()) || api.isOpen() || sget(`${key}.shown`)) return;
      sset(`${key}.shown`, String(g.id));
      show(api, g, () => { beacon(g.id, 'opened'); });
      beacon(g.id, 'shown');
    }, wait);
  };

  function show(api, g, opened) {
    const { root, S } = api;
    const style = document.createElement('style');
    const side = api.side === 'left' ? 'left' : 'right';
    style.textContent = `.greet{position:fixed;bottom:76px;${side}:20px;z-index:2147483000;max-width:min(300px,calc(100vw - 40px));display:flex;align-items:flex-start;gap:6px;background:#fff;color:#17181c;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.22);padding:12px 10px 12px 14px;font-size:14px;line-height:1.4;animation:gin .25s ease-out}
.greet button.txt{all:unset;cursor:pointer;flex:1;white-space:pre-wrap;overflow-wrap:anywhere}
.greet button.txt:focus-visible{outline:2px solid #2457d6;outline-offset:2px}
.greet button.dx{background:none;border:0;color:#676b76;font-size:18px;line-height:1;cursor:pointer;padding:0 4px}
@keyframes gin{from{opacity:0;transform:translateY(8px)}}
@media (prefers-reduced-motion:reduce){.greet{animation:none}}`;
    const box = document.createElement('div');
    box.className = 'greet';
    box.setAttribute('role', 'status');
    const txt = document.createElement('button');
    txt.className = 'txt';
    txt.type = 'button';
    txt.textContent = g.text; // the store's text, never HTML
    const dx = document.createElement('button');
    dx.className = 'dx';
    dx.type = 'button';
    dx.textContent = '×';
    dx.setAttribute('aria-label', S.greet_dismiss || 'Dismiss');
    box.append(txt, dx);
    const gone = () => { box.remove(); style.remove(); };
    txt.addEventListener('click', () => {
      gone();
      opened();
      api.cfg.greeting = g.text; // the chat begins with the greeting the visitor answered
      api.open();
    });
    dx.addEventListener('click', gone);
    const prev = api.hooks.open;
    api.hooks.open = () => { gone(); prev?.(); };
    root.append(style, box);
  }
})();
