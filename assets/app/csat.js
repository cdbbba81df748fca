// Satisfaction (CSAT): the rating badge and events of a ticket, a store's
// survey settings, and the CSAT report's tab (reports.js draws it).
import { api, get } from './api.js';
import { h } from './dom.js';
import { languages, t } from './i18n.js';
import { EV, errorText, toast } from './state.js';

// ratingText shows a rating as the customer gave it: a thumb, or n/5.
export function ratingText(rating, scale) {
  if (scale === 'thumbs') return rating >= 4 ? '👍' : '👎';
  return `★ ${rating}/5`;
}

// lastRating is the ticket's newest rating event (null: never rated).
function lastRating(d) {
  const rated = (d.events || []).filter((e) => e.type === EV.Rated);
  if (!rated.length) return null;
  const last = rated[rated.length - 1];
  // A comment comes as a second event with the same rating.
  const comment = [...rated].reverse().find((e) => e.data.survey_id === last.data.survey_id && e.data.comment)?.data.comment || '';
  return { ...last.data, comment };
}

// csatBadge is the ticket's rating beside its status: green when
// satisfied (4 or 5), red when not; the comment is its title.
export function csatBadge(d) {
  const r = lastRating(d);
  if (!r) return null;
  const good = r.rating >= 4;
  return h('span', { class: `pill csat ${good ? 'good' : 'bad'}`, id: 'csat-badge', dataset: { rating: r.rating },
    title: r.comment ? `${t('csat_rated')}: “${r.comment}”` : t('csat_rated') }, ratingText(r.rating, r.scale));
}

// csatEvent is the line of a survey event in the thread (null: not one).
export function csatEvent(e) {
  if (e.type === EV.SurveySent) {
    if (e.data.skipped) return t(`csat_ev_skipped_${e.data.skipped}`);
    return t('csat_ev_sent', { via: t(`channel_${e.data.via}`) });
  }
  if (e.type === EV.Rated) {
    const rating = ratingText(e.data.rating, e.data.scale);
    return e.data.comment ? t('csat_ev_commented', { rating }) : t('csat_ev_rated', { rating, via: t(`channel_${e.data.via}`) });
  }
  return null;
}

// csatSettings edits a store's survey: on or off, the delay, the scale
// and the question in each language (empty: the catalog's, shown).
export function csatSettings(s) {
  const box = h('section', { class: 'csat-settings', id: `csat-settings-${s.id}` }, h('h3', { class: 'form-heading' }, t('csat_heading')));
  get(`/api/stores/${s.id}/csat`).then((c) => {
    const err = h('p', { class: 'error', role: 'alert' });
    const f = h('form', { class: 'inline', novalidate: true },
      h('label', { class: 'field check' }, h('input', { name: 'enabled', type: 'checkbox', checked: c.enabled }), h('span', {}, t('csat_enabled'))),
      h('label', { class: 'field' }, h('span', {}, t('csat_delay')), h('input', { name: 'delay_minutes', type: 'number', min: 0, max: 10080, value: String(c.delay_minutes) })),
      h('label', { class: 'field' }, h('span', {}, t('csat_scale')), h('select', { name: 'scale' },
        ['five', 'thumbs'].map((x) => h('option', { value: x, selected: c.scale === x }, t(`csat_scale_${x}`))))),
      Object.entries(languages).map(([code, name]) => h('label', { class: 'field wide' }, h('span', {}, t('csat_question', { language: name })),
        h('input', { name: `q_${code}`, type: 'text', maxlength: 300, value: c.questions?.[code] || '', placeholder: c.default_questions?.[code] || '' }))),
      h('p', { class: 'muted' }, t('csat_hint')),
      h('button', { type: 'submit', class: 'btn primary' }, t('save')), err);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.textContent = '';
      const v = Object.fromEntries(new FormData(f));
      const questions = Object.fromEntries(Object.keys(languages).map((code) => [code, v[`q_${code}`] || '']));
      try {
        await api('PUT', `/api/stores/${s.id}/csat`, { enabled: v.enabled === 'on', delay_minutes: Number(v.delay_minutes) || 0, scale: v.scale, questions });
        toast(t('saved'));
      } catch (ex) {
        err.textContent = errorText(ex);
        f.querySelector(`[name="${ex.field?.startsWith('questions.') ? `q_${ex.field.split('.')[1]}` : ex.field}"]`)?.focus();
      }
    });
    box.append(f);
  }).catch((ex) => box.append(h('p', { class: 'error' }, errorText(ex))));
  return box;
}

// commentsSection lists the report's comments, newest first.
export function commentsSection(d) {
  const tb = d.tables?.find((x) => x.name === 'comments');
  const rows = (tb?.rows || []).map((r) => Object.fromEntries(tb.columns.map((c, i) => [c, r[i]])));
  return h('section', { class: 'card report-section', dataset: { table: 'comments' } },
    h('header', { class: 'report-section-head' }, h('h2', {}, t('csat_comments'))),
    rows.length ? h('ul', { class: 'csat-comments' }, rows.map((r) => h('li', {},
      h('span', { class: `pill csat ${r.rating >= 4 ? 'good' : 'bad'}` }, ratingText(r.rating, r.scale)), ' ',
      h('a', { href: `#/all/t/${r.ticket}` }, `#${r.ticket}`), ' ',
      h('span', { class: 'muted' }, [r.name, r.at].filter(Boolean).join(' · ')),
      h('blockquote', {}, r.comment))))
      : h('p', { class: 'muted' }, t('csat_no_comments')));
}
