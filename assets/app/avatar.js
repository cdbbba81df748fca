// My settings → Profile picture: chat visitors see it beside the agent's
// replies and in the widget's header (initials when there is none).
import { api, get } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { agentAvatar, errorText, initials, state, toast } from './state.js';

export async function avatarCard() {
  const me = await get('/api/me');
  const face = h('span', { class: 'avatar big', id: 'my-avatar' });
  let remove;
  const paint = (url) => {
    face.replaceChildren(url ? h('img', { src: url, alt: '' }) : initials(state.me.name));
    if (remove) remove.hidden = !url;
    // The app's lists show the new picture (or the initials) from now on.
    const mine = state.agents.find((a) => a.id === state.me.id);
    if (mine && (mine.avatar_url || '') !== url) {
      mine.avatar_url = url;
      document.querySelector('.sidebar .me .avatar')?.replaceWith(agentAvatar(state.me.id, { size: '' }));
    }
  };
  const err = h('p', { class: 'error', role: 'alert' });
  const picker = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', id: 'avatar-file', class: 'sr-only', onchange: async () => {
    const file = picker.files[0];
    picker.value = '';
    if (!file) return;
    err.textContent = '';
    const fd = new FormData();
    fd.append('avatar', file);
    try {
      const res = await api('PUT', '/api/me/avatar', fd);
      paint(res.avatar_url);
      toast(t('saved'));
    } catch (ex) { err.textContent = errorText(ex); }
  } });
  remove = h('button', { type: 'button', class: 'btn small', onclick: async () => {
    try { await api('DELETE', '/api/me/avatar'); paint(''); toast(t('saved')); } catch (ex) { err.textContent = errorText(ex); }
  } }, t('avatar_remove'));
  paint(me.avatar_url);
  return h('div', { class: 'card avatar-card' }, h('h2', {}, t('avatar_title')),
    h('div', { class: 'avatar-row' }, face,
      h('div', {}, h('p', { class: 'muted' }, t('avatar_hint')),
        h('span', { class: 'bulk' }, h('label', { class: 'btn small', for: 'avatar-file' }, t('avatar_upload')), picker, remove))),
    err);
}
