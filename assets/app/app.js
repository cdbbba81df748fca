// A placeholder agent page: first-run setup, login and the latest tickets.
// The full agent app replaces it.
const app = document.getElementById('app');
let csrf = '';

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.status === 204 ? {} : await res.json();
  if (!res.ok) throw Object.assign(new Error(data.error || res.statusText), { status: res.status });
  return data;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function authForm(title, fields, submit) {
  const err = el('p', { class: 'error', role: 'alert' });
  const form = el('form', { class: 'card' }, el('h1', {}, title));
  for (const [name, label, type] of fields) {
    form.append(el('label', {}, label, el('input', { name, type, required: '' })));
  }
  form.append(err, el('button', { type: 'submit' }, title));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const me = await submit(Object.fromEntries(new FormData(form)));
      csrf = me.csrf_token;
      inbox(me.agent);
    } catch (e) { err.textContent = e.message; }
  });
  app.replaceChildren(form);
  form.querySelector('input').focus();
}

async function inbox(agent) {
  const { tickets } = await api('GET', '/api/tickets?status=new,open,pending');
  const rows = tickets.map((t) => el('tr', {}, el('td', {}, '#' + t.id), el('td', {}, t.subject),
    el('td', {}, t.customer_name), el('td', {}, t.status)));
  const logout = el('button', { type: 'button' }, 'Log out');
  logout.onclick = async () => { await api('POST', '/api/auth/logout'); start(); };
  app.replaceChildren(
    el('header', {}, el('h1', {}, 'onedesk'), el('span', { class: 'muted' }, agent.name + ' · '), logout),
    el('div', { class: 'card' }, rows.length
      ? el('table', {}, el('tr', {}, el('th', {}, 'Ticket'), el('th', {}, 'Subject'), el('th', {}, 'Customer'), el('th', {}, 'Status')), ...rows)
      : el('p', { class: 'muted' }, 'No open tickets. Create one with POST /api/tickets.')));
}

async function start() {
  try {
    const me = await api('GET', '/api/me');
    csrf = me.csrf_token;
    return inbox(me.agent);
  } catch (e) {
    if (e.status !== 401) { app.textContent = e.message; return; }
  }
  const { needed } = await api('GET', '/api/setup');
  if (needed) {
    authForm('Create the admin account', [['name', 'Your name', 'text'], ['email', 'Email', 'email'], ['password', 'Password (8+ characters)', 'password']],
      (v) => api('POST', '/api/setup', v));
  } else {
    authForm('Log in', [['email', 'Email', 'email'], ['password', 'Password', 'password']],
      (v) => api('POST', '/api/auth/login', v));
  }
}

start();
