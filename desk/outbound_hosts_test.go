package desk_test

import (
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/netguard"
)

// A mailbox or order lookup pointed into the desk's own network is
// refused when saved, naming the field and how to allow it; with private
// networks allowed the same save goes through.
func TestInternalHostsRefusedWhenSaved(t *testing.T) {
	d, _ := newDesk(t)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shop", Slug: "shop", Language: "en", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	was := netguard.AllowPrivateNetworks(false)
	defer netguard.AllowPrivateNetworks(was)

	for _, host := range []string{"127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "::1", "localhost"} {
		_, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("help@shop.test"), IMAPHost: text(host), SMTPHost: text("smtp.shop.test")})
		if fieldOf(err) != "imap_host" || !strings.Contains(err.Error(), "ONEDESK_ALLOW_PRIVATE_NETWORKS=1") {
			t.Errorf("IMAP host %s: %v, want refused in imap_host with how to allow it", host, err)
		}
		_, err = d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("help@shop.test"), IMAPHost: text("imap.shop.test"), SMTPHost: text(host)})
		if fieldOf(err) != "smtp_host" {
			t.Errorf("SMTP host %s: %v, want refused in smtp_host", host, err)
		}
		_, err = d.SaveStore(ctx, st.ID, desk.StoreInput{Orders: &desk.OrderInput{LookupURL: "http://" + bracket(host) + ":8080/orders"}})
		if fieldOf(err) != "orders.lookup_url" {
			t.Errorf("lookup URL on %s: %v, want refused in orders.lookup_url", host, err)
		}
		_, err = d.SaveStore(ctx, st.ID, desk.StoreInput{Orders: &desk.OrderInput{ShopifyDomain: "http://" + bracket(host) + ":8080"}})
		if fieldOf(err) != "orders.shopify_domain" {
			t.Errorf("Shopify stand-in on %s: %v, want refused in orders.shopify_domain", host, err)
		}
	}
	// A name that does not resolve now is kept: DNS may be down, and the
	// dial checks again.
	if _, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("help@shop.test"), IMAPHost: text("imap.shop.invalid"),
		SMTPHost: text("smtp.shop.invalid")}); err != nil {
		t.Fatalf("an unresolved name: %v", err)
	}

	netguard.AllowPrivateNetworks(true)
	if _, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("lan@shop.test"), IMAPHost: text("10.1.2.3"), SMTPHost: text("127.0.0.1")}); err != nil {
		t.Fatalf("with private networks allowed: %v", err)
	}
	if _, err := d.SaveStore(ctx, st.ID, desk.StoreInput{Orders: &desk.OrderInput{LookupURL: "http://169.254.169.254/orders"}}); err != nil {
		t.Fatalf("with private networks allowed: %v", err)
	}
}

func text(s string) *string { return &s }

func bracket(host string) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "[" + host + "]"
	}
	return host
}
