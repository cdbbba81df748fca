// How the app names a customer: their name, else an address or handle
// they gave, else "Visitor #id" for an anonymous chat visitor (whose only
// identity is a token's hash, meaningless to people).
import { t } from './i18n.js';

export const isVisitorId = (v) => /^v[0-9a-f]{24}$/.test(v || '');

// The desk files mail whose sender cannot be read under a nameless
// customer with this address (one per mailbox): the app names it.
const isUnknownSender = (v) => /^unknown-sender\.\d+@onedesk\.invalid$/i.test(v || '');

// addressName is how the app shows an address in place of a name.
export function addressName(v) { return isUnknownSender(v) ? t('unknown_sender') : v; }

// The text the desk stores for a message that came without any; said in
// the agent's language (desk.NoTextBody).
const noTextBody = '[onedesk: the message has no text]';
export function bodyText(body) { return body === noTextBody ? t('message_no_text') : body; }

export function visitorName(customerId) { return t('visitor_n', { n: customerId }); }

export function customerName(c) {
  if (!c) return t('unknown_customer');
  if (c.name) return c.name;
  const id = (c.identities || []).find((i) => i.kind !== 'visitor');
  if (id) return addressName(id.value);
  return (c.identities || []).some((i) => i.kind === 'visitor') ? visitorName(c.id) : t('unknown_customer');
}

// identityValue is what the panel lists for an identity: a visitor's
// token hash is shown as the visitor's number.
export function identityValue(i, customerId) { return i.kind === 'visitor' ? visitorName(customerId) : i.value; }
