// onedesk chat widget: <script src="https://desk.example.com/widget.js" data-store="my-shop" async></script>
// No dependencies; everything lives in a closed Shadow DOM so that the
// shop's CSS cannot reach it and it cannot reach the shop.
(() => {
  'use strict';
  const script = document.currentScript || document.querySelector('script[data-store][src*="widget.js"]');
  if (!script || window.__onedeskChat) return;
  window.__onedeskChat = true;
  const base = new URL(script.src).origin;
  const storeSlug = script.dataset.store || '';
  const q = `store=${encodeURIComponent(storeSlug)}`;
  const tokenKey = `onedesk.chat.${storeSlug}`;
  const pendingKey = `${tokenKey}.pending`;
  const store = (() => { try { return window.localStorage; } catch { return null; } })();
  const get = (k) => store?.getItem(k) || '';
  const set = (k, v) => { try { store?.setItem(k, v); } catch { /* private mode */ } };

  let S = {}; // catalog strings
  let cfg = {}; // the store's settings
  let online = false;
  let ws = null;
  let backoff = 500;
  let pinger = 0;
  let opened = false;
  let typingTimer = 0;
  const sent = new Map(); // cid -> {text, el}
  const hooks = {}; // what lazily loaded parts want to hear: open(), sent()
  let pending = []; // messages not yet acknowledged, kept across reloads
  try { pending = JSON.parse(get(pendingKey) || '[]'); } catch { pending = []; }
  const savePending = () => set(pendingKey, JSON.stringify(pending));

  const host = document.createElement('div');
  host.setAttribute('data-onedesk', '');
  const root = host.attachShadow({ mode: 'closed' });
  // The look comes from the store's settings; the snippet's data-color and
  // data-position, when given, win.
  const style = (color, side) => `<style>
:host{all:initial}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.launch{position:fixed;bottom:20px;${side}:20px;z-index:2147483000;border:0;border-radius:999px;background:${color};color:#fff;padding:12px 18px;font-size:15px;font-weight:600;box-shadow:0 6px 24px rgba(0,0,0,.22);cursor:pointer;display:flex;gap:8px;align-items:center}
.launch:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid ${color}55;outline-offset:2px}
.panel{position:fixed;bottom:20px;${side}:20px;z-index:2147483001;width:360px;max-width:calc(100vw - 24px);height:520px;max-height:calc(100vh - 40px);background:#fff;color:#17181c;border-radius:14px;box-shadow:0 12px 48px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden;font-size:14px}
.panel[hidden],.launch[hidden]{display:none}
@media (max-width:480px){.panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}}
header{background:${color};color:#fff;padding:14px 16px;display:flex;align-items:center;gap:8px}
header h2{margin:0;font-size:16px}
.hd{flex:1;min-width:0}.hd h2,.by b{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.pr{margin:2px 0 0;font-size:12px;display:flex;gap:6px;align-items:center}
.pr i{width:8px;height:8px;border-radius:50%;background:#c4c7cf;flex:none}.pr.on i{background:#3ecf6e}
.av{width:34px;height:34px;border-radius:50%;background:#ffffff33;display:grid;place-items:center;font-weight:700;font-size:13px;overflow:hidden;flex:none}
.av img{width:100%;height:100%;object-fit:cover}.av[hidden]{display:none}
.by{display:flex;gap:6px;align-items:center;font-size:12px;color:#676b76;margin:0 0 4px}.by .av{width:20px;height:20px;font-size:9px;background:${color};color:#fff}
header button{background:none;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}
.m{max-width:80%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.4}
.m.agent{background:#fff;border:1px solid #e3e5ea;align-self:flex-start}
.m.visitor{background:${color};color:#fff;align-self:flex-end}
.st{font-size:11px;opacity:.8;margin-top:2px;text-align:right}
.m.failed{background:#fdecec;color:#9b1c1c;cursor:pointer}
.note{color:#676b76;font-size:12.5px;text-align:center}
.note.away{background:#fff8e6;color:#5c4400;padding:10px 14px;text-align:left;border-bottom:1px solid #f0e0b0}
.note[hidden]{display:none}
form.send{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e5ea;background:#fff}
textarea,input{width:100%;border:1px solid #d0d3da;border-radius:8px;padding:8px 10px;font-size:14px;color:#17181c;background:#fff}
form.send textarea{resize:none;height:42px}
button.primary{background:${color};color:#fff;border:0;border-radius:8px;padding:8px 14px;font-weight:600;cursor:pointer;font-size:14px}
.off{padding:16px;display:grid;gap:10px;overflow-y:auto}
.off label{display:grid;gap:4px;font-size:13px;color:#454851}
.err{color:#b42318;font-size:13px;min-height:1em}
details{padding:0 14px 8px;background:#f6f7f9;font-size:13px}
details form{display:grid;gap:6px;margin-top:6px}
.attach{background:none;border:1px solid #d0d3da;border-radius:8px;cursor:pointer;font-size:14px;padding:0 10px;color:#454851;display:flex;align-items:center}
.file{display:flex;gap:4px;align-items:center;margin-top:4px;color:inherit;text-decoration:underline;cursor:pointer;background:none;border:0;padding:0;font:inherit;text-align:left}
.m img{display:block;max-width:100%;max-height:180px;border-radius:8px;margin-top:4px}
.m.visitor .file{color:#fff}
.file svg{width:14px;height:14px;flex:none}
.off .row{display:flex;gap:8px}
.tools{display:flex;gap:14px;flex-wrap:wrap;padding:2px 12px}
.tools button{background:none;border:0;padding:2px 0;color:${color};font-size:12.5px;cursor:pointer;text-decoration:underline}
</style>
<button class="launch" part="launcher" aria-haspopup="dialog"></button>
<section class="panel" role="dialog" aria-modal="false" hidden>
  <header><span class="av" hidden></span><div class="hd"><h2 id="t"></h2><p class="pr" role="status"><i></i><span></span></p></div><button class="x" type="button">×</button></header>
</section>`;
  const $ = (s) => root.querySelector(s);
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else if (v !== false && v != null) e.setAttribute(k, v === true ? '' : v);
    }
    e.append(...kids.filter((k) => k != null)); // text nodes: visitor and agent text is never HTML
    return e;
  };
  let launch; let panel;
  const body = el('div', { style: 'display:flex;flex-direction:column;flex:1;min-height:0' });

  function open() {
    hooks.open?.();
    opened = true;
    launch.hidden = true;
    panel.hidden = false;
    render();
  }
  function close() {
    panel.hidden = true;
    launch.hidden = false;
    launch.focus();
  }
  function build() {
    const color = /^#[0-9a-f]{3,8}$/i.test(script.dataset.color || '') ? script.dataset.color : cfg.color || '#2457d6';
    const side = (script.dataset.position || cfg.position) === 'left' ? 'left' : 'right';
    root.innerHTML = style(color, side);
    launch = $('.launch');
    panel = $('.panel');
    panel.append(body);
    launch.addEventListener('click', open);
    $('.x').addEventListener('click', close);
    panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
    launch.textContent = script.dataset.launcher || cfg.launcher || S.launcher;
  }
  const CLIP = '<svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5"/></svg>';
  const whoKey = `${tokenKey}.who`; // the visitor gave their details (or skipped them)

  let log; let typingNote; let status; let awayNote; let detailsBox;
  // Who answers: the last agent who replied (name and picture), and
  // whether the team is online, in the header.
  let agent = null;
  const initials = (n) => n.trim().split(/\s+/).slice(0, 2).map((w) => Array.from(w)[0]).join('').toUpperCase();
  const face = (who, e) => {
    e.replaceChildren(who.avatar ? el('img', { src: base + who.avatar, alt: '' }) : initials(who.name));
    return e;
  };
  function head() {
    if (!panel) return;
    $('#t').textContent = agent?.name || (online || get(tokenKey) ? S.title : S.offline_title);
    const av = $('header .av');
    av.hidden = !agent;
    if (agent) face(agent, av);
    $('.pr').classList.toggle('on', online);
    $('.pr span').textContent = online ? S.team_online : S.team_away;
    if (awayNote) awayNote.hidden = online;
  }
  let identify = null; // details from the pre-chat form, sent once connected
  // Help search before a first chat: assets/widget/help.js, fetched the
  // first time a visitor without a conversation opens a store with articles.
  let helped = false; // the visitor chose to chat
  function help() {
    if (helped || !cfg.help || get(tokenKey) || pending.length) return false;
    ownPart('help').then((p) => p({ root, body, el, S, cfg, base, storeSlug, hooks, chat: () => { helped = true; render(); } }))
      .catch(() => { helped = true; render(); });
    return true;
  }
  function render() {
    head();
    if (help()) return;
    // A returning visitor keeps their conversation when nobody is online,
    // told that we are away (and how to get the answer by email).
    awayNote = el('div', { class: 'note away', role: 'status', hidden: online });
    awayNote.textContent = S.away || '';
    $('.x').setAttribute('aria-label', S.close);
    panel.setAttribute('aria-labelledby', 't');
    body.replaceChildren();
    if (!online && !get(tokenKey)) { renderOffline(); return; }
    if (cfg.prechat !== 'off' && cfg.prechat && !get(whoKey)) { renderPreChat(); return; }
    log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite' }, el('div', { class: 'm agent' }, cfg.greeting || S.greeting));
    typingNote = el('div', { class: 'note', hidden: true }, S.typing);
    const ta = el('textarea', { 'aria-label': S.message, placeholder: S.placeholder, maxlength: '4000',
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); submit(); }
        else if (ws?.readyState === 1 && !typingTimer) { ws.send(JSON.stringify({ type: 'typing' })); typingTimer = setTimeout(() => { typingTimer = 0; }, 3000); }
      } });
    const submit = () => { const text = ta.value.trim(); if (!text) return; ta.value = ''; say(text); };
    const details = detailsBox = el('details', { open: !online && !get(whoKey) }, el('summary', {}, S.details), el('p', {}, S.details_intro),
      el('form', { onsubmit: (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        if (ws?.readyState === 1) ws.send(JSON.stringify({ type: 'identify', name: f.get('name'), email: f.get('email') }));
        e.target.closest('details').open = false;
      } }, el('input', { name: 'name', 'aria-label': S.name, placeholder: S.name, autocomplete: 'name' }),
      el('input', { name: 'email', type: 'email', 'aria-label': S.email, placeholder: S.email, autocomplete: 'email' }),
      el('button', { class: 'primary', type: 'submit' }, S.save)));
    const picker = el('input', { type: 'file', hidden: true, accept: 'image/*,application/pdf,text/plain',
      onchange: () => { if (picker.files[0]) upload(picker.files[0]); picker.value = ''; } });
    const attach = cfg.files ? el('button', { class: 'attach', type: 'button', 'aria-label': S.attach, title: S.attach, onclick: () => picker.click() }) : null;
    if (attach) attach.innerHTML = CLIP; // our own constant markup, never text from anyone
    status = el('p', { class: 'err', role: 'alert', style: 'margin:0 12px' });
    body.append(...[awayNote, log, typingNote, cfg.prechat === 'off' || !cfg.prechat ? details : null, status, tools(true)].filter(Boolean), el('form', { class: 'send', onsubmit: (e) => { e.preventDefault(); submit(); } },
      attach, picker, ta, el('button', { class: 'primary', type: 'submit' }, S.send)));
    for (const h of history) show(h);
    for (const p of pending) show({ from: 'visitor', text: p.text, cid: p.cid, state: 'sending' });
    ta.focus();
    connect();
  }

  // The pre-chat form asks for name and email before the chat starts:
  // optional (with Skip) or required, as the store says.
  function renderPreChat(problem) {
    const required = cfg.prechat === 'required';
    const err = el('p', { class: 'err', role: 'alert' }, problem || '');
    body.replaceChildren();
    const form = el('form', { class: 'off', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const f = new FormData(form);
      const email = String(f.get('email') || '').trim();
      if (required && !email) { err.textContent = S.err_email_required; form.querySelector('[name=email]').focus(); return; }
      identify = { name: f.get('name'), email };
      set(whoKey, '1');
      render();
    } },
    el('p', {}, required ? S.prechat_intro_required : S.prechat_intro),
    el('label', {}, S.name, el('input', { name: 'name', autocomplete: 'name' })),
    el('label', {}, S.email, el('input', { name: 'email', type: 'email', required, autocomplete: 'email' })),
    err, el('div', { class: 'row' }, el('button', { class: 'primary', type: 'submit' }, S.start),
      required ? null : el('button', { class: 'attach', type: 'button', onclick: () => { set(whoKey, '1'); render(); } }, S.skip)));
    body.append(form);
    form.querySelector('input').focus();
  }

  function renderOffline() {
    const err = el('p', { class: 'err', role: 'alert' });
    const form = el('form', { class: 'off', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      const f = new FormData(form);
      try {
        const res = await fetch(`${base}/chat/offline?${q}`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: f.get('name'), email: f.get('email'), message: f.get('message'), page: location.href, token: get(tokenKey), lang: cfg.language }),
        });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) {
          err.textContent = data.error || S.error;
          form.querySelector(`[name="${data.field}"]`)?.focus();
          return;
        }
        hooks.sent?.();
        body.replaceChildren(el('div', { class: 'off' }, el('p', { role: 'status' }, S.thanks)));
      } catch { err.textContent = S.error; }
    } },
    el('p', {}, S.offline_intro),
    el('label', {}, S.name, el('input', { name: 'name', autocomplete: 'name' })),
    el('label', {}, S.email, el('input', { name: 'email', type: 'email', required: true, autocomplete: 'email' })),
    el('label', {}, S.message, el('textarea', { name: 'message', rows: '5', required: true, maxlength: '4000' })),
    err, el('button', { class: 'primary', type: 'submit' }, S.submit));
    body.append(tools(false), form);
    form.querySelector('input').focus();
  }

  // "Where is my order?" and "Continue on another device" live in a part
  // of their own (the portal's), loaded only when a visitor opens one.
  function tools(chatting) {
    const b = (what, label) => el('button', { type: 'button', onclick: () => part(what) }, label);
    return el('div', { class: 'tools' }, cfg.orders ? b('order', S.order_track) : null, chatting ? b('continue', S.continue_device) : null);
  }
  const part = (what, code) => ownPart('portal').then((p) => p.open(what, {
    base, slug: storeSlug, lang: cfg.language, el, body, token: () => get(tokenKey), online: () => online,
    back: render, add: (m) => { history.push(m); show(m); },
    code, open, take: (t) => { set(tokenKey, t); set(whoKey, '1'); }, // a chat continued from another device
  })).catch(() => { if (status) status.textContent = S.error; });

  const history = [];
  function show(m) {
    if (!log) return;
    let e = m.cid ? log.querySelector(`[data-cid="${CSS.escape(m.cid)}"]`) : null;
    if (!e && m.id) e = log.querySelector(`[data-id="${m.id}"]`);
    if (!e) {
      e = el('div', { class: `m ${m.from}`, 'data-cid': m.cid || null, 'data-id': m.id || null }, el('span', {}, m.text || ''));
      if (m.from === 'agent' && m.name) {
        agent = { name: m.name, avatar: m.avatar };
        e.prepend(el('div', { class: 'by' }, face(agent, el('span', { class: 'av', 'aria-hidden': 'true' })), el('b', {}, m.name)));
        head();
      }
      log.append(e);
    }
    if (m.files?.length && !e.querySelector('.file')) {
      for (const f of m.files) {
        const b = el('button', { class: 'file', type: 'button', onclick: () => openFile(f) }, f.name);
        b.insertAdjacentHTML('afterbegin', CLIP);
        e.append(b);
        if (/^image\//.test(f.type)) fetchFile(f).then((url) => url && b.before(el('img', { src: url, alt: f.name }))).catch(() => {});
      }
    }
    if (m.id) e.setAttribute('data-id', m.id);
    if (m.choices?.length && !e.querySelector('.choices')) ownPart('csat').then((p) => p.card(e, m, widgetAPI)).catch(() => {});
    e.querySelector('.st')?.remove();
    e.classList.toggle('failed', m.state === 'failed');
    if (m.from === 'visitor' && m.state) e.append(el('div', { class: 'st' }, S[m.state]));
    if (m.state === 'failed') e.onclick = () => { e.onclick = null; resend(m.cid); };
    log.scrollTop = log.scrollHeight;
  }

  // Parts loaded only when first needed (assets/widget/<name>.js, which
  // registers itself in window.__onedeskParts), so the snippet stays small:
  // the one way every part (csat, greet, help, portal) is loaded.
  const loaded = {};
  const load = (name) => loaded[name] ||= new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = `${base}/widget/${name}.js`;
    s.async = true;
    s.onload = ok;
    s.onerror = () => { delete loaded[name]; fail(new Error(name)); }; // tried again next time
    document.head.append(s);
  });
  const ownPart = (name) => load(name).then(() => window.__onedeskParts?.[name] || Promise.reject(new Error(name)));
  // What a part may use of the widget.
  const widgetAPI = { el, base, S: () => S, lang: () => cfg.language, send: (f) => ws?.readyState === 1 && (ws.send(JSON.stringify(f)), true), on: {} };

  // Files go over HTTP (multipart), acknowledged like messages.
  async function upload(file) {
    status.textContent = '';
    if (cfg.max_file_mb && file.size > cfg.max_file_mb * 1048576) { status.textContent = S.err_file_size.replace('{mb}', cfg.max_file_mb); return; }
    const cid = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    show({ from: 'visitor', text: file.name, cid, state: 'sending' });
    const fd = new FormData();
    fd.append('token', get(tokenKey)); fd.append('cid', cid); fd.append('file', file);
    try {
      const res = await fetch(`${base}/chat/upload?${q}&lang=${cfg.language}&page=${encodeURIComponent(location.href)}`, { method: 'POST', body: fd });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data.error || S.error);
      const e = log.querySelector(`[data-cid="${CSS.escape(cid)}"]`);
      e?.querySelector('span')?.replaceChildren();
      show({ from: 'visitor', cid, id: data.id, files: data.files, state: 'sent' });
    } catch (err) {
      show({ from: 'visitor', cid, state: 'failed' });
      status.textContent = err.message || S.error;
    }
  }
  const fileURLs = new Map();
  async function fetchFile(f) {
    if (fileURLs.has(f.id)) return fileURLs.get(f.id);
    const res = await fetch(`${base}/chat/file?${q}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ token: get(tokenKey), id: f.id }) });
    if (!res.ok) return '';
    const url = URL.createObjectURL(await res.blob());
    fileURLs.set(f.id, url);
    return url;
  }
  async function openFile(f) {
    const url = await fetchFile(f).catch(() => '');
    if (!url) { status.textContent = S.error; return; }
    const a = el('a', { href: url, download: f.name });
    root.append(a); a.click(); a.remove();
  }

  function say(text) {
    hooks.sent?.();
    const cid = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    pending.push({ cid, text });
    savePending();
    show({ from: 'visitor', text, cid, state: 'sending' });
    if (ws?.readyState === 1) ws.send(JSON.stringify({ type: 'msg', cid, text }));
  }
  function resend(cid) {
    const p = pending.find((x) => x.cid === cid);
    if (!p) return;
    show({ from: 'visitor', text: p.text, cid, state: 'sending' });
    if (ws?.readyState === 1) ws.send(JSON.stringify({ type: 'msg', cid, text: p.text }));
  }

  function connect() {
    if (ws && ws.readyState <= 1) return;
    const url = `${base.replace(/^http/, 'ws')}/chat/ws?${q}`;
    ws = new WebSocket(url);
    ws.onopen = () => {
      backoff = 500;
      // Our keep-alive: proxies close quiet sockets, and the server keeps no timer per visitor.
      clearInterval(pinger);
      pinger = setInterval(() => { if (ws.readyState === 1) ws.send('{"type":"ping"}'); }, 25000);
      ws.send(JSON.stringify({ type: 'hello', token: get(tokenKey), page: location.href, locale: navigator.language, lang: cfg.language, receipts: true }));
    };
    ws.onmessage = (ev) => {
      let f; try { f = JSON.parse(ev.data); } catch { return; }
      switch (f.type) {
        case 'welcome':
          set(tokenKey, f.token);
          online = !!f.online;
          head();
          if (detailsBox && !online && !f.email) detailsBox.open = true;
          history.length = 0;
          for (const m of f.history || []) {
            history.push(m); show(m);
            // A reply left while the visitor was away: now it is shown.
            if (m.ack && m.id) ws.send(JSON.stringify({ type: 'got', id: m.id }));
          }
          if (f.email) set(whoKey, '1');
          // Details from the pre-chat form go before any message.
          if (identify) { ws.send(JSON.stringify({ type: 'identify', ...identify })); identify = null; }
          // Whatever was not acknowledged goes again, with the same ids:
          // the server stores each once.
          for (const p of pending) ws.send(JSON.stringify({ type: 'msg', cid: p.cid, text: p.text }));
          break;
        case 'ack':
          pending = pending.filter((p) => p.cid !== f.cid);
          savePending();
          history.push({ from: 'visitor', cid: f.cid, id: f.id, text: log?.querySelector(`[data-cid="${CSS.escape(f.cid)}"] span`)?.textContent || '' });
          show({ from: 'visitor', cid: f.cid, id: f.id, state: 'sent' });
          break;
        case 'msg':
          // The receipt tells the desk the reply reached the visitor; a
          // reply without one goes by email instead.
          if (f.id && f.from === 'agent') ws.send(JSON.stringify({ type: 'got', id: f.id }));
          typingNote && (typingNote.hidden = true);
          history.push(f);
          show(f);
          if (!opened) launch.textContent = `● ${script.dataset.launcher || cfg.launcher || S.launcher}`;
          break;
        case 'typing':
          if (typingNote) { typingNote.hidden = false; clearTimeout(typingNote.t); typingNote.t = setTimeout(() => { typingNote.hidden = true; }, 4000); }
          break;
        case 'error':
          if (f.cid) show({ from: 'visitor', cid: f.cid, text: '', state: 'failed' });
          if (status) status.textContent = f.error || S.error;
          if (f.code === 'err_details' || (f.field === 'email' && cfg.prechat && cfg.prechat !== 'off')) {
            set(whoKey, ''); identify = null; render(); renderPreChat(f.error);
          }
          break;
        case 'presence': // the team came online or went away
          online = !!f.online;
          head();
          break;
        case 'identified':
          if (status) status.textContent = '';
          break;
        case 'chosen':
          widgetAPI.on.chosen?.(f);
          break;
        default:
      }
    };
    ws.onclose = (e) => {
      if (e.code === 1012) {
        // The server is restarting: what is not acknowledged yet stays
        // "sending" and goes again on the next connection, made at once
        // (spread over a second, so that many widgets do not come at once).
        backoff = 500;
        setTimeout(connect, 200 + Math.random() * 1000);
        return;
      }
      for (const p of pending) show({ from: 'visitor', cid: p.cid, text: p.text, state: 'failed' });
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  // Leaving the page, into the back/forward cache too, closes the socket:
  // the desk knows at once that its replies are not seen here (email or
  // the conversation keeps them) rather than after a receipt's wait.
  let wasLive = false;
  addEventListener('pagehide', () => {
    wasLive = !!ws;
    clearInterval(pinger);
    if (ws) { ws.onclose = null; ws.close(); ws = null; }
  });
  addEventListener('pageshow', (e) => { if (e.persisted && wasLive) connect(); });

  async function start() {
    try {
      const lang = (navigator.languages || [navigator.language]).join(',');
      const res = await fetch(`${base}/chat/config?${q}&lang=${encodeURIComponent(lang)}`);
      if (!res.ok) return; // a wrong snippet shows nothing rather than a broken button
      cfg = await res.json();
      S = cfg.strings || {};
      online = !!cfg.online;
      build();
      document.body.append(host);
      // Greetings (their own file, loaded only for a store that has any).
      if (cfg.greetings?.length) {
        const side = (script.dataset.position || cfg.position) === 'left' ? 'left' : 'right';
        const api = { cfg, S, root, base, q, hooks, open, side, isOpen: () => !panel.hidden, slug: storeSlug };
        ownPart('greet').then((p) => p(api)).catch(() => {});
      }
      // A link that continues a chat from another device: the portal part
      // trades its code for this chat (the code leaves the address at once).
      const code = /onedesk-continue=([\w-]+)/.exec(location.hash)?.[1];
      if (code) { window.history.replaceState(null, '', location.href.split('#')[0]); part('resume', code); }
      else if (get(tokenKey) || pending.length) connect(); // a returning visitor gets replies live
    } catch { /* the desk is unreachable: show nothing */ }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
