// My settings → Notifications: push on each device (Web Push through
// the service worker, notify/ on the server), what reaches the agent by
// push and email, only when away or always, quiet hours in their time
// zone, the email digest's delay, and the sound the open app plays.
import { api, del, get, post } from './api.js';
import { $, h } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { errorText, state, toast } from './state.js';
import { play, soundNames } from './sound.js';

const mailKinds = ['assigned', 'mention'];

let prefsSaves = 0; // the times this tab saved the preferences

// loadNotifyPrefs reads the agent's preferences for the sounds, and
// sends this device's subscription again when the browser renewed it.
export async function loadNotifyPrefs() {
  const saves = prefsSaves;
  try {
    const r = await get('/api/me/notifications');
    // Asked as the app starts, the answer may come after the agent saved
    // the Notifications screen (a busy machine): the saved ones are newer.
    if (saves === prefsSaves) state.notify = r.prefs;
    syncPush(r).catch(() => {});
  } catch { /* the app works without: no sound */ }
}

// quietNow tells whether it is the agent's quiet hours, in their zone.
function quietNow(p) {
  if (!p?.quiet?.on || p.quiet.from === p.quiet.to) return false;
  let hm;
  try {
    hm = new Intl.DateTimeFormat('en-GB', { timeZone: state.me?.timezone || 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date());
  } catch {
    hm = new Date().toISOString().slice(11, 16);
  }
  const { from, to } = p.quiet;
  return from < to ? hm >= from && hm < to : hm >= from || hm < to;
}

// notifySound plays the agent's sound for what happened ('new_chat' or
// 'open_ticket'), unless they turned it off or it is their quiet hours.
export function notifySound(what) {
  const p = state.notify;
  if (!p || p.sound === 'off' || quietNow(p)) return false;
  if (what === 'new_chat' && !p.sound_new_chat) return false;
  if (what === 'open_ticket' && !p.sound_open_ticket) return false;
  return play(p.sound);
}

// ---- Push on this device

function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window && window.isSecureContext;
}

function keyBytes(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// deviceName guesses a name for this device from the browser's own words.
function deviceName() {
  const ua = navigator.userAgent;
  const os = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  const br = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : '';
  return [br, os].filter(Boolean).join(' · ') || 'Browser';
}

async function currentSubscription() {
  if (!pushSupported()) return null;
  const reg = await navigator.serviceWorker.getRegistration('/');
  return reg ? reg.pushManager.getSubscription() : null;
}

// syncPush sends this browser's subscription when the server does not
// know it (renewed by the browser, or the device removed elsewhere but
// still subscribed here: then it is dropped here too).
async function syncPush(r) {
  const sub = await currentSubscription();
  if (!sub) return;
  if (!r.devices.some((d) => d.endpoint === sub.endpoint)) {
    await post('/api/me/push-subscriptions', { ...sub.toJSON(), device: deviceName() });
  }
}

async function turnOn(key) {
  const reg = await navigator.serviceWorker.register('/sw.js');
  await navigator.serviceWorker.ready;
  const perm = await Notification.requestPermission();
  if (perm !== 'granted') throw new Error(t('notify_denied'));
  let sub = await reg.pushManager.getSubscription();
  // A browser that cannot reach its push service may never answer.
  const late = new Promise((_, fail) => { setTimeout(() => fail(new Error(t('notif_push_timeout'))), 30000); });
  if (!sub) sub = await Promise.race([reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }), late]);
  await post('/api/me/push-subscriptions', { ...sub.toJSON(), device: deviceName() });
}

async function turnOff(devices) {
  const sub = await currentSubscription();
  if (!sub) return;
  const mine = devices.find((d) => d.endpoint === sub.endpoint);
  await sub.unsubscribe();
  if (mine) await del(`/api/me/push-subscriptions/${mine.id}`);
}

// ---- The screen

