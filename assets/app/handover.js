// "Hand over my tickets" at the end of a shift: every open ticket of an
// agent goes to a team or another agent, with a note the next agent sees
// on top of each ticket. Admins do the same for another agent.
import { get, post } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { agentName, errorText, state, teamName, toast } from './state.js';

// handoverDialog opens the dialog for the agent (the caller when agent is
// not given); onDone runs after tickets moved.
export function handoverDialog({ agent, onDone } = {}) {
  document.querySelector('.overlay')?.remove();
  const self = !agent || agent.id === state.me.id;
  const from = self ? state.me : agent;
  const base = self ? '/api/me/handover' : `/api/agents/${from.id}/handover`;
  let count = null;

  const target = h('select', { id: 'handover-to', required: true, onchange: update },
    h('option', { value: '' }, t('handover_choose')),
    state.teams.length ? h('optgroup', { label: t('nav_teams') },
      state.teams.map((x) => h('option', { value: `team:${x.id}` }, x.name))) : null,
    h('optgroup', { label: t('admin_agents') },
      state.agents.filter((a) => a.active && a.id !== from.id).map((a) => h('option', { value: `agent:${a.id}` }, a.name))));
  const note = h('textarea', { id: 'handover-note', rows: 4, placeholder: t('handoff_placeholder') });
  const summary = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' }, t('handover_counting'));
  const err = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary', disabled: true }, t('handover_submit', { n: 0 }));

  function update() {
    if (count !== null) {
      summary.textContent = count ? t('handover_count', { n: count }) : t('handover_none');
      submit.textContent = t('handover_submit', { n: count });
    }
    submit.disabled = !count || !target.value;
  }

  const close = () => overlay.remove();
  const form = h('form', {
    class: 'dialog handover', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'handover-title',
    onsubmit: async (e) => {
      e.preventDefault();
      const [kind, id] = target.value.split(':');
      if (!kind) { target.focus(); return; }
      err.textContent = '';
      submit.disabled = true;
      try {
        const res = await post(base, {
          team_id: kind === 'team' ? Number(id) : null,
          assignee_id: kind === 'agent' ? Number(id) : null,
          note: note.value.trim(),
        });
        close();
        const to = kind === 'team' ? teamName(Number(id)) : agentName(Number(id));
        toast(t('handover_done', { n: res.moved, to }));
        if (res.failed?.length) {
          const f = res.failed[0];
          toast(t('bulk_failed', { n: res.failed.length, first: `#${f.id}: ${f.error}` }), true);
        }
        onDone?.(res);
      } catch (ex) {
        err.textContent = errorText(ex);
        (ex.field === 'note' ? note : target).focus();
        submit.disabled = false;
      }
    },
  },
  h('h2', { id: 'handover-title' }, self ? t('handover') : t('handover_of', { name: from.name })),
  summary,
  h('label', { class: 'field' }, h('span', {}, t('handover_to')), target),
  h('p', { class: 'muted hint' }, t('handover_hint')),
  h('label', { class: 'field' }, h('span', {}, t('handoff_note')), note),
  err,
  h('div', { class: 'buttons' },
    h('button', { type: 'button', class: 'btn', onclick: close }, t('cancel')),
    submit));
  const overlay = h('div', {
    class: 'overlay', id: 'handover',
    onclick: (e) => { if (e.target === overlay) close(); },
    onkeydown: (e) => {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      // Ctrl+Enter in the note hands over, as it sends a reply.
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !submit.disabled) { e.preventDefault(); form.requestSubmit(); }
    },
  }, form);
  document.body.append(overlay);
  target.focus();

  get(base).then((res) => { count = res.tickets; update(); })
    .catch((ex) => { summary.textContent = errorText(ex); });
}
