// Settings → Help centre: a store's categories and articles per language,
// the Markdown editor with a live preview drawn by the server (the same
// HTML readers get, in the public page's style), pictures, publishing,
// the "Was this helpful?" counts and the report of searches that found
// nothing and of questions the suggestions answered.
import { APIError, del, get, patch, post } from './api.js';
import { h } from './dom.js';
import { formatDateTime, formatNumber, languages, t } from './i18n.js';
import { errorText, state, toast } from './state.js';

let pick = { store: 0, lang: '' }; // kept while the agent moves around the screen
let generation = 0;

const escapeHTML = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const storeOf = (id) => state.stores.find((s) => s.id === id);

export async function helpAdmin(main, reloadMeta) {
  const gen = ++generation;
  await reloadMeta();
  if (!state.stores.length) { main.replaceChildren(h('h1', {}, t('admin_help')), h('div', { class: 'card muted' }, t('help_no_store'))); return; }
  if (!storeOf(pick.store)) pick = { store: state.stores[0].id, lang: state.stores[0].language || 'en' };
  if (!languages[pick.lang]) pick.lang = 'en';
  const st = storeOf(pick.store);
  const [{ categories }, { articles }, report] = await Promise.all([
    get(`/api/help/categories?store_id=${st.id}`), get(`/api/help/articles?store_id=${st.id}&lang=${pick.lang}`),
    get(`/api/help/report?store_id=${st.id}&range=${pick.range || '30d'}`).catch(() => null)]);
  if (gen !== generation) return;
  const catName = (c) => c?.names[pick.lang]?.name || c?.names.en?.name || Object.values(c?.names || {})[0]?.name || c?.slug || '';
  const again = () => helpAdmin(main, reloadMeta);
  const publicURL = `/help/${st.slug}/${pick.lang}/`;

  const langBar = h('div', { class: 'lang-bar', role: 'tablist', 'aria-label': t('language') }, Object.entries(languages).map(([code, name]) =>
    h('button', { type: 'button', role: 'tab', class: 'btn small', 'aria-selected': String(code === pick.lang), onclick: () => { pick.lang = code; again(); } }, name)));
  const status = (a) => h('span', { class: `badge help-${a.status}` }, t(`help_status_${a.status}`));

  const catCard = h('div', { class: 'card' }, h('h2', {}, t('help_categories')),
    categories.length ? h('ul', { class: 'help-cats' }, categories.map((c) => h('li', {},
      h('span', {}, catName(c), c.names[pick.lang] ? '' : h('span', { class: 'muted' }, ` (${t('help_untranslated')})`)),
      h('button', { class: 'btn small', onclick: () => categoryDialog(st, c, again) }, t('edit')),
      h('button', { class: 'btn small danger', onclick: async () => {
        if (!confirm(t('help_category_delete_confirm', { name: catName(c) }))) return;
        try { await del(`/api/help/categories/${c.id}`); toast(t('deleted')); again(); } catch (err) { toast(errorText(err), true); }
      } }, t('delete'))))) : h('p', { class: 'muted' }, t('help_no_categories')),
    h('button', { class: 'btn', onclick: () => categoryDialog(st, null, again) }, t('help_new_category')));

  const list = h('div', { class: 'card' }, h('h2', {}, t('help_articles')),
    articles.length ? h('table', { class: 'help-list phone-cards' },
      h('thead', {}, h('tr', {}, h('th', {}, t('title')), h('th', {}, t('help_category')), h('th', {}, t('status')), h('th', {}, t('help_helpful')), h('th', {}, ''))),
      h('tbody', {}, articles.map((a) => h('tr', {},
        h('td', { class: 'wide' }, h('strong', {}, a.title)),
        h('td', { dataset: { label: t('help_category') } }, catName(categories.find((c) => c.id === a.category_id)) || h('span', { class: 'muted' }, t('help_no_category'))),
        h('td', { dataset: { label: t('status') } }, status(a)),
        h('td', { class: 'num', dataset: { label: t('help_helpful') }, title: t('help_helpful_counts', { yes: a.helpful_yes, no: a.helpful_no }) }, t('help_votes', { yes: formatNumber(a.helpful_yes), no: formatNumber(a.helpful_no) })),
        h('td', { class: 'actions' }, h('button', { class: 'btn small', onclick: async () => editor(main, await get(`/api/help/articles/${a.id}`), categories, again) }, t('edit')))))))
      : h('p', { class: 'muted' }, t('help_no_articles')));

  const rangeSelect = h('select', { 'aria-label': t('reports_range'), onchange: (e) => { pick.range = e.target.value; again(); } },
    ['7d', '30d', '90d'].map((r) => h('option', { value: r, selected: r === (pick.range || '30d') }, t(`reports_range_${r}`))));
  const reportCard = report ? h('div', { class: 'card help-report' }, h('div', { class: 'admin-head' }, h('h2', {}, t('help_report')), rangeSelect),
    h('h3', {}, t('help_deflection')), h('p', { class: 'muted' }, t('help_deflection_hint')),
    report.deflection.length ? h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('help_source')), h('th', {}, t('help_opened')), h('th', {}, t('help_contacted')), h('th', {}, t('help_deflected')))),
      h('tbody', {}, report.deflection.map((d) => h('tr', {}, h('td', {}, t(`help_source_${d.source}`)), h('td', { class: 'num' }, formatNumber(d.opened)),
        h('td', { class: 'num' }, formatNumber(d.contacted)), h('td', { class: 'num' }, h('strong', {}, formatNumber(d.deflected)))))))
      : h('p', { class: 'muted' }, t('help_no_deflection')),
    h('h3', {}, t('help_missed')),
    report.missed_searches.length ? h('table', { class: 'help-missed' }, h('thead', {}, h('tr', {}, h('th', {}, t('help_query')), h('th', {}, t('language')), h('th', {}, t('help_searches')), h('th', {}, t('help_last')))),
      h('tbody', {}, report.missed_searches.map((m) => h('tr', {}, h('td', {}, m.query), h('td', {}, languages[m.lang] || m.lang), h('td', { class: 'num' }, formatNumber(m.count)), h('td', {}, formatDateTime(m.last_at))))))
      : h('p', { class: 'muted' }, t('help_missed_none'))) : null;

  main.replaceChildren(
    h('div', { class: 'admin-head' }, h('h1', {}, t('admin_help')),
      state.stores.length > 1 ? h('select', { 'aria-label': t('store'), onchange: (e) => { pick.store = Number(e.target.value); again(); } },
        state.stores.map((s) => h('option', { value: s.id, selected: s.id === st.id }, s.name))) : null,
      h('a', { class: 'btn', href: publicURL, target: '_blank', rel: 'noopener' }, t('help_open')),
      h('button', { class: 'btn primary', id: 'help-new', onclick: () => editor(main, { store_id: st.id, lang: pick.lang, title: '', body: '', slug: '', category_id: null, status: 'draft' }, categories, again) }, t('help_new_article'))),
    langBar, list, catCard, reportCard);
}

