// The JSON API client: CSRF header, the agent's language (the server
// writes its sentences in it), errors as the server's sentence.
import { locale } from './i18n.js';

let csrf = '';
export function setCSRF(token) { csrf = token || ''; }
export const csrfToken = () => csrf;

export class APIError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field || '';
  }
}

// onUnauthorized is called when a request finds the session gone.
export let onUnauthorized = () => {};
export function setOnUnauthorized(fn) { onUnauthorized = fn; }

export async function api(method, path, body) {
  let res;
  // FormData (a reply with files) goes as multipart; the browser sets its type.
  const form = body instanceof FormData;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined || form
        ? { 'X-CSRF-Token': csrf, 'Accept-Language': locale() }
        : { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'Accept-Language': locale() },
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch {
    throw new APIError(0, 'network');
  }
  if (res.status === 204) return {};
  let data = {};
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new APIError(res.status, data.error || res.statusText, data.field);
    err.data = data; // the whole answer (a reply conflict names the replies)
    if (res.status === 401 && !path.startsWith('/api/auth/') && path !== '/api/me') onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);
