// The Reports page: five reports (overview, volume, speed, workload, SLA)
// over a period with filters, each total against the previous period,
// charts drawn here as SVG, each with its table and a CSV download.
// Everything the page shows is in its address
// (#/reports/<tab>?range=30d&store=2...), so a report can be bookmarked
// and a reload keeps it.
import { get } from './api.js';
import { $, debounce, h, icon } from './dom.js';
import { formatNumber, t } from './i18n.js';
import { channels, errorText, state } from './state.js';
import { shortDuration } from './sla.js';
import { commentsSection } from './csat.js';

const tabs = ['overview', 'volume', 'speed', 'workload', 'sla', 'greetings', 'revenue', 'csat'];
const revenueDays = [7, 14, 30, 60, 90];
const ranges = ['today', '7d', '30d', '90d', 'custom'];
const filterKeys = ['store', 'channel', 'team', 'agent', 'tag'];
const byKeys = ['channel', 'store', 'team', 'agent'];

// ---- The address

// readURL gives the tab and the parameters of #/reports/<tab>?<query>.
function readURL() {
  const m = location.hash.match(/^#\/reports\/?([^?]*)\??(.*)$/);
  const q = new URLSearchParams(m?.[2] || '');
  const p = {
    range: ranges.includes(q.get('range')) ? q.get('range') : '7d',
    from: q.get('from') || '', to: q.get('to') || '',
    compare: q.get('compare') !== '0',
    by: byKeys.includes(q.get('by')) ? q.get('by') : 'channel',
    tz: q.get('tz') || '', // '': the store's (the API picks it)
    days: revenueDays.includes(Number(q.get('days'))) ? Number(q.get('days')) : 30, // revenue: days after the resolution
  };
  for (const k of filterKeys) p[k] = q.get(k) ?? '';
  return { tab: tabs.includes(m?.[1]) ? m[1] : 'overview', p };
}

// query is the report's query string for p (the API takes the same as the
// page's address), with extra parameters added.
function query(p, tab, extra = {}) {
  const q = new URLSearchParams({ range: p.range });
  if (p.range === 'custom') {
    if (p.from) q.set('from', p.from);
    if (p.to) q.set('to', p.to);
  }
  for (const k of filterKeys) if (p[k] !== '') q.set(k, p[k]);
  if (p.tz) q.set('tz', p.tz);
  if (tab === 'overview' && p.by !== 'channel') q.set('by', p.by);
  if (tab === 'revenue' && p.days !== 30) q.set('days', p.days);
  if (!p.compare) q.set('compare', '0');
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

const href = (tab, p) => `#/reports/${tab}?${query(p, tab)}`;

// ---- Numbers

const lang = () => document.documentElement.lang || 'en';

// metrics says how each number is shown and which way is better (1: up,
// -1: down, 0: neither).
const metrics = {
  created: ['count', 0], resolved: ['count', 1], reopened: ['count', -1], messages_in: ['count', 0], messages_out: ['count', 0],
  backlog: ['count', -1], open: ['count', -1], answered: ['count', 1], replies: ['count', 0], one_touch: ['count', 1],
  replies_per_ticket: ['ratio', -1], breaches: ['count', -1], csat_average: ['ratio', 1], surveys_sent: ['count', 0], ratings: ['count', 1],
  first_response_met: ['count', 1], first_response_missed: ['count', -1], resolution_met: ['count', 1], resolution_missed: ['count', -1],
};
const kindOf = (k) => metrics[k]?.[0] ?? (k.endsWith('_s') ? 'duration' : k.endsWith('_rate') ? 'rate' : 'count');
const better = (k) => metrics[k]?.[1] ?? (k.endsWith('_s') ? -1 : k.endsWith('_rate') ? 1 : 0);
const label = (k) => t(`reports_m_${k}`);

function percent(v, digits = 0) {
  return new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: digits }).format(v);
}

// duration is a time in seconds the way people say it: "45 s", "2h 5m".
function duration(secs) {
  if (secs < 60) return new Intl.NumberFormat(lang(), { style: 'unit', unit: 'second', unitDisplay: 'narrow' }).format(Math.round(secs));
  return shortDuration(secs * 1000);
}

// fmt shows the value v of metric k.
function fmt(k, v) {
  if (v == null) return '—';
  // Revenue in totals is by currency: {"EUR": 75.4}.
  if (typeof v === 'object') return Object.entries(v).map(([c, n]) => money(n, c)).join(' · ') || '—';
  switch (kindOf(k)) {
    case 'duration': return duration(v);
    case 'rate': return percent(v);
    case 'ratio': return new Intl.NumberFormat(lang(), { maximumFractionDigits: 1 }).format(v);
    default: return formatNumber(v);
  }
}

function money(n, currency) {
  try { return new Intl.NumberFormat(lang(), { style: 'currency', currency }).format(n); } catch { return `${formatNumber(n)} ${currency}`; }
}

function day(iso, opts = { day: 'numeric', month: 'short' }) {
  return new Intl.DateTimeFormat(lang(), { ...opts, timeZone: 'UTC' }).format(new Date(`${iso}T00:00:00Z`));
}