// categoryDialog adds or renames a category: its name and description in
// the language on screen (the others keep theirs).
function categoryDialog(st, cat, done) {
  const lang = pick.lang;
  const names = structuredClone(cat?.names || {});
  const err = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { name: 'name', value: names[lang]?.name || '', required: true });
  const desc = h('textarea', { name: 'description', rows: 2 }, names[lang]?.description || '');
  const dlg = h('dialog', { class: 'dialog' }, h('form', { method: 'dialog', class: 'form-editor', onsubmit: async (e) => {
    e.preventDefault();
    names[lang] = { name: name.value.trim(), description: desc.value.trim() };
    try {
      if (cat) await patch(`/api/help/categories/${cat.id}`, { names });
      else await post('/api/help/categories', { store_id: st.id, names });
      dlg.close(); dlg.remove(); toast(t('saved')); done();
    } catch (ex) { err.textContent = errorText(ex); }
  } },
  h('h2', {}, cat ? t('help_edit_category') : t('help_new_category'), ` · ${languages[lang]}`),
  h('label', { class: 'field' }, h('span', {}, t('name')), name),
  h('label', { class: 'field' }, h('span', {}, t('help_category_description')), desc), err,
  h('div', { class: 'save-bar' }, h('button', { class: 'btn primary', type: 'submit' }, t('save')),
    h('button', { class: 'btn', type: 'button', onclick: () => { dlg.close(); dlg.remove(); } }, t('cancel')))));
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
}