export async function notificationsAdmin(main) {
  const r = await get('/api/me/notifications');
  state.notify = r.prefs;
  const sub = await currentSubscription().catch(() => null);
  const here = sub && r.devices.some((d) => d.endpoint === sub.endpoint);
  const redraw = () => notificationsAdmin(main).catch((err) => toast(errorText(err), true));
  const act = (fn) => async (e) => {
    e.target.disabled = true;
    try { await fn(); await redraw(); } catch (err) { toast(errorText(err), true); e.target.disabled = false; }
  };
  let status;
  if (!pushSupported()) status = t('notif_push_unsupported');
  else if (Notification.permission === 'denied') status = t('notif_push_blocked');
  else status = here ? t('notif_push_on_state') : t('notif_push_off_state');

  const p = r.prefs;
  const zone = r.timezone || 'UTC';
  const check = (name, on, label) => h('label', { class: 'field check' }, h('input', { type: 'checkbox', name, checked: !!on }), h('span', {}, label));
  main.replaceChildren(
    h('h1', {}, t('notif_title')),
    h('div', { class: 'card', id: 'push-card' },
      h('h2', {}, t('notif_push')),
      h('p', { class: 'muted' }, t('notif_push_hint')),
      h('p', { id: 'push-status', 'data-on': String(!!here) }, status),
      h('div', { class: 'bulk' },
        pushSupported() && Notification.permission !== 'denied'
          ? (here
            ? h('button', { class: 'btn', id: 'push-off', onclick: act(() => turnOff(r.devices)) }, t('notif_turn_off'))
            : h('button', { class: 'btn primary', id: 'push-on', onclick: act(() => turnOn(r.vapid_public_key)) }, t('notif_turn_on')))
          : null,
        r.devices.length ? h('button', { class: 'btn', id: 'push-test', onclick: async () => {
          try { await post('/api/me/push-subscriptions/test'); toast(t('notif_test_sent')); } catch (err) { toast(errorText(err), true); }
        } }, t('notif_test')) : null),
      h('h3', { class: 'form-heading' }, t('notif_devices')),
      r.devices.length
        ? h('ul', { class: 'device-list', id: 'push-devices' }, r.devices.map((d) => h('li', {},
          h('span', {}, d.device || '—', sub && d.endpoint === sub.endpoint ? h('span', { class: 'muted' }, ` · ${t('notif_this_device')}`) : null),
          h('span', { class: 'muted' }, formatDateTime(d.created_at)),
          d.last_error ? h('span', { class: 'error' }, d.last_error) : null,
          h('button', { class: 'btn small', onclick: act(async () => {
            if (sub && d.endpoint === sub.endpoint) await sub.unsubscribe();
            await del(`/api/me/push-subscriptions/${d.id}`);
          }) }, t('notif_remove')))))
        : h('p', { class: 'muted' }, t('notif_no_devices'))),
    h('form', { id: 'notify-prefs', onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target;
      const events = {};
      for (const k of r.kinds) events[k] = { push: f[`push_${k}`].checked, email: !!f[`email_${k}`]?.checked };
      const body = {
        events,
        push_when: f.push_when.value,
        quiet: { on: f.quiet_on.checked, from: f.quiet_from.value, to: f.quiet_to.value },
        email_delay_minutes: Number(f.email_delay.value),
        sound: f.sound.value,
        sound_new_chat: f.sound_new_chat.checked,
        sound_open_ticket: f.sound_open_ticket.checked,
      };
      try {
        const res = await api('PUT', '/api/me/notifications', body);
        prefsSaves++;
        state.notify = res.prefs;
        toast(t('saved'));
      } catch (err) { toast(errorText(err), true); }
    } },
    h('div', { class: 'card' },
      h('h2', {}, t('notif_events')),
      h('table', { class: 'notify-grid' },
        h('thead', {}, h('tr', {}, h('th', {}, t('notif_kind')), h('th', {}, t('notif_ch_push')), h('th', {}, t('notif_ch_email')))),
        h('tbody', {}, r.kinds.map((k) => h('tr', {},
          h('td', {}, t(`notif_kind_${k}`)),
          h('td', {}, h('input', { type: 'checkbox', name: `push_${k}`, checked: !!p.events[k]?.push, 'aria-label': `${t(`notif_kind_${k}`)}: ${t('notif_ch_push')}` })),
          h('td', {}, mailKinds.includes(k)
            ? h('input', { type: 'checkbox', name: `email_${k}`, checked: !!p.events[k]?.email, 'aria-label': `${t(`notif_kind_${k}`)}: ${t('notif_ch_email')}` })
            : h('span', { class: 'muted' }, '—')))))),
      h('fieldset', { class: 'choice' }, h('legend', {}, t('notif_when')),
        ['away', 'always'].map((v) => h('label', { class: 'field check' },
          h('input', { type: 'radio', name: 'push_when', value: v, checked: p.push_when === v }), h('span', {}, t(`notif_when_${v}`))))),
      h('p', { class: 'muted' }, t('notif_away_hint'))),
    h('div', { class: 'card' },
      h('h2', {}, t('notif_quiet')),
      check('quiet_on', p.quiet.on, t('notif_quiet_on')),
      h('div', { class: 'bulk' },
        h('label', { class: 'field' }, h('span', {}, t('notif_quiet_from')), h('input', { type: 'time', name: 'quiet_from', value: p.quiet.from, required: true })),
        h('label', { class: 'field' }, h('span', {}, t('notif_quiet_to')), h('input', { type: 'time', name: 'quiet_to', value: p.quiet.to, required: true }))),
      h('p', { class: 'muted' }, t('notif_quiet_zone', { zone }), ' ', h('a', { href: '#/admin/me' }, t('my_settings')))),
    h('div', { class: 'card' },
      h('h2', {}, t('notif_ch_email')),
      h('p', { class: 'muted' }, t('notif_email_hint')),
      h('label', { class: 'field' }, h('span', {}, t('notif_email_delay')),
        h('select', { name: 'email_delay' }, [5, 15, 30, 60, 120, 240].concat([5, 15, 30, 60, 120, 240].includes(p.email_delay_minutes) ? [] : [p.email_delay_minutes])
          .map((n) => h('option', { value: n, selected: n === p.email_delay_minutes }, t('notif_minutes', { n })))))),
    h('div', { class: 'card' },
      h('h2', {}, t('notif_sound')),
      h('div', { class: 'bulk' },
        h('label', { class: 'field' }, h('span', {}, t('notif_sound_choice')),
          h('select', { name: 'sound', id: 'notify-sound' }, [...soundNames, 'off'].map((s) => h('option', { value: s, selected: s === p.sound }, t(`notif_sound_${s}`))))),
        h('button', { type: 'button', class: 'btn small', onclick: () => play($('#notify-sound').value) }, t('notif_play'))),
      check('sound_new_chat', p.sound_new_chat, t('notif_sound_new_chat')),
      check('sound_open_ticket', p.sound_open_ticket, t('notif_sound_open_ticket'))),
    h('button', { type: 'submit', class: 'btn primary', id: 'notify-save' }, t('save'))));
}