function dayRange(from, to) {
  const f = new Intl.DateTimeFormat(lang(), { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const a = new Date(`${from}T00:00:00Z`);
  return from === to ? f.format(a) : f.formatRange(a, new Date(`${to}T00:00:00Z`));
}

// weekday names, Monday first (1 January 2024 was a Monday).
const weekday = (i, style = 'short') => new Intl.DateTimeFormat(lang(), { weekday: style, timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + i)));

// ---- The reports: their cards, charts and tables

// Series take the colours c0-c3 (app.css): classes, as the page's CSP
// allows no inline styles.
const colors = ['c0', 'c1', 'c2', 'c3'];

// Each report lists its cards ([metric, the metrics of the lines beneath
// it]) and draws its sections from the answer.
const reports = {
  overview: {
    cards: [['created'], ['resolved'], ['reopened'], ['backlog'], ['first_response_median_s', ['first_response_p90_s']],
      ['resolution_median_s', ['resolution_p90_s']], ['one_touch_rate'], ['sla_first_response_rate'], ['sla_resolution_rate'],
      ['messages_in'], ['messages_out']],
    sections: (d) => {
      const name = `by_${cur.p.by}`;
      const by = h('select', { 'aria-label': t('reports_by'), id: 'report-by', onchange: (e) => { cur.p.by = e.target.value; changed(true); } },
        byKeys.map((k) => h('option', { value: k, selected: k === cur.p.by }, t(`reports_by_${k}`))));
      return [section(d, name, { title: t(`reports_by_${cur.p.by}`), tools: by, charts: [
        barsChart(d, name, t('reports_chart_volume'), ['created', 'resolved']),
        barsChart(d, name, t('reports_chart_first_response'), ['first_response_median_s', 'first_response_p90_s'], [t('reports_median'), t('reports_p90_label')]),
      ] })];
    },
  },
  volume: {
    cards: [['created'], ['resolved'], ['reopened'], ['messages_in'], ['messages_out']],
    sections: (d) => [
      section(d, 'by_day', { title: t('reports_by_day'), charts: [
        timeChart(d, 'by_day', t('reports_chart_tickets_day'), ['created', 'resolved', 'reopened']),
        timeChart(d, 'by_day', t('reports_chart_messages_day'), ['messages_in', 'messages_out']),
      ] }),
      section(d, 'by_hour', { title: t('reports_chart_heatmap'), charts: [heatmap(d)] }),
      h('div', { class: 'report-grid' }, ['by_channel', 'by_store', 'by_team', 'by_agent'].filter((n) => table(d, n)).map((n) =>
        section(d, n, { title: t(`reports_${n}`), charts: [barsChart(d, n, '', ['created', 'resolved'])] }))),
    ],
  },
  speed: {
    cards: [['answered'], ['first_response_median_s', ['first_response_p90_s']], ['first_response_bh_median_s', ['first_response_bh_p90_s']],
      ['resolved'], ['resolution_median_s', ['resolution_p90_s']], ['resolution_bh_median_s', ['resolution_bh_p90_s']]],
    sections: (d) => [
      section(d, 'by_day', { title: t('reports_chart_speed_day'), charts: [
        timeChart(d, 'by_day', t('reports_chart_first_response'), ['first_response_median_s'], { line: true }),
        timeChart(d, 'by_day', t('reports_chart_resolution'), ['resolution_median_s'], { line: true, color: 1 }),
      ] }),
      ...['by_channel', 'by_team', 'by_agent'].filter((n) => table(d, n)).map((n) => section(d, n, { title: t(`reports_${n}`), charts: [
        barsChart(d, n, t('reports_chart_first_response'), ['first_response_median_s', 'first_response_p90_s'], [t('reports_median'), t('reports_p90_label')]),
        barsChart(d, n, t('reports_chart_resolution'), ['resolution_median_s', 'resolution_p90_s'], [t('reports_median'), t('reports_p90_label')]),
      ] })),
    ],
  },
  workload: {
    cards: [['backlog'], ['resolved'], ['replies'], ['replies_per_ticket'], ['one_touch'], ['one_touch_rate']],
    sections: (d) => [
      section(d, 'backlog', { title: t('reports_chart_backlog'), charts: [timeChart(d, 'backlog', '', ['open'], { area: true })] }),
      section(d, 'by_agent', { title: t('reports_by_agent'), charts: [
        barsChart(d, 'by_agent', t('reports_chart_workload'), ['open', 'resolved']),
        barsChart(d, 'by_agent', t('reports_m_replies_per_ticket'), ['replies_per_ticket'], null, 2),
      ] }),
    ],
  },
  // Revenue after support: orders customers placed within N days after a
  // ticket of theirs was resolved, by agent and channel.
  revenue: {
    cards: [['revenue'], ['orders'], ['tickets_with_order'], ['conversion_rate'], ['resolved']],
    sections: (d) => {
      const days = h('select', { 'aria-label': t('reports_revenue_days'), id: 'report-days', onchange: (e) => { cur.p.days = Number(e.target.value); changed(true); } },
        revenueDays.map((n) => h('option', { value: n, selected: n === cur.p.days }, t('reports_revenue_days_n', { n }))));
      return [
        h('p', { class: 'muted report-help', id: 'report-revenue-help' }, t('reports_revenue_help')),
        section(d, 'by_agent', { title: t('reports_by_agent'), tools: days, charts: [barsChart(d, 'by_agent', t('reports_m_revenue'), ['revenue'])] }),
        section(d, 'by_channel', { title: t('reports_by_channel'), charts: [barsChart(d, 'by_channel', t('reports_m_revenue'), ['revenue'])] }),
      ];
    },
  },
  sla: {
    cards: [['sla_first_response_rate', [metOf('first_response')]], ['first_response_missed'], ['sla_resolution_rate', [metOf('resolution')]],
      ['resolution_missed'], ['breaches']],
    sections: (d) => [
      section(d, 'by_day', { title: t('reports_chart_breaches_day'), charts: [timeChart(d, 'by_day', '', ['breaches'], { color: 3, none: 'reports_no_breaches' })] }),
      section(d, 'by_team', { title: t('reports_by_team'), charts: [
        barsChart(d, 'by_team', t('reports_chart_sla_rates'), ['sla_first_response_rate', 'sla_resolution_rate'], null, 0, 'reports_no_sla'),
        barsChart(d, 'by_team', t('reports_m_breaches'), ['breaches'], null, 3, 'reports_no_breaches'),
      ] }),
    ],
  },
  // Proactive chat: what each store's greetings did.
  greetings: {
    cards: [['shown'], ['opened', [(d) => t('reports_of_shown', { pct: fmt('open_rate', d.totals?.open_rate) })]],
      ['chats', [(d) => t('reports_of_shown', { pct: fmt('chat_rate', d.totals?.chat_rate) })]]],
    sections: (d) => [section(d, 'greetings', { title: t('reports_greetings'), charts: [
      barsChart(d, 'greetings', '', ['shown', 'opened', 'chats'], null, 0, 'reports_no_greetings')] })],
  },
};

// The satisfaction report (csat.js keeps the rest of it).
reports.csat = {
  cards: [['csat_average'], ['satisfied_rate'], ['response_rate'], ['ratings'], ['surveys_sent']],
  sections: (d) => [
    section(d, 'by_day', { title: t('reports_by_day'), charts: [
      timeChart(d, 'by_day', t('reports_m_satisfied_rate'), ['satisfied_rate'], { line: true, color: 1 }),
      timeChart(d, 'by_day', t('csat_chart_answers'), ['surveys_sent', 'ratings']),
    ] }),
    h('div', { class: 'report-grid' }, ['by_agent', 'by_team', 'by_channel', 'by_store'].filter((n) => table(d, n)).map((n) =>
      section(d, n, { title: t(`reports_${n}`), charts: [barsChart(d, n, '', ['satisfied_rate', 'response_rate'])] }))),
    commentsSection(d),
  ],
};

// metOf is the line under an SLA rate: how many of how many were on time.
function metOf(target) {
  return (d) => {
    const met = d.totals?.[`${target}_met`] ?? 0;
    return t('reports_met_of', { met: formatNumber(met), total: formatNumber(met + (d.totals?.[`${target}_missed`] ?? 0)) });
  };
}

const table = (d, name) => d.tables?.find((x) => x.name === name) || null;

// records turns a table's rows into objects keyed by column.
const records = (tb) => (tb.rows || []).map((r) => Object.fromEntries(tb.columns.map((c, i) => [c, r[i]])));

// keyLabel names a row of a table keyed by channel, store, team or agent.
function keyLabel(tb, r) {
  const key = tb.columns[0];
  if (key === 'channel') return r.channel ? t(`channel_${r.channel}`) : '—';
  if ('name' in r && r.name) return r.name;
  if (!r[key]) return t({ store: 'reports_no_store', team: 'reports_no_team', agent: 'reports_unassigned' }[key] || 'reports_none');
  return `#${r[key]}`;
}

// ---- The page

// cur is what the page shows: the tab, the parameters and the last answer.
const cur = { tab: 'overview', p: readURL().p, data: null, seq: 0 };
const openTables = new Set(); // tables shown ("report:table"), kept across reloads of the numbers

export function renderReports(main) {
  // The bare address (the menu, g r) opens the report last looked at.
  const last = localStorage.getItem('onedesk.reports');
  if (/^#\/reports\/?$/.test(location.hash) && last?.startsWith('#/reports/')) history.replaceState(null, '', last);
  const { tab, p } = readURL();
  Object.assign(cur, { tab, p });
  if (!$('#reports', main)) build(main);
  sync();
  load();
}

// refreshReports reloads the numbers after changes on the desk, quietly
// and at most every few seconds.
let refreshTimer = 0;
export function refreshReports() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = 0;
    if ($('#reports') && !document.hidden) load({ quiet: true });
  }, 3000);
}

