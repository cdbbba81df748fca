// Settings → Forms: the list of contact forms and the editor, with a live
// preview drawn by the server (the same page customers get) as you type.
import { APIError, csrfToken, del, get, patch, post } from './api.js';
import { h } from './dom.js';
import { languages, t, translator } from './i18n.js';
import { errorText, state, toast } from './state.js';

const types = ['text', 'textarea', 'email', 'phone', 'number', 'select', 'checkbox', 'order', 'file'];
const priorities = ['low', 'normal', 'high', 'urgent'];

// A render that finishes after a newer one started (the list still
// loading when the editor opened) is dropped.
let generation = 0;

export async function formsAdmin(main, reloadMeta) {
  const gen = ++generation;
  await reloadMeta();
  const { forms } = await get('/api/forms');
  if (gen !== generation) return;
  const storeName = (id) => state.stores.find((s) => s.id === id)?.name || t('no_store');
  main.replaceChildren(
    h('div', { class: 'admin-head' }, h('h1', {}, t('admin_forms')),
      h('button', { class: 'btn primary', onclick: async () => editor(main, await starter(), reloadMeta) }, t('form_new'))),
    forms.length ? h('div', { class: 'card' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, t('form_title')), h('th', {}, t('store')), h('th', {}, t('form_address')), h('th', {}, ''))),
      h('tbody', {}, forms.map((f) => h('tr', {},
        h('td', {}, h('strong', {}, f.title), f.enabled ? '' : h('span', { class: 'badge' }, t('form_off'))),
        h('td', {}, storeName(f.store_id)),
        h('td', {}, h('a', { href: `/f/${f.slug}`, target: '_blank', rel: 'noopener' }, `/f/${f.slug}`)),
        h('td', { class: 'actions' },
          h('button', { class: 'btn small', onclick: () => editor(main, f, reloadMeta) }, t('edit')),
          h('button', { class: 'btn small danger', onclick: async () => {
            if (!confirm(t('form_delete_confirm', { title: f.title }))) return;
            try { await del(`/api/forms/${f.id}`); toast(t('deleted')); formsAdmin(main, reloadMeta); } catch (err) { toast(errorText(err), true); }
          } }, t('delete'))))))))
      : h('div', { class: 'card muted' }, t('forms_none')));
}

// starter is a new form with the fields most shops want, written in the
// store's language (its customers read it), not the agent's.
async function starter() {
  const shop = state.stores[0];
  const t = await translator(shop?.language || 'en');
  return {
    title: t('form_starter_title'), slug: '', store_id: shop?.id ?? null, enabled: true, intro: '',
    fields: [
      { name: 'name', label: t('form_starter_name'), type: 'text', required: false },
      { name: 'email', label: t('email'), type: 'email', required: true },
      { name: 'topic', label: t('form_starter_topic'), type: 'select', required: true, options: [t('form_starter_order'), t('form_starter_returns'), t('form_starter_other')] },
      { name: 'order', label: t('form_starter_order_number'), type: 'order', required: false, help: '' },
      { name: 'message', label: t('message'), type: 'textarea', required: true },
    ],
    routing: { priority: 'normal', tags: [], rules: [] }, confirmation: true, redirect_url: '', min_seconds: 0, translations: {},
  };
}

const slugOf = (s) => s.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').replace(/^(\d)/, 'f_$1').slice(0, 40) || 'field';

