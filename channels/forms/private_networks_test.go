package forms_test

import "onedesk/netguard"

// The test servers these tests reach (IMAP, SMTP, webhooks, order
// lookups, platform APIs) listen on 127.0.0.1, which outbound
// connections may reach only with private networks allowed.
func init() { netguard.AllowPrivateNetworks(true) }