function build(main) {
  const select = (key, all, options, none) => h('label', { class: 'report-filter' }, h('span', {}, t(`reports_${key}`)),
    h('select', { id: `report-${key}`, onchange: (e) => { cur.p[key] = e.target.value; changed(); } },
      h('option', { value: '' }, all), options.map(([v, text]) => h('option', { value: String(v) }, text)),
      none ? h('option', { value: '0' }, none) : null));
  const knownTags = [...new Set(state.tickets.flatMap((x) => x.tags || []))].sort();
  const tag = h('input', { type: 'search', id: 'report-tag', list: 'report-tags', placeholder: t('reports_any_tag'), autocomplete: 'off',
    oninput: (e) => { cur.p.tag = e.target.value.trim(); changed(); } });
  const date = (which) => h('input', { type: 'date', id: `report-${which}`, 'aria-label': t(`reports_${which}`),
    onchange: (e) => { cur.p[which] = e.target.value; if (cur.p.from && cur.p.to) changed(); } });
  main.replaceChildren(h('div', { class: 'reports', id: 'reports' },
    h('header', { class: 'reports-head' },
      h('h1', {}, t('nav_reports')),
      h('div', { class: 'seg', role: 'group', 'aria-label': t('reports_range') }, ranges.map((r) =>
        h('button', { type: 'button', dataset: { range: r }, onclick: () => setRange(r) }, t(`reports_range_${r}`)))),
      h('span', { class: 'custom-range', id: 'report-custom' }, date('from'), h('span', { class: 'muted' }, '–'), date('to')),
      h('label', { class: 'field check report-compare' }, h('input', { type: 'checkbox', id: 'report-compare',
        onchange: (e) => { cur.p.compare = e.target.checked; changed(); } }), h('span', {}, t('reports_compare')))),
    h('div', { class: 'reports-filters', role: 'group', 'aria-label': t('reports_filters') },
      state.stores.length ? select('store', t('reports_all_stores'), state.stores.map((s) => [s.id, s.name]), t('reports_no_store')) : null,
      select('channel', t('reports_all_channels'), channels.map((c) => [c, t(`channel_${c}`)])),
      state.teams.length ? select('team', t('reports_all_teams'), state.teams.map((x) => [x.id, x.name]), t('reports_no_team')) : null,
      select('agent', t('reports_all_agents'), state.agents.map((a) => [a.id, a.name]), t('reports_unassigned')),
      h('label', { class: 'report-filter' }, h('span', {}, t('reports_tag')), tag, h('datalist', { id: 'report-tags' }, knownTags.map((x) => h('option', { value: x })))),
      h('button', { type: 'button', class: 'btn small', id: 'report-clear', onclick: () => {
        for (const k of filterKeys) cur.p[k] = '';
        changed();
      } }, t('reports_clear')),
      zonePicker()),
    h('nav', { class: 'reports-tabs', role: 'tablist', 'aria-label': t('nav_reports'), onkeydown: tabKeys },
      tabs.map((x) => h('a', { role: 'tab', id: `report-tab-${x}`, dataset: { tab: x } }, t(`reports_tab_${x}`)))),
    h('p', { class: 'report-range muted', id: 'report-range', 'aria-live': 'polite' }),
    h('div', { class: 'report-body', id: 'report-body', role: 'tabpanel' }, skeleton())));
}

