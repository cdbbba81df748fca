// How the app names a customer: their name, else an address or handle
// they gave, else "Visitor #id" for an anonymous chat visitor (whose only
// identity is a token's hash, meaningless to people).
import { t } from './i18n.js';

export const isVisitorId = (v) => /^v[0-9a-f]{24}$/.test(v || '');

export function visitorName(customerId) { return t('visitor_n', { n: customerId }); }

export function customerName(c) {
  if (!c) return t('unknown_customer');
  if (c.name) return c.name;
  const id = (c.identities || []).find((i) => i.kind !== 'visitor');
  if (id) return id.value;
  return (c.identities || []).some((i) => i.kind === 'visitor') ? visitorName(c.id) : t('unknown_customer');
}

// identityValue is what the panel lists for an identity: a visitor's
// token hash is shown as the visitor's number.
export function identityValue(i, customerId) { return i.kind === 'visitor' ? visitorName(customerId) : i.value; }
