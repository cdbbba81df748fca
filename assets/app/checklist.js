// The first-run checklist: five steps a new desk needs (a store, the chat
// snippet, a mailbox, a teammate, a channel), each ticked by the server
// from the desk's real state and linking to its screen. Shown to admins
// where no ticket is open, until every step is done or it is dismissed.
import { get, post } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { can } from './state.js';

const screens = { store: 'stores', snippet: 'stores', mailbox: 'mailboxes', teammate: 'agents', channel: 'channels' };

// showChecklist puts the checklist at the top of box when it applies.
export async function showChecklist(box) {
  if (!box || !can('settings.desk')) return;
  let list;
  try { list = await get('/api/checklist'); } catch { return; } // a help, never an error in the way
  if (list.dismissed || list.complete || !box.isConnected || box.querySelector('.checklist')) return;
  const done = list.steps.filter((s) => s.done).length;
  const card = h('section', { class: 'checklist', 'aria-labelledby': 'checklist-title' },
    h('div', { class: 'checklist-head' },
      h('h2', { id: 'checklist-title' }, t('checklist_title')),
      h('span', { class: 'muted' }, t('checklist_progress', { done, total: list.steps.length }))),
    h('ol', {}, list.steps.map((s) => h('li', { class: s.done ? 'done' : '' },
      h('span', { class: 'tick', 'aria-label': s.done ? t('checklist_step_done') : null, role: s.done ? 'img' : null }, s.done ? '✓' : ''),
      h('a', { href: `#/admin/${screens[s.key]}` }, t(`checklist_${s.key}`, { where: `${t('nav_settings')} → ${t('admin_stores')}` }))))),
    h('button', { class: 'btn small', type: 'button', onclick: async () => {
      card.remove();
      await post('/api/checklist/dismiss').catch(() => {});
    } }, t('checklist_dismiss')));
  box.prepend(card);
}