// zonePicker is the time zone the report's days are counted in: empty for
// the store's (what the API picks: the filtered store's, the only store's,
// else UTC), or any IANA name, typed or picked from the stores' zones, the
// agent's, UTC and the rest the browser knows.
function zonePicker() {
  const mine = state.me?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  const named = new Map();
  for (const s of state.stores) if (s.timezone) named.set(s.timezone, [...(named.get(s.timezone) || []), s.name]);
  const options = [...named].map(([z, names]) => [z, names.join(', ')]);
  if (mine && !named.has(mine)) options.push([mine, t('reports_tz_yours')]);
  if (!named.has('UTC') && mine !== 'UTC') options.push(['UTC', '']);
  const known = new Set(options.map(([z]) => z));
  for (const z of Intl.supportedValuesOf?.('timeZone') || []) if (!known.has(z)) options.push([z, '']);
  const all = new Set(options.map(([z]) => z));
  // A name picked from the list (or cleared) counts at once; one typed
  // counts on Enter or on leaving the field, so a half-typed one is not asked for.
  const apply = (v) => { if (v !== cur.p.tz) { cur.p.tz = v; changed(); } };
  const input = h('input', { type: 'search', id: 'report-tz', list: 'report-tzs', autocomplete: 'off', spellcheck: 'false',
    placeholder: t('reports_tz_store'), title: t('reports_tz_help'),
    oninput: (e) => { const v = e.target.value.trim(); if (v === '' || all.has(v)) apply(v); },
    onchange: (e) => apply(e.target.value.trim()),
    onkeydown: (e) => { if (e.key === 'Escape' && e.target.value !== cur.p.tz) { e.stopPropagation(); e.target.value = cur.p.tz; } } });
  return h('label', { class: 'report-filter report-tz' }, h('span', {}, t('reports_tz')), input,
    h('datalist', { id: 'report-tzs' }, options.map(([z, note]) => h('option', { value: z, label: note || null }))));
}

function skeleton() {
  return h('div', { class: 'report-cards' }, Array.from({ length: 5 }, () => h('div', { class: 'report-card skeleton' })));
}

