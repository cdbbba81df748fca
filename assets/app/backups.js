// The backups card of Settings (admins): the last backup (when, file,
// size, how long it took) or its error, the schedule and the next one,
// and "Back up now" while onedesk runs with --backup-dir.
import { get, post } from './api.js';
import { h } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { errorText, toast } from './state.js';
import { formatSize } from './ticket.js';

// span says a number of seconds in the largest whole unit: "1 day", "6 hours".
function span(seconds) {
  const [n, unit] = seconds % 86400 === 0 ? [seconds / 86400, 'day']
    : seconds % 3600 === 0 ? [seconds / 3600, 'hour']
      : seconds >= 60 ? [Math.round(seconds / 60), 'minute'] : [Math.max(seconds, 0), 'second'];
  return new Intl.NumberFormat(document.documentElement.lang || 'en', { style: 'unit', unit, unitDisplay: 'long' }).format(n);
}

function took(ms) {
  return ms < 1000 ? `${ms} ms` : span(Math.round(ms / 1000));
}

export async function backupCard() {
  const card = h('div', { class: 'card', id: 'backups' });
  let timer;
  const refresh = async () => {
    if (!card.isConnected && timer) return; // left the page
    try {
      draw(await get('/api/backups'));
    } catch (err) {
      card.replaceChildren(h('h2', {}, t('backups')), h('p', { class: 'error', role: 'alert' }, errorText(err)));
    }
  };
  const start = async (e) => {
    e.target.disabled = true;
    try {
      draw(await post('/api/backups'));
    } catch (err) {
      toast(errorText(err), true);
      e.target.disabled = false;
    }
  };
  let wasRunning = false;
  const draw = (st) => {
    clearTimeout(timer);
    timer = null;
    if (!st.enabled) {
      card.replaceChildren(h('h2', {}, t('backups')), h('p', { class: 'muted' }, t('backups_off')));
      return;
    }
    const last = st.last;
    const good = st.last_success;
    const lastLine = good ? h('p', { class: 'backup-line' },
      t('backup_last', { when: formatDateTime(good.started_at), file: good.file, size: formatSize(good.size) }),
      good.duration_ms > 0 ? ` · ${t('backup_took', { duration: took(good.duration_ms) })}` : null) : null;
    let status;
    if (st.running) status = h('p', { class: 'muted', role: 'status' }, t('backup_running'));
    else if (last?.error) status = h('p', { class: 'error', role: 'alert' }, t('backup_failed', { when: formatDateTime(last.started_at), error: last.error }));
    card.replaceChildren(...[
      h('h2', {}, t('backups')),
      status,
      lastLine || (!st.running && !last?.error ? h('p', { class: 'muted' }, t('backup_none')) : null),
      h('p', { class: 'muted' }, t('backup_schedule', { every: span(st.every_seconds), dir: st.dir, keep: st.keep, kept: st.kept })),
      st.next_at && !st.running ? h('p', { class: 'muted' }, t('backup_next', { when: formatDateTime(st.next_at) })) : null,
      h('button', { type: 'button', class: 'btn', disabled: st.running, onclick: start }, t('backup_now')),
    ].filter(Boolean));
    if (wasRunning && !st.running && last && !last.error) toast(t('backup_done'));
    wasRunning = st.running;
    if (st.running) timer = setTimeout(refresh, 1000);
  };
  await refresh();
  return card;
}
