// A mailbox's history import, as admins see it beside their work: a line
// in the menu saying how far it is, until it ends (Settings → Mailboxes
// shows each import in full).
import { get } from './api.js';
import { h, icon } from './dom.js';
import { locale, t } from './i18n.js';
import { can } from './state.js';

let timer = 0;
let shown = null; // { percent, left } while an import runs

// leftText says a time left in seconds in words ("about 3 minutes left").
export function leftText(s) {
  const [n, unit] = s >= 5400 ? [Math.round(s / 3600), 'hour'] : s >= 90 ? [Math.round(s / 60), 'minute'] : [Math.max(1, Math.round(s)), 'second'];
  return t('history_left', { time: new Intl.NumberFormat(locale(), { style: 'unit', unit, unitDisplay: 'long' }).format(n) });
}

export const importing = (p) => p?.state === 'pending' || p?.state === 'running';

// historyNotice is the menu's line (hidden while no import runs).
export function historyNotice() {
  return h('a', { class: 'history-notice', id: 'history-notice', href: '#/admin/mailboxes', role: 'status', hidden: !shown },
    shown ? [icon('clock'), h('span', {}, t('history_notice', { percent: shown.percent }),
      shown.left != null ? h('small', {}, leftText(shown.left)) : null)] : null);
}

// watchHistory looks whether an import runs, and keeps looking while one
// does; saving or cancelling an import looks again at once.
export async function watchHistory() {
  clearTimeout(timer);
  if (!can('settings.channels')) return; // who may open the mailboxes
  try {
    const { mailboxes } = await get('/api/mailboxes');
    const running = mailboxes.map((m) => m.history).filter(importing);
    if (running.length) {
      const done = running.reduce((n, p) => n + p.done, 0);
      const total = running.reduce((n, p) => n + p.total, 0);
      const lefts = running.map((p) => p.left_s).filter((s) => s != null);
      shown = { percent: total ? Math.floor((100 * done) / total) : 0, left: lefts.length ? Math.max(...lefts) : null };
      timer = setTimeout(watchHistory, 10000);
    } else {
      shown = null;
    }
  } catch {
    timer = setTimeout(watchHistory, 30000);
  }
  document.getElementById('history-notice')?.replaceWith(historyNotice());
}

addEventListener('onedesk:history', watchHistory);