// sync puts the parameters into the controls and the address.
function sync() {
  const p = cur.p;
  for (const b of document.querySelectorAll('.reports .seg button')) b.setAttribute('aria-pressed', String(b.dataset.range === p.range));
  $('#report-custom').hidden = p.range !== 'custom';
  $('#report-from').value = p.from;
  $('#report-to').value = p.to;
  $('#report-compare').checked = p.compare;
  for (const k of filterKeys) {
    const el = $(`#report-${k}`);
    if (!el) continue;
    if (el.tagName === 'SELECT' && p[k] !== '' && !el.querySelector(`option[value="${CSS.escape(p[k])}"]`)) {
      el.append(h('option', { value: p[k] }, `#${p[k]}`)); // a store or agent this page does not know (any more)
    }
    if (el !== document.activeElement) el.value = p[k];
  }
  $('#report-clear').hidden = filterKeys.every((k) => p[k] === '');
  if ($('#report-tz') !== document.activeElement) $('#report-tz').value = p.tz;
  for (const a of document.querySelectorAll('.reports-tabs [role=tab]')) {
    const on = a.dataset.tab === cur.tab;
    a.href = href(a.dataset.tab, p);
    a.setAttribute('aria-selected', String(on));
    a.tabIndex = on ? 0 : -1;
    // A phone shows a few tabs at a time: the chosen one is brought in sight
    // (sideways only, the page stays where the agent scrolled it).
    const bar = a.parentElement;
    if (on && bar.scrollWidth > bar.clientWidth) {
      const x = a.getBoundingClientRect().left - bar.getBoundingClientRect().left;
      if (x < 0 || x + a.offsetWidth > bar.clientWidth) bar.scrollLeft += x - 12;
    }
  }
  const want = href(cur.tab, p);
  if (location.hash !== want) history.replaceState(null, '', want);
  localStorage.setItem('onedesk.reports', want);
}

// changed follows a change of the controls: the address at once, the
// numbers once the changes pause.
function changed(now) {
  sync();
  if (now) load(); else loadSoon();
}
const loadSoon = debounce(() => load(), 300);

function setRange(r) {
  if (r === 'custom' && !cur.p.from && cur.data) Object.assign(cur.p, { from: cur.data.range.from, to: cur.data.range.to });
  cur.p.range = r;
  changed(r !== 'custom');
  if (r === 'custom') $('#report-from').focus();
}

// tabKeys moves between the tabs with the arrow keys, Home and End.
function tabKeys(e) {
  const i = tabs.indexOf(cur.tab);
  const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  const next = tabs[(to + tabs.length) % tabs.length];
  location.hash = href(next, cur.p);
  $(`#report-tab-${next}`).focus();
}

// load asks for the report. The numbers on screen stay until the answer
// is in; only a slow answer dims them, so a quick one does not flash.
async function load({ quiet } = {}) {
  const seq = ++cur.seq;
  const { tab, p } = cur;
  const body = $('#report-body');
  if (!body) return;
  const slow = quiet ? 0 : setTimeout(() => body.classList.add('loading'), 180);
  body.setAttribute('aria-busy', 'true');
  for (const el of document.querySelectorAll('.reports [aria-invalid]')) el.removeAttribute('aria-invalid');
  try {
    const d = await get(`/api/reports/${tab}?${query(p, tab)}`);
    if (seq !== cur.seq || !body.isConnected) return;
    cur.data = d;
    draw(body, d);
  } catch (err) {
    if (seq !== cur.seq || !body.isConnected) return;
    if (quiet) return;
    const field = err.field && $(`#report-${err.field}`);
    field?.setAttribute('aria-invalid', 'true');
    $('#report-range').replaceChildren(); // it told of the report no longer shown
    body.replaceChildren(h('p', { class: 'error report-error', role: 'alert' }, errorText(err)));
  } finally {
    clearTimeout(slow);
    if (seq === cur.seq) {
      body.classList.remove('loading');
      body.removeAttribute('aria-busy');
    }
  }
}

const resize = new ResizeObserver((entries) => {
  for (const { target, contentRect } of entries) {
    const w = Math.floor(contentRect.width);
    if (w > 0 && w !== target.drawnAt) {
      target.drawnAt = w;
      target.replaceChildren(target.draw(w));
    }
  }
});

function draw(body, d) {
  resize.disconnect();
  const r = d.range;
  $('#report-range').replaceChildren(dayRange(r.from, r.to), ' · ', h('span', { id: 'report-zone' }, t('reports_tz_used', { tz: r.tz })),
    d.previous && r.previous_from ? ` · ${t('reports_compared_with', { range: dayRange(r.previous_from, r.previous_to) })}` : '');
  // Empty, the picker says which zone "the store's" turned out to be.
  $('#report-tz').placeholder = cur.p.tz ? t('reports_tz_store') : t('reports_tz_default', { tz: r.tz });
  const spec = reports[cur.tab];
  // Still counting an old history: say so, and ask again until it is done.
  if (d.ready === false) refreshReports();
  body.replaceChildren(...[
    d.ready === false ? h('p', { class: 'report-notice', role: 'status', id: 'report-not-ready' }, icon('clock'),
      h('span', {}, t('reports_not_ready'), d.counted_pct != null ? ` ${t('reports_counted_pct', { pct: d.counted_pct })}` : '')) : null,
    h('div', { class: 'report-cards' }, spec.cards.map(([k, subs]) => card(d, k, subs))),
    ...spec.sections(d)].filter(Boolean));
  for (const box of body.querySelectorAll('.chart-box')) resize.observe(box);
}

// ---- Number cards

function card(d, k, subs = []) {
  const v = d.totals?.[k];
  return h('div', { class: 'report-card', dataset: { metric: k } },
    h('span', { class: 'label' }, label(k)),
    h('strong', { class: 'value' }, fmt(k, v)),
    subs.map((s) => h('span', { class: 'sub' }, typeof s === 'function' ? s(d) : t('reports_p90', { value: fmt(s, d.totals?.[s]) }))),
    d.previous?.[k] != null && typeof v !== 'object' ? delta(d, k, v, d.previous[k]) : null);
}