// editor edits one article's draft beside its preview; Publish makes the
// draft what readers see (until then the published version stays).
function editor(main, original, categories, back) {
  generation++;
  const a = structuredClone(original);
  const st = storeOf(a.store_id);
  const color = (st?.chat?.color || '#2563eb').replace('#', '');
  const frame = h('iframe', { class: 'form-preview help-preview', title: t('help_preview'), sandbox: '' });
  const err = h('p', { class: 'error', role: 'alert' });
  const info = h('p', { class: 'muted', id: 'help-state' });
  let timer = 0;
  let dirty = false;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const { html } = await post('/api/help/preview', { body: a.body });
        // The public page's style around the server's HTML; the frame is
        // sandboxed (no script), like the forms' preview.
        frame.srcdoc = `<!doctype html><html lang="${a.lang}"><head><meta charset="utf-8"><link rel="stylesheet" href="/help/_/help.css?color=${color}"></head>`
          + `<body class="preview"><main><article><h1>${escapeHTML(a.title)}</h1><div class="body">${html}</div></article></main></body></html>`;
      } catch { /* the next keystroke tries again */ }
    }, 250);
  };
  const describe = () => {
    info.textContent = a.status === 'published' ? t('help_state_published', { when: formatDateTime(a.published_at) })
      : a.status === 'changed' ? t('help_state_changed') : t('help_state_draft');
  };
  const field = (label, control, wide) => h('label', { class: `field${wide ? ' wide' : ''}` }, h('span', {}, label), control);
  const title = h('input', { name: 'title', value: a.title, oninput: (e) => { a.title = e.target.value; dirty = true; refresh(); } });
  const slug = h('input', { name: 'slug', value: a.slug, placeholder: t('form_slug_auto'), oninput: (e) => { a.slug = e.target.value; dirty = true; } });
  const body = h('textarea', { name: 'body', class: 'help-body', rows: 18, spellcheck: 'true', oninput: (e) => { a.body = e.target.value; dirty = true; refresh(); } }, a.body);
  const category = h('select', { name: 'category_id', onchange: (e) => { a.category_id = Number(e.target.value) || null; dirty = true; } },
    h('option', { value: '' }, t('help_no_category')),
    categories.map((c) => h('option', { value: c.id, selected: c.id === a.category_id }, c.names[a.lang]?.name || c.names.en?.name || Object.values(c.names)[0]?.name || c.slug)));
  const picker = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', hidden: true, onchange: async () => {
    const file = picker.files[0];
    picker.value = '';
    if (!file) return;
    const fd = new FormData();
    fd.append('store_id', a.store_id); fd.append('file', file);
    try {
      const up = await post('/api/help/images', fd);
      const at = body.selectionStart ?? body.value.length;
      body.setRangeText(`\n${up.markdown}\n`, at, body.selectionEnd ?? at, 'end');
      a.body = body.value; dirty = true; refresh(); body.focus();
    } catch (ex) { err.textContent = errorText(ex); }
  } });

  const heading = h('h1', {}, a.id ? a.title : t('help_new_article'), h('span', { class: 'muted' }, ` · ${languages[a.lang]}`));
  const show = (saved) => { Object.assign(a, saved); dirty = false; slug.value = a.slug; heading.firstChild.textContent = a.title; describe(); draw(); };
  const save = async () => {
    err.textContent = '';
    const body = { title: a.title, body: a.body, slug: a.slug, category_id: a.category_id || 0 };
    try {
      const saved = a.id ? await patch(`/api/help/articles/${a.id}`, body) : await post('/api/help/articles', { ...body, store_id: a.store_id, lang: a.lang });
      show(saved);
      return true;
    } catch (ex) {
      err.textContent = errorText(ex) + (ex instanceof APIError && ex.field ? ` (${ex.field})` : '');
      main.querySelector(`[name="${ex.field}"]`)?.focus();
      return false;
    }
  };
  const act = async (what) => {
    if ((dirty || !a.id) && !(await save())) return;
    try { show(await post(`/api/help/articles/${a.id}/${what}`)); toast(t(what === 'publish' ? 'help_published' : 'help_unpublished')); } catch (ex) { err.textContent = errorText(ex); }
  };
  const buttons = h('div', { class: 'save-bar' });
  function draw() {
    buttons.replaceChildren(...[
      h('button', { class: 'btn', id: 'help-save', onclick: async () => { if (await save()) toast(t('saved')); } }, t('help_save_draft')),
      h('button', { class: 'btn primary', id: 'help-publish', onclick: () => act('publish') }, t('help_publish')),
      a.published_at ? h('button', { class: 'btn', id: 'help-unpublish', onclick: () => act('unpublish') }, t('help_unpublish')) : null,
      a.published_at ? h('a', { class: 'btn', href: `/help/${st?.slug}/${a.lang}/a/${encodeURIComponent(a.slug)}`, target: '_blank', rel: 'noopener' }, t('help_view')) : null,
      a.id ? h('button', { class: 'btn danger', onclick: async () => {
        if (!confirm(t('help_delete_confirm', { title: a.title }))) return;
        try { await del(`/api/help/articles/${a.id}`); toast(t('deleted')); back(); } catch (ex) { toast(errorText(ex), true); }
      } }, t('delete')) : null,
      err].filter(Boolean));
  }
  describe(); draw(); refresh();
  main.replaceChildren(
    h('div', { class: 'admin-head' },
      h('button', { class: 'btn', onclick: back }, `← ${t('admin_help')}`),
      heading),
    h('div', { class: 'form-editor' },
      h('div', { class: 'form-edit' },
        h('div', { class: 'card' }, info,
          h('div', { class: 'form-grid' }, field(t('title'), title, true), field(t('slug'), slug), field(t('help_category'), category),
            field(t('help_body'), body, true)),
          h('p', { class: 'muted' }, t('help_markdown_hint'), ' ',
            h('button', { type: 'button', class: 'btn small', id: 'help-picture', onclick: () => picker.click() }, t('help_picture')), picker),
          a.id ? h('p', { class: 'muted' }, t('help_helpful_counts', { yes: formatNumber(a.helpful_yes), no: formatNumber(a.helpful_no) })) : null),
        buttons),
      h('div', { class: 'form-preview-box' }, h('h2', {}, t('help_preview')), frame)));
  title.focus();
}
