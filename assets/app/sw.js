// The service worker: the app's shell (its page, modules, styles,
// catalogs and icons) comes from a cache named for this build, so the app
// opens at once and works on a slow line. The server fills in the build's
// version and the shell's files when it serves this file as /sw.js; a new
// build is a new worker, which drops the old cache. API answers are never
// cached: they belong to the agent signed in, and they must be fresh.
const VERSION = '__SHELL_VERSION__';
const SHELL = __SHELL_FILES__;
const CACHE = `onedesk-shell-${VERSION}`;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(['/', ...SHELL])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('onedesk-shell-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  // The app's page (it routes by the hash): from the cache, refreshed behind.
  if (req.mode === 'navigate' && url.pathname === '/') {
    e.respondWith(caches.open(CACHE).then(async (c) => {
      const hit = await c.match('/');
      const fresh = fetch(req).then((res) => { if (res.ok) c.put('/', res.clone()); return res; });
      if (hit) { e.waitUntil(fresh.catch(() => {})); return hit; }
      return fresh;
    }));
    return;
  }
  // The shell's files: this build's cache first. Everything else (the API,
  // sockets, forms, the widget) goes to the network untouched.
  if (url.pathname.startsWith('/app/') || url.pathname === '/favicon.ico') {
    e.respondWith(caches.open(CACHE).then(async (c) => (await c.match(req)) || fetch(req)));
  }
});

// Web Push (notify/): the server encrypts a small JSON for this device
// ({kind, ticket_id, title, body, url, tag}); it is shown even with the
// app closed. A tap opens the ticket in an open window of the app, or a
// new one.
self.addEventListener('push', (e) => {
  let p = {};
  try { p = e.data ? e.data.json() : {}; } catch { p = { title: e.data ? e.data.text() : '' }; }
  const title = p.title || 'onedesk';
  e.waitUntil(self.registration.showNotification(title, {
    body: p.body || '',
    tag: p.tag || undefined,
    renotify: !!p.tag,
    icon: '/app/icons/icon-192.png',
    badge: '/app/icons/icon-192.png',
    data: { url: p.url || '/', ticket_id: p.ticket_id || 0, kind: p.kind || '' },
  }));
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  // The app's own page at the payload's route (#/open/t/N), whatever
  // address the payload names: only this origin is opened.
  const url = `${self.location.origin}/${new URL(e.notification.data?.url || '/', self.location.origin).hash}`;
  e.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(async (list) => {
    for (const c of list) {
      if (new URL(c.url).origin !== self.location.origin) continue;
      await c.focus();
      if ('navigate' in c) return c.navigate(url).catch(() => c.postMessage({ type: 'open', url }));
      c.postMessage({ type: 'open', url });
      return undefined;
    }
    return self.clients.openWindow(url);
  }));
});

// The browser may replace a subscription (keys expire): the app sends
// the new one when it next opens (notifications.js, syncPush).