// delta is the change against the previous period: ▲/▼ and how much, in
// green when it went the good way, red when not.
function delta(d, k, v, prev) {
  const title = t('reports_previous', { range: dayRange(d.range.previous_from, d.range.previous_to), value: fmt(k, prev) });
  const vs = h('span', { class: 'vs' }, t('reports_vs', { value: fmt(k, prev) }));
  if (v == null) return h('span', { class: 'delta', title }, vs);
  const rate = kindOf(k) === 'rate';
  const diff = rate ? v - prev : prev ? (v - prev) / prev : v;
  if (Math.abs(diff) < (rate ? 0.005 : 0.0005)) return h('span', { class: 'delta flat', title }, `= ${t('reports_no_change')} `, vs);
  const up = diff > 0;
  const tone = better(k) === 0 ? 'flat' : up === (better(k) > 0) ? 'good' : 'bad';
  const amount = rate ? t('reports_points', { n: formatNumber(Math.round(Math.abs(diff) * 100)) }) : prev ? percent(Math.abs(diff), Math.abs(diff) < 0.1 ? 1 : 0) : '';
  return h('span', { class: `delta ${tone}`, title }, h('span', { class: 'arrow', 'aria-label': up ? t('reports_up') : t('reports_down') }, up ? '▲' : '▼'),
    amount ? ` ${amount} ` : ' ', vs);
}

// ---- Sections: charts above, their table below

function section(d, name, { title, tools, charts }) {
  const tb = table(d, name);
  const key = `${cur.tab}:${name}`;
  return h('section', { class: 'card report-section', dataset: { table: name } },
    h('header', { class: 'report-section-head' }, h('h2', {}, title), tools,
      tb ? h('a', { class: 'btn small csv', href: `/api/reports/${cur.tab}?${query(cur.p, cur.tab, { format: 'csv', table: name })}`,
        download: `onedesk-${cur.tab}-${name}-${d.range.from}-${d.range.to}.csv` }, icon('download'), t('reports_csv')) : null),
    h('div', { class: `report-charts n${charts.length}` }, charts),
    tb ? h('details', { class: 'report-table', open: openTables.has(key), ontoggle: (e) => { if (e.target.open) openTables.add(key); else openTables.delete(key); } },
      h('summary', {}, t('reports_show_table'), h('span', { class: 'muted' }, ` (${formatNumber((tb.rows || []).length)})`)),
      h('div', { class: 'table-scroll' }, tableView(tb))) : null);
}

function tableView(tb) {
  const keyed = tb.columns[1] === 'name';
  const cols = tb.columns.filter((c, i) => !(keyed && i === 1));
  const head = (c) => (['day', 'weekday', 'hour'].includes(c) ? t(`reports_col_${c}`) : byKeys.includes(c) ? t(`reports_${c}`) : label(c));
  const cell = (c, r, i) => {
    if (i === 0 && (keyed || c === 'channel')) return h('th', { scope: 'row' }, keyLabel(tb, r));
    if (c === 'day') return h('th', { scope: 'row' }, h('time', { datetime: r.day }, day(r.day, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' })));
    if (c === 'weekday') return h('th', { scope: 'row' }, weekday(r.weekday, 'long'));
    if (c === 'hour') return h('td', { class: 'num' }, `${String(r.hour).padStart(2, '0')}:00`);
    if (c === 'currency') return h('td', {}, r.currency || '—');
    if (c === 'revenue' && r.currency) return h('td', { class: 'num' }, money(r.revenue, r.currency));
    if (typeof r[c] === 'string') return h('td', {}, r[c]); // a store's name, a page pattern
    if (typeof r[c] === 'boolean') return h('td', {}, r[c] ? '✓' : '—');
    return h('td', { class: 'num' }, fmt(c, r[c]));
  };
  return h('table', { class: 'report-data' },
    h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { scope: 'col', class: i && c !== 'weekday' ? 'num' : null }, head(c))))),
    h('tbody', {}, records(tb).map((r) => h('tr', {}, cols.map((c, i) => cell(c, r, i))))));
}

// ---- Charts, drawn as SVG to the width they get

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, v);
  for (const c of children) if (c != null) el.append(c);
  return el;
}
const tip = (text) => s('title', {}, text);

function figure(title, legend, box) {
  return h('figure', { class: 'report-chart' },
    title || legend ? h('figcaption', {}, title ? h('span', { class: 'chart-title' }, title) : null,
      legend ? h('span', { class: 'legend' }, legend.map(([text, color]) => h('span', {}, h('i', { class: color }), text))) : null) : null,
    box);
}

function chartBox(draw, height) {
  const box = h('div', { class: 'chart-box' });
  box.style.minHeight = `${height}px`;
  box.draw = draw;
  return box;
}

// measured says whether a value counts as data: a count above zero, or
// any time or rate that was measured (a first response in 0 s is one).
const measured = (k, v) => (kindOf(k) === 'count' ? v > 0 : v != null);

const empty = (key = 'reports_empty') => h('div', { class: 'chart-empty' }, icon('chart'), t(key));

