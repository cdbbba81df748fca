// Settings → Stores → a store → Greetings: proactive chat. Each greeting
// is shown by the store's chat widget to a visitor on a matching page,
// after some time on it, once per visit; the first that fits, in this
// order, wins. What each did in the last 30 days is beside it.
import { api, get } from './api.js';
import { h } from './dom.js';
import { formatNumber, languages, t } from './i18n.js';
import { errorText, state, toast } from './state.js';

export async function greetingsScreen(main, storeId) {
  const st = state.stores.find((s) => s.id === storeId);
  if (!st) {
    main.replaceChildren(h('p', { class: 'error' }, t('greetings_no_store')));
    return;
  }
  const data = await get(`/api/stores/${storeId}/greetings`);
  const stats = new Map((data.stats || []).map((s) => [s.greeting_id, s]));
  let list = data.greetings.map((g) => ({ ...g }));
  const err = h('p', { class: 'error', role: 'alert', id: 'greetings-error' });
  const cards = h('div', { class: 'greetings-list' });

  const paint = () => {
    cards.replaceChildren(...(list.length ? list.map((g, i) => card(g, i)) : [h('p', { class: 'muted' }, t('greetings_none'))]));
  };
  const field = (i, name, el) => { el.dataset.field = `greetings.${i}.${name}`; return el; };
  const card = (g, i) => {
    const s = stats.get(g.id);
    const set = (k) => (e) => { g[k] = e.target.type === 'checkbox' ? e.target.checked : e.target.type === 'number' ? Number(e.target.value) : e.target.value; };
    const move = (d) => () => { const j = i + d; [list[i], list[j]] = [list[j], list[i]]; paint(); };
    return h('fieldset', { class: 'card greeting', dataset: { index: i } },
      h('legend', {}, g.name || t('greeting_n', { n: i + 1 })),
      h('div', { class: 'greeting-grid' },
        h('label', { class: 'field' }, h('span', {}, t('greeting_name')),
          field(i, 'name', h('input', { type: 'text', value: g.name || '', maxlength: 100, oninput: set('name') }))),
        h('label', { class: 'field' }, h('span', {}, t('greeting_pattern')),
          field(i, 'url_pattern', h('input', { type: 'text', value: g.url_pattern || '', placeholder: '/products/*', maxlength: 300, spellcheck: 'false', oninput: set('url_pattern') }))),
        h('label', { class: 'field' }, h('span', {}, t('greeting_delay')),
          field(i, 'delay_seconds', h('input', { type: 'number', min: 0, max: 3600, value: String(g.delay_seconds ?? 0), oninput: set('delay_seconds') }))),
        h('label', { class: 'field' }, h('span', {}, t('greeting_audience')),
          field(i, 'audience', h('select', { onchange: set('audience') }, ['any', 'new', 'returning'].map((a) =>
            h('option', { value: a, selected: (g.audience || 'any') === a }, t(`greeting_audience_${a}`)))))),
        h('label', { class: 'field check' }, h('input', { type: 'checkbox', checked: g.active !== false, onchange: set('active') }), h('span', {}, t('greeting_active')))),
      h('div', { class: 'greeting-messages' }, Object.entries(languages).map(([code, name]) =>
        h('label', { class: 'field wide' }, h('span', {}, t('greeting_message_in', { lang: name })),
          field(i, `messages.${code}`, h('textarea', { rows: 2, maxlength: 500, lang: code, oninput: (e) => { g.messages = { ...g.messages, [code]: e.target.value }; } }, g.messages?.[code] || ''))))),
      h('div', { class: 'greeting-foot' },
        h('span', { class: 'muted greeting-stats' }, s ? t('greeting_stats', { shown: formatNumber(s.shown), opened: formatNumber(s.opened), chats: formatNumber(s.chats) }) : t('greeting_unsaved')),
        h('span', { class: 'bulk' },
          h('button', { type: 'button', class: 'btn small', disabled: i === 0, onclick: move(-1), 'aria-label': t('greeting_up') }, '↑'),
          h('button', { type: 'button', class: 'btn small', disabled: i === list.length - 1, onclick: move(1), 'aria-label': t('greeting_down') }, '↓'),
          h('button', { type: 'button', class: 'btn small danger', onclick: () => { list.splice(i, 1); paint(); } }, t('greeting_remove')))));
  };

  const save = async () => {
    err.textContent = '';
    try {
      const res = await api('PUT', `/api/stores/${storeId}/greetings`, { greetings: list });
      list = res.greetings.map((g) => ({ ...g }));
      stats.clear();
      for (const s of res.stats || []) stats.set(s.greeting_id, s);
      paint();
      toast(t('saved'));
    } catch (ex) {
      err.textContent = errorText(ex);
      cards.querySelector(`[data-field="${ex.field}"]`)?.focus();
    }
  };
  paint();
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/admin/stores' }, `← ${t('admin_stores')}`)),
    h('h1', {}, t('greetings_title', { store: st.name })),
    h('div', { class: 'card' }, h('p', {}, t('greetings_intro')), h('p', { class: 'muted' }, t('greetings_pattern_hint'))),
    cards,
    h('div', { class: 'bulk greetings-actions' },
      h('button', { type: 'button', class: 'btn', id: 'greeting-add', onclick: () => {
        list.push({ name: '', url_pattern: '', delay_seconds: 10, audience: 'any', active: true, messages: {} });
        paint();
        cards.lastElementChild?.querySelector('input')?.focus();
      } }, t('greeting_add')),
      h('button', { type: 'button', class: 'btn primary', id: 'greetings-save', onclick: save }, t('save'))),
    err);
}
