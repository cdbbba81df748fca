// Two-factor sign-in: the setup (QR code, key, a code to confirm), the
// recovery codes, and the card under My settings that turns it on or off.
import { get, post } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { errorText, toast } from './state.js';

// twoFactorSetup fills box with the setup steps; onDone runs once the
// agent has seen their recovery codes.
export async function twoFactorSetup(box, onDone) {
  const setup = await post('/api/me/two-factor/setup');
  const err = h('p', { class: 'error', role: 'alert' });
  const code = h('input', { name: 'code', id: 'twofa-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 7, required: true });
  const form = h('form', { class: 'twofa-confirm', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, t('twofa_confirm_hint')), code),
    h('button', { type: 'submit', class: 'btn primary', id: 'twofa-enable' }, t('twofa_confirm')), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      const res = await post('/api/me/two-factor/enable', { code: code.value });
      recoveryCodes(box, res.recovery_codes, onDone);
    } catch (ex) { err.textContent = errorText(ex); code.select(); }
  });
  box.replaceChildren(
    h('p', {}, t('twofa_scan')),
    h('div', { class: 'twofa-setup' },
      h('img', { class: 'twofa-qr', src: setup.qr, width: 200, height: 200, alt: t('twofa_qr_alt') }),
      h('div', { class: 'twofa-key' }, h('span', { class: 'muted' }, t('twofa_key')),
        h('p', { class: 'secret', id: 'twofa-secret' }, setup.secret.replace(/(.{4})/g, '$1 ').trim()))),
    form);
  code.focus();
}

// recoveryCodes shows the codes once, with a way to keep them.
function recoveryCodes(box, codes, onDone) {
  const text = codes.join('\n');
  box.replaceChildren(
    h('h3', { class: 'form-heading' }, t('twofa_codes_title')),
    h('p', { class: 'muted' }, t('twofa_codes_hint')),
    h('ol', { class: 'recovery-codes', id: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'bulk' },
      h('button', { type: 'button', class: 'btn small', onclick: async () => {
        try { await navigator.clipboard.writeText(text); toast(t('copied')); } catch { toast(t('twofa_copy_failed'), true); }
      } }, t('copy')),
      h('a', { class: 'btn small', download: 'onedesk-recovery-codes.txt', href: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}` }, t('twofa_download')),
      h('button', { type: 'button', class: 'btn primary', id: 'twofa-done', onclick: onDone }, t('twofa_codes_done'))));
}

// twoFactorCard is My settings' card: the state, and the switch.
export async function twoFactorCard() {
  const card = h('div', { class: 'card', id: 'twofa-card' });
  const draw = async () => {
    const st = await get('/api/me/two-factor');
    const body = h('div');
    card.replaceChildren(h('h2', {}, t('twofa_title')),
      h('p', { class: st.enabled ? '' : 'muted', id: 'twofa-state' }, st.enabled ? t('twofa_on') : t('twofa_off')),
      st.enabled ? h('p', { class: 'muted' }, t('twofa_recovery_left', { n: st.recovery_left })) : null,
      st.required ? h('p', { class: 'muted' }, t('twofa_required_note')) : null,
      body);
    if (!st.enabled) {
      body.append(h('button', { class: 'btn primary', id: 'twofa-start', onclick: async (e) => {
        e.target.disabled = true;
        try { await twoFactorSetup(body, draw); } catch (ex) { e.target.disabled = false; toast(errorText(ex), true); }
      } }, t('twofa_turn_on')));
      return;
    }
    // New recovery codes, or off: both take the password and a code.
    const err = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'inline', novalidate: true },
      h('label', { class: 'field' }, h('span', {}, t('password_current')), h('input', { name: 'password', type: 'password', autocomplete: 'current-password' })),
      h('label', { class: 'field' }, h('span', {}, t('code_label')), h('input', { name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code' })),
      h('div', { class: 'bulk' },
        h('button', { type: 'submit', class: 'btn', value: 'codes' }, t('twofa_new_codes')),
        st.required ? null : h('button', { type: 'submit', class: 'btn danger', value: 'off' }, t('twofa_turn_off'))),
      err);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.textContent = '';
      const v = Object.fromEntries(new FormData(form));
      try {
        if (e.submitter?.value === 'off') {
          await post('/api/me/two-factor/disable', v);
          toast(t('saved'));
          draw();
        } else {
          const res = await post('/api/me/two-factor/recovery-codes', v);
          recoveryCodes(body, res.recovery_codes, draw);
        }
      } catch (ex) {
        err.textContent = errorText(ex);
        if (ex.field) form.querySelector(`[name="${ex.field}"]`)?.focus();
      }
    });
    body.append(h('p', { class: 'muted' }, t('twofa_confirm_with')), form);
  };
  await draw();
  return card;
}