// ticks are the values of a value axis from 0 past max: round counts,
// durations in the steps clocks have, rates in quarters.
function ticks(max, kind) {
  if (kind === 'rate') return [0, 0.25, 0.5, 0.75, 1];
  if (!(max > 0)) max = kind === 'duration' ? 3600 : 4;
  const target = max / 4;
  let step;
  if (kind === 'duration') {
    step = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].find((x) => x >= target) ?? Math.ceil(target / 604800) * 604800;
  } else {
    const p = 10 ** Math.floor(Math.log10(target));
    step = Math.max(1, [1, 2, 5, 10].map((m) => m * p).find((x) => x >= target));
  }
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, i) => i * step);
}

// timeChart draws series of a table by day: bars for a couple of weeks,
// lines (or an area) for longer.
function timeChart(d, name, title, keys, { line, area, color = 0, none } = {}) {
  const tb = table(d, name);
  const rows = tb ? records(tb) : [];
  const series = keys.map((k, i) => ({ k, color: colors[(color + i) % colors.length], values: rows.map((r) => r[k] ?? null) }));
  const kind = kindOf(keys[0]);
  const hasData = series.some((x) => x.values.some((v) => measured(x.k, v)));
  const height = 220;
  const legend = keys.length > 1 ? series.map((x) => [label(x.k), x.color]) : null;
  return figure(title, legend, hasData ? chartBox((w) => {
    const L = kind === 'duration' ? 58 : 40, R = 10, T = 10, B = 26, H = height;
    const yt = ticks(Math.max(0, ...series.flatMap((x) => x.values).filter((v) => v != null)), kind);
    const top = yt.at(-1);
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const n = rows.length, band = (w - L - R) / n;
    const x = (i) => L + band * (i + 0.5);
    const bars = !line && !area && n <= 16;
    const svg = s('svg', { class: 'chart', width: w, height: H, viewBox: `0 0 ${w} ${H}`, role: 'img', 'aria-label': title || label(keys[0]) });
    for (const v of yt) {
      svg.append(s('line', { class: v ? 'grid' : 'axis', x1: L, x2: w - R, y1: y(v), y2: y(v) }),
        s('text', { class: 'tick', x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(keys[0], v)));
    }
    const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((w - L - R) / 58))));
    rows.forEach((r, i) => {
      if ((n - 1 - i) % every === 0) svg.append(s('text', { class: 'tick', x: x(i), y: H - 8, 'text-anchor': 'middle' }, day(r.day)));
    });
    if (bars) {
      const gw = Math.min(band * 0.74, 26 * series.length), bw = gw / series.length;
      series.forEach((se, j) => se.values.forEach((v, i) => {
        if (!v) return;
        svg.append(s('rect', { x: x(i) - gw / 2 + j * bw + 0.5, y: y(v), width: Math.max(1, bw - 1), height: y(0) - y(v), rx: 2, class: `bar ${se.color}` }));
      }));
    } else {
      for (const se of [...series].reverse()) { // the first on top
        const pts = se.values.map((v, i) => (v == null ? null : [x(i), y(v)]));
        // A gap where nothing was measured (a day without an answer).
        let dl = '', run = [];
        const flush = () => {
          if (run.length) dl += `M${run.map((p) => p.map((c) => c.toFixed(1)).join(',')).join('L')}`;
          if (area && run.length > 1) svg.append(s('path', { class: `area ${se.color}`, d: `M${run[0][0]},${y(0)}L${run.map((p) => p.join(',')).join('L')}L${run.at(-1)[0]},${y(0)}Z` }));
          run = [];
        };
        pts.forEach((p) => { if (p) run.push(p); else flush(); });
        flush();
        svg.append(s('path', { class: `line ${se.color}`, d: dl }));
        if (n <= 45) pts.forEach((p) => p && svg.append(s('circle', { class: `dot ${se.color}`, cx: p[0], cy: p[1], r: 2.5 })));
      }
    }
    // One hover band per day, naming every series' value.
    rows.forEach((r, i) => svg.append(s('rect', { class: 'hit', x: L + band * i, y: T, width: band, height: H - T - B },
      tip([day(r.day, { weekday: 'long', day: 'numeric', month: 'long' }), ...series.map((se) => `${label(se.k)}: ${fmt(se.k, se.values[i])}`)].join('\n')))));
    return svg;
  }, height) : empty(none));
}

