// Message catalogs: every string the app shows comes from i18n/<lang>.json,
// falling back to English key by key.

export const languages = { en: 'English', pt: 'Português', tr: 'Türkçe', cs: 'Čeština', ru: 'Русский' };
let catalog = {};
let fallback = {};
let lang = 'en';
let zone = 'UTC';

async function load(code) {
  const res = await fetch(`/app/i18n/${code}.json`);
  if (!res.ok) throw new Error(`catalog ${code}`);
  return res.json();
}

// setLocale loads the catalog for code (falling back to English) and sets
// the zone dates are shown in.
export async function setLocale(code, timeZone) {
  if (!fallback.app_name) fallback = await load('en');
  lang = languages[code] ? code : 'en';
  catalog = lang === 'en' ? fallback : await load(lang).catch(() => fallback);
  zone = timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  document.documentElement.lang = lang;
}

// locale is the language the app speaks now; api.js sends it with each
// call so that the server's sentences come in it too.
export const locale = () => lang;

// translator is t for another language (a store's, say), with the same
// fallback to English; the agent's own language is left as it is.
export async function translator(code) {
  if (!fallback.app_name) fallback = await load('en');
  const other = languages[code] && code !== 'en' ? await load(code).catch(() => fallback) : fallback;
  return (key, vars = {}) => lookup(other, languages[code] ? code : 'en', key, vars);
}

// browserLanguage picks a shipped language from the browser's list.
export function browserLanguage() {
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const code = l.slice(0, 2).toLowerCase();
    if (languages[code]) return code;
  }
  return 'en';
}

// t looks up a key and fills {name} placeholders. Plural forms are
// objects keyed by Intl.PluralRules categories: {"one": ..., "other": ...}.
export function t(key, vars = {}) { return lookup(catalog, lang, key, vars); }

function lookup(cat, code, key, vars) {
  let s = cat[key] ?? fallback[key] ?? key;
  if (typeof s === 'object') {
    const form = new Intl.PluralRules(code).select(vars.n ?? 0);
    s = s[form] ?? s.other;
  }
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function formatDateTime(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }).format(new Date(iso));
}

// formatTimeNear is the time of day of iso when it falls on the day of ref
// (in the agent's zone), else its date and time.
export function formatTimeNear(iso, ref) {
  const day = (x) => new Intl.DateTimeFormat('en-CA', { dateStyle: 'short', timeZone: zone }).format(new Date(x));
  if (day(iso) !== day(ref)) return formatDateTime(iso);
  return new Intl.DateTimeFormat(lang, { timeStyle: 'short', timeZone: zone }).format(new Date(iso));
}

export function formatNumber(n) { return new Intl.NumberFormat(lang).format(n); }

// age is a short relative time: "5m", "3h", "2d", then a date.
export function age(iso, now = Date.now()) {
  const s = Math.max(0, (now - new Date(iso).getTime()) / 1000);
  const unit = (n, u) => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(Math.floor(n));
  if (s < 60) return t('just_now');
  if (s < 3600) return unit(s / 60, 'minute');
  if (s < 86400) return unit(s / 3600, 'hour');
  if (s < 86400 * 30) return unit(s / 86400, 'day');
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: zone }).format(new Date(iso));
}