function editor(main, original, reloadMeta) {
  generation++;
  const f = structuredClone(original);
  f.routing ??= { priority: '', tags: [], rules: [] };
  f.routing.rules ??= [];
  f.translations ??= {};
  for (const fl of f.fields) { fl.options ??= []; fl.translations ??= {}; fl.help ??= ''; }
  let lang = ''; // '' edits the texts as written; a language code edits its translations
  const frame = h('iframe', { class: 'form-preview', title: t('form_preview'), sandbox: '' });
  const err = h('p', { class: 'error', role: 'alert' });
  let timer = 0;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const res = await fetch('/api/forms/preview', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
          body: JSON.stringify({ form: f, lang: lang || state.stores.find((s) => s.id === f.store_id)?.language || 'en' }) });
        frame.srcdoc = await res.text();
      } catch { /* the next keystroke tries again */ }
    }, 250);
  };
  const input = (value, set, attrs = {}) => h(attrs.rows ? 'textarea' : 'input', {
    ...attrs, value: value ?? '', oninput: (e) => { set(e.target.value); refresh(); },
  });
  const check = (value, set, label) => h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: !!value,
    onchange: (e) => { set(e.target.checked); refresh(); } }), h('span', {}, label));
  const labelled = (label, control, wide) => h('label', { class: `field${wide ? ' wide' : ''}` }, h('span', {}, label), control);
  const tr = (o) => (o.translations[lang] ??= {});

  const fieldsBox = h('div', { class: 'field-rows' });
  const routingBox = h('div', { class: 'route-rows' });
  const settingsBox = h('div', { class: 'form-grid' });

  function drawSettings() {
    const storeOptions = [h('option', { value: '' }, t('no_store')), ...state.stores.map((s) => h('option', { value: s.id, selected: s.id === f.store_id }, s.name))];
    settingsBox.replaceChildren(
      lang ? labelled(t('form_title'), input(tr(f).title, (v) => { tr(f).title = v; }, { placeholder: f.title }))
        : labelled(t('form_title'), input(f.title, (v) => { f.title = v; }, { name: 'title' })),
      lang ? null : labelled(t('slug'), input(f.slug, (v) => { f.slug = v; }, { name: 'slug', placeholder: t('form_slug_auto') })),
      lang ? null : labelled(t('store'), h('select', { name: 'store_id', onchange: (e) => { f.store_id = e.target.value ? Number(e.target.value) : null; refresh(); } }, storeOptions)),
      lang ? labelled(t('form_intro'), input(tr(f).intro, (v) => { tr(f).intro = v; }, { rows: 2, placeholder: f.intro }), true)
        : labelled(t('form_intro'), input(f.intro, (v) => { f.intro = v; }, { rows: 2, name: 'intro' }), true),
      lang ? null : h('div', { class: 'checks wide' },
        check(f.enabled, (v) => { f.enabled = v; }, t('form_enabled')),
        check(f.confirmation, (v) => { f.confirmation = v; }, t('form_confirmation'))),
      lang ? null : labelled(t('form_redirect'), input(f.redirect_url, (v) => { f.redirect_url = v; }, { name: 'redirect_url', placeholder: 'https://shop.example.com/thanks' }), true),
    );
  }

  function drawFields() {
    fieldsBox.replaceChildren(...f.fields.map((fl, i) => {
      const move = (d) => { const j = i + d; if (j < 0 || j >= f.fields.length) return; [f.fields[i], f.fields[j]] = [f.fields[j], f.fields[i]]; drawFields(); drawRouting(); refresh(); };
      const tools = h('div', { class: 'row-tools' },
        h('button', { type: 'button', class: 'btn small', 'aria-label': t('move_up'), title: t('move_up'), onclick: () => move(-1) }, '↑'),
        h('button', { type: 'button', class: 'btn small', 'aria-label': t('move_down'), title: t('move_down'), onclick: () => move(1) }, '↓'),
        h('button', { type: 'button', class: 'btn small danger', 'aria-label': t('remove'), title: t('remove'), onclick: () => { f.fields.splice(i, 1); drawFields(); drawRouting(); refresh(); } }, '✕'));
      if (lang) {
        return h('div', { class: 'field-row' },
          labelled(fl.label, input(tr(fl).label, (v) => { tr(fl).label = v; }, { placeholder: fl.label })),
          labelled(t('form_help'), input(tr(fl).help, (v) => { tr(fl).help = v; }, { placeholder: fl.help })),
          fl.type === 'select' ? labelled(t('form_options'), input((tr(fl).options || []).join('\n'), (v) => {
            const list = v.split('\n').map((s) => s.trim()).filter(Boolean);
            tr(fl).options = list.length ? list : undefined;
          }, { rows: 3, placeholder: fl.options.join('\n') }), true) : null);
      }
      let named = fl.name !== slugOf(fl.label); // a name typed by hand is kept
      const nameInput = input(fl.name, (v) => { fl.name = v; named = true; }, { name: `fields[${i}].name`, spellcheck: 'false' });
      return h('div', { class: 'field-row' },
        labelled(t('form_label'), input(fl.label, (v) => {
          fl.label = v;
          if (!named) nameInput.value = fl.name = slugOf(v);
        }, { name: `fields[${i}].label` })),
        labelled(t('form_type'), h('select', { name: `fields[${i}].type`, onchange: (e) => { fl.type = e.target.value; drawFields(); drawRouting(); refresh(); } },
          types.map((x) => h('option', { value: x, selected: x === fl.type }, t(`field_type_${x}`))))),
        labelled(t('form_name'), nameInput),
        h('div', { class: 'checks' }, check(fl.required, (v) => { fl.required = v; }, t('form_required'))),
        labelled(t('form_help'), input(fl.help, (v) => { fl.help = v; }, { name: `fields[${i}].help` }), true),
        fl.type === 'select' ? labelled(t('form_options'), input(fl.options.join('\n'), (v) => { fl.options = v.split('\n').map((s) => s.trim()).filter(Boolean); drawRouting(); },
          { rows: 3, name: `fields[${i}].options` }), true) : null,
        tools);
    }));
  }

  function drawRouting() {
    const r = f.routing;
    const fieldOptions = (cur) => f.fields.filter((x) => ['select', 'text', 'order', 'checkbox'].includes(x.type))
      .map((x) => h('option', { value: x.name, selected: x.name === cur }, x.label));
    const teamSelect = (cur, set) => h('select', { onchange: (e) => set(e.target.value ? Number(e.target.value) : null) },
      h('option', { value: '' }, t('no_team')), state.teams.map((x) => h('option', { value: x.id, selected: x.id === cur }, x.name)));
    const prioSelect = (cur, set, none) => h('select', { onchange: (e) => set(e.target.value) },
      h('option', { value: '' }, none), priorities.map((p) => h('option', { value: p, selected: p === cur }, t(`priority_${p}`))));
    const tagsInput = (list, set) => h('input', { value: (list || []).join(', '), placeholder: t('tags'), oninput: (e) => set(e.target.value.split(',').map((s) => s.trim()).filter(Boolean)) });
    routingBox.replaceChildren(
      h('div', { class: 'route-row' }, h('span', { class: 'muted' }, t('form_route_default')),
        teamSelect(r.team_id, (v) => { r.team_id = v; }), prioSelect(r.priority, (v) => { r.priority = v; }, t('priority_normal')), tagsInput(r.tags, (v) => { r.tags = v; })),
      ...r.rules.map((rule, i) => {
        const fl = f.fields.find((x) => x.name === rule.field);
        return h('div', { class: 'route-row' },
          h('span', { class: 'muted' }, t('form_route_when')),
          h('select', { 'aria-label': t('form_route_field'), onchange: (e) => { rule.field = e.target.value; rule.value = ''; drawRouting(); } }, fieldOptions(rule.field)),
          fl?.type === 'select'
            ? h('select', { 'aria-label': t('form_route_value'), onchange: (e) => { rule.value = e.target.value; } }, h('option', { value: '' }, '—'),
              fl.options.map((o) => h('option', { value: o, selected: o === rule.value }, o)))
            : h('input', { 'aria-label': t('form_route_value'), value: rule.value, placeholder: t('form_route_value'), oninput: (e) => { rule.value = e.target.value; } }),
          teamSelect(rule.team_id, (v) => { rule.team_id = v; }), prioSelect(rule.priority, (v) => { rule.priority = v; }, t('form_route_keep')),
          tagsInput(rule.tags, (v) => { rule.tags = v; }),
          h('button', { type: 'button', class: 'btn small danger', 'aria-label': t('remove'), onclick: () => { r.rules.splice(i, 1); drawRouting(); } }, '✕'));
      }),
      h('button', { type: 'button', class: 'btn small', onclick: () => {
        const first = f.fields.find((x) => x.type === 'select') || f.fields[0];
        r.rules.push({ field: first?.name || '', value: '', team_id: null, priority: '', tags: [] });
        drawRouting();
      } }, t('form_route_add')));
  }

  const langBar = h('div', { class: 'lang-bar', role: 'tablist' }, [['', t('form_texts_written')], ...Object.entries(languages)].map(([code, name]) =>
    h('button', { type: 'button', role: 'tab', class: 'btn small', 'aria-selected': String(code === lang), onclick: (e) => {
      lang = code;
      langBar.querySelectorAll('button').forEach((b) => b.setAttribute('aria-selected', String(b === e.currentTarget)));
      drawSettings(); drawFields(); refresh();
    } }, name)));

  const save = async () => {
    err.textContent = '';
    try {
      const saved = f.id ? await patch(`/api/forms/${f.id}`, f) : await post('/api/forms', f);
      toast(t('saved'));
      editor(main, saved, reloadMeta);
    } catch (ex) {
      err.textContent = errorText(ex) + (ex instanceof APIError && ex.field ? ` (${ex.field})` : '');
      main.querySelector(`[name="${ex.field}"]`)?.focus();
    }
  };
  const link = `${location.origin}/f/${f.slug || '…'}`;
  const snippets = f.id ? [
    [t('form_link'), link],
    [t('form_iframe'), `<iframe src="${link}?embed=1" title="${f.title}" style="width:100%;min-height:720px;border:0" loading="lazy"></iframe>`],
    [t('form_json'), `fetch("${link}", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({email: "ana@example.com", message: "…"})})`],
  ] : [];
  drawSettings(); drawFields(); drawRouting(); refresh();
  main.replaceChildren(
    h('div', { class: 'admin-head' },
      h('button', { class: 'btn', onclick: () => formsAdmin(main, reloadMeta) }, `← ${t('admin_forms')}`),
      h('h1', {}, f.id ? f.title : t('form_new'))),
    h('div', { class: 'form-editor' },
      h('div', { class: 'form-edit' },
        h('div', { class: 'card' }, langBar, settingsBox),
        h('div', { class: 'card' }, h('h2', {}, t('form_fields')), fieldsBox,
          lang ? null : h('button', { type: 'button', class: 'btn', onclick: () => {
            const n = f.fields.length + 1;
            f.fields.push({ name: `field_${n}`, label: `${t('form_field')} ${n}`, type: 'text', required: false, help: '', options: [], translations: {} });
            drawFields(); refresh();
            fieldsBox.lastElementChild?.querySelector('input')?.focus();
          } }, t('form_add_field'))),
        h('div', { class: 'card' }, h('h2', {}, t('form_routing')), h('p', { class: 'muted' }, t('form_routing_hint')), routingBox),
        snippets.length ? h('div', { class: 'card' }, h('h2', {}, t('form_embed')), snippets.map(([label, code]) => h('div', { class: 'snippet' },
          h('p', { class: 'muted' }, label), h('code', {}, code),
          h('button', { type: 'button', class: 'btn small', onclick: async () => { try { await navigator.clipboard.writeText(code); toast(t('copied')); } catch { toast(code); } } }, t('copy'))))) : null,
        h('div', { class: 'save-bar' }, h('button', { class: 'btn primary', onclick: save }, t('save')), err)),
      h('div', { class: 'form-preview-box' }, h('h2', {}, t('form_preview')), frame)));
}