// barsChart draws a table keyed by channel, store, team or agent as
// horizontal bars, the longest first (the table has every row).
function barsChart(d, name, title, keys, names, color = 0, none) {
  const tb = table(d, name);
  const all = tb ? records(tb) : [];
  const val = (r) => r[keys[0]] ?? -1;
  const rows = all.filter((r) => keys.some((k) => measured(k, r[k]))).sort((a, b) => val(b) - val(a));
  const shown = rows.slice(0, 12);
  const series = keys.map((k, i) => ({ k, name: names?.[i] || label(k), color: colors[(color + i) % colors.length] }));
  const kind = kindOf(keys[0]);
  const gap = 10, barH = keys.length > 1 ? 13 : 15, rowH = barH * keys.length + gap + 2;
  const height = shown.length * rowH + 6;
  return figure(title, keys.length > 1 ? series.map((x) => [x.name, x.color]) : null, shown.length ? [chartBox((w) => {
    const L = Math.min(170, Math.max(90, w * 0.28)), R = 70;
    const max = kind === 'rate' ? 1 : Math.max(...shown.flatMap((r) => keys.map((k) => r[k] || 0)));
    const x = (v) => ((w - L - R) * v) / (max || 1);
    const svg = s('svg', { class: 'chart', width: w, height, viewBox: `0 0 ${w} ${height}`, role: 'img', 'aria-label': title || t(`reports_${name}`) });
    shown.forEach((r, i) => {
      const top = 3 + i * rowH;
      const name = keyLabel(tb, r);
      const chars = Math.floor((L - 12) / 6.6);
      const g = s('g', { class: 'bar-row' }, tip([name, ...series.map((se) => `${se.name}: ${fmt(se.k, r[se.k])}`)].join('\n')),
        s('rect', { class: 'hit', x: 0, y: top - gap / 2 + 1, width: w, height: rowH }),
        s('text', { class: 'row-label', x: L - 10, y: top + (barH * keys.length) / 2 + 4, 'text-anchor': 'end' }, name.length > chars ? `${name.slice(0, chars - 1)}…` : name));
      series.forEach((se, j) => {
        const v = r[se.k];
        const by = top + j * barH;
        g.append(s('rect', { class: 'track', x: L, y: by, width: w - L - R, height: barH - 2, rx: 2 }));
        if (v) g.append(s('rect', { x: L, y: by, width: Math.max(2, x(v)), height: barH - 2, rx: 2, class: `bar ${se.color}` }));
        g.append(s('text', { class: 'value', x: L + Math.max(2, x(v || 0)) + 6, y: by + barH / 2 + 3 }, fmt(se.k, v)));
      });
      svg.append(g);
    });
    return svg;
  }, height), rows.length > shown.length ? h('p', { class: 'chart-note muted' }, t('reports_top', { n: shown.length, total: rows.length })) : null] : empty(none));
}

// heatmap draws tickets (or messages) by hour of the week: a row per
// weekday, Monday first, a column per hour, darker where busier.
let heatKey = 'created';
function heatmap(d) {
  const tb = table(d, 'by_hour');
  const rows = tb ? records(tb) : [];
  const grid = Array.from({ length: 7 }, () => Array(24).fill(0));
  const fill = () => {
    for (const row of grid) row.fill(0);
    for (const r of rows) if (r.weekday >= 0 && r.weekday < 7 && r.hour >= 0 && r.hour < 24) grid[r.weekday][r.hour] = r[heatKey] || 0;
  };
  fill();
  const toggle = h('div', { class: 'seg small', role: 'group', 'aria-label': t('reports_chart_heatmap') }, ['created', 'messages_in'].map((k) =>
    h('button', { type: 'button', 'aria-pressed': String(k === heatKey), onclick: () => {
      heatKey = k;
      for (const b of toggle.children) b.setAttribute('aria-pressed', String(b === toggle.children[['created', 'messages_in'].indexOf(k)]));
      fill();
      box.drawnAt = 0;
      box.replaceChildren(box.draw(box.clientWidth));
      scale.replaceChildren(...scaleParts());
    } }, label(k))));
  const max = () => Math.max(0, ...grid.flat());
  const shade = (v) => (v ? 0.14 + (0.86 * v) / max() : 0);
  const scaleParts = () => [t('reports_less'), ...[0, 0.25, 0.5, 0.75, 1].map((f) => h('i', { class: `heat-${f * 4}` })), t('reports_more'),
    h('span', { class: 'muted' }, ` · ${t('reports_heat_max', { n: formatNumber(max()) })}`)];
  const scale = h('span', { class: 'heat-scale' }, scaleParts());
  const box = chartBox((w) => {
    const L = 44, T = 18, R = 2;
    const cw = (w - L - R) / 24, ch = Math.max(18, Math.min(30, cw * 0.78)), H = T + 7 * ch;
    const svg = s('svg', { class: 'chart heatmap', width: w, height: H, viewBox: `0 0 ${w} ${H}`, role: 'img', 'aria-label': t('reports_chart_heatmap') });
    for (let hr = 0; hr < 24; hr += cw < 22 ? 3 : 2) svg.append(s('text', { class: 'tick', x: L + hr * cw + cw / 2, y: 12, 'text-anchor': 'middle' }, String(hr).padStart(2, '0')));
    const m = max();
    grid.forEach((row, wd) => {
      svg.append(s('text', { class: 'tick', x: L - 8, y: T + wd * ch + ch / 2 + 4, 'text-anchor': 'end' }, weekday(wd)));
      row.forEach((v, hr) => svg.append(s('rect', { class: v ? 'cell' : 'cell zero', x: L + hr * cw + 1, y: T + wd * ch + 1, width: cw - 2, height: ch - 2, rx: 3,
        'fill-opacity': v ? shade(v).toFixed(3) : null },
      tip(`${weekday(wd, 'long')} ${String(hr).padStart(2, '0')}:00–${String(hr + 1).padStart(2, '0')}:00\n${label(heatKey)}: ${formatNumber(v)}${m ? ` (${percent(v / grid.flat().reduce((a, b) => a + b, 0))})` : ''}`))));
    });
    return svg;
  }, 200);
  const any = rows.some((r) => r.created || r.messages_in);
  return h('figure', { class: 'report-chart' }, h('figcaption', {}, toggle, any ? scale : null), any ? box : empty());
}
