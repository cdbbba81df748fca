// Customers → Import CSV: a file chosen, a preview of its first rows with
// what each column is (guessed from the header, changeable), then the
// import and its summary. Rows are matched to customers by address or
// number on the server: one customer, one record. Loaded when opened.
import { post } from './api.js';
import { h } from './dom.js';
import { formatNumber, t } from './i18n.js';
import { errorText } from './state.js';

const uses = ['skip', 'name', 'email', 'phone', 'notes'];

// readText reads a file as text: UTF-8 (a byte order mark dropped), else
// Windows-1252, what older Excel saves.
async function readText(file) {
  const bytes = await file.arrayBuffer();
  try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { return new TextDecoder('windows-1252').decode(bytes); }
}

export function csvImportDialog(onDone) {
  document.querySelector('.overlay')?.remove();
  let csv = '';
  let preview = null;
  const err = h('p', { class: 'error', role: 'alert' });
  const body = h('div', { class: 'csv-body' });
  const close = () => overlay.remove();
  const file = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv,text/plain', 'aria-describedby': 'csv-hint' });
  const go = h('button', { type: 'submit', class: 'btn primary', id: 'csv-go', disabled: true }, t('csv_import_go'));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: close }, t('cancel'));

  file.addEventListener('change', async () => {
    err.textContent = '';
    body.replaceChildren();
    go.disabled = true;
    const f = file.files[0];
    if (!f) return;
    try {
      csv = await readText(f);
      preview = await post('/api/customers/import/preview', { csv });
      body.replaceChildren(mappingTable(preview));
      go.disabled = false;
      go.textContent = t('csv_import_n', { n: preview.total, count: formatNumber(preview.total) });
    } catch (ex) { err.textContent = errorText(ex); }
  });

  const form = h('form', {
    class: 'dialog csv-import', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'csv-title', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (!preview) return;
      err.textContent = '';
      go.disabled = true;
      go.textContent = t('csv_importing');
      try {
        const sum = await post('/api/customers/import', { csv, mapping: chosenMapping(body) });
        body.replaceChildren(summary(sum));
        file.disabled = true;
        go.remove();
        cancel.textContent = t('close');
        cancel.focus();
        onDone?.();
      } catch (ex) {
        err.textContent = errorText(ex);
        go.disabled = false;
        go.textContent = t('csv_import_n', { n: preview.total, count: formatNumber(preview.total) });
      }
    },
  },
  h('h2', { id: 'csv-title' }, t('csv_title')),
  h('p', { class: 'muted', id: 'csv-hint' }, t('csv_hint')),
  h('label', { class: 'csv-file' }, h('span', {}, t('csv_file')), file),
  body, err,
  h('div', { class: 'buttons' }, cancel, go));
  const overlay = h('div', {
    class: 'overlay', id: 'csv-dialog', onclick: (e) => { if (e.target === overlay) close(); },
    onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); close(); } },
  }, form);
  document.body.append(overlay);
  file.focus();
}

// mappingTable shows the first rows under their headers, each column with
// a choice of what it holds.
function mappingTable(p) {
  const m = p.mapping;
  const useOf = (i) => (m.name === i ? 'name' : m.email === i ? 'email' : m.phone === i ? 'phone' : m.notes.includes(i) ? 'notes' : 'skip');
  const choice = (col, i) => h('select', { 'aria-label': t('csv_column_use', { column: col || `#${i + 1}` }), dataset: { col: i } },
    uses.map((u) => h('option', { value: u, selected: useOf(i) === u }, t(`csv_use_${u}`))));
  return h('div', {},
    h('p', { class: 'muted', id: 'csv-count' }, t('csv_rows', { n: p.total, count: formatNumber(p.total) })),
    h('div', { class: 'csv-preview' },
      h('table', {},
        h('thead', {},
          h('tr', {}, p.header.map((col) => h('th', { scope: 'col' }, col))),
          h('tr', { class: 'csv-map' }, p.header.map((col, i) => h('th', {}, choice(col, i))))),
        h('tbody', {}, p.rows.map((row) => h('tr', {}, p.header.map((_, i) => h('td', {}, row[i] ?? ''))))))));
}

// chosenMapping reads the choices back as the API's mapping; a second
// column chosen as the name (or email, phone) goes to the notes.
function chosenMapping(body) {
  const m = { name: null, email: null, phone: null, notes: [] };
  for (const sel of body.querySelectorAll('select[data-col]')) {
    const i = Number(sel.dataset.col);
    const use = sel.value;
    if (use === 'notes' || (use !== 'skip' && m[use] !== null)) m.notes.push(i);
    else if (use !== 'skip') m[use] = i;
  }
  return m;
}

function summary(sum) {
  return h('div', { class: 'csv-summary', id: 'csv-summary', role: 'status' },
    h('p', {}, t('csv_done', { created: formatNumber(sum.created), updated: formatNumber(sum.updated), unchanged: formatNumber(sum.unchanged) })),
    sum.skipped.length ? [
      h('h3', {}, t('csv_skipped', { n: sum.skipped.length, count: formatNumber(sum.skipped.length) })),
      h('ul', { class: 'csv-skipped' }, sum.skipped.map((s) => h('li', {}, t('csv_row', { row: s.row, reason: s.reason })))),
    ] : null);
}
