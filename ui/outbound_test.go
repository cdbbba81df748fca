package ui_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onedesk/channels/email"
	"onedesk/netguard"
	"onedesk/store"
	"onedesk/ui"
)

// Outbound requests an admin points somewhere (webhooks, the order lookup
// URL, a Shopify domain, mailbox hosts) do not reach the desk's own
// network, and what answered is not repeated. Every target here is on
// 127.0.0.1 or is refused before any packet is sent.
func TestOutboundRefusesInternalAddresses(t *testing.T) {
	was := netguard.AllowPrivateNetworks(false) // the default of a desk
	t.Cleanup(func() { netguard.AllowPrivateNetworks(was) })

	var hits atomic.Int64
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"orders":[],"secret":"internal"}`)
	}))
	defer inside.Close()
	var accepts atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			fmt.Fprint(c, "+OK internal service\r\n")
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	e := newEnv(t, ui.Options{})
	email.New(e.desk, slog.New(slog.NewTextHandler(io.Discard, nil))) // tests mailboxes
	admin := e.admin()
	refused := "private or local network"

	// Webhooks: to the local server and to the cloud metadata address.
	for _, u := range []string{inside.URL + "/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]:" + fmt.Sprint(port)} {
		var hook struct{ ID int64 }
		admin.must(201, "POST", "/api/webhooks", map[string]any{"name": "x", "url": u, "events": []string{"ticket.created"}}).json(t, &hook)
		admin.must(202, "POST", fmt.Sprintf("/api/webhooks/%d/test", hook.ID), nil)
		if err := e.hooks.Deliver(t.Context(), time.Now()); err != nil {
			t.Fatal(err)
		}
		var w struct {
			LastError string `json:"last_error"`
		}
		admin.must(200, "GET", fmt.Sprintf("/api/webhooks/%d", hook.ID), nil).json(t, &w)
		if !strings.Contains(w.LastError, refused) || strings.Contains(w.LastError, "169.254") {
			t.Errorf("webhook %s: last error %q", u, w.LastError)
		}
	}

	// Order lookups: a lookup URL and a Shopify domain on the local server.
	for i, orders := range []map[string]any{
		{"lookup_url": inside.URL + "/orders", "lookup_secret": "s3cret"},
		{"shopify_domain": inside.URL, "shopify_token": "shpat_x"},
	} {
		var st store.Store
		admin.must(201, "POST", "/api/stores", map[string]any{"name": fmt.Sprint("Shop ", i), "orders": orders}).json(t, &st)
		var tk ticketJSON
		admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Order?", "body": "order #1001",
			"customer": map[string]any{"email": "rui@example.pt"}, "store_id": st.ID}).json(t, &tk)
		r := admin.do("GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil)
		if r.status < 400 || !strings.Contains(string(r.body), refused) || strings.Contains(string(r.body), "internal") {
			t.Errorf("orders %v: %d %s", orders, r.status, r.body)
		}
	}

	// Mailboxes: IMAP and SMTP hosts on the local listener.
	var mb struct{ ID int64 }
	admin.must(201, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "imap_host": "127.0.0.1", "imap_port": port,
		"imap_security": "none", "imap_username": "help", "imap_password": "x", "smtp_host": "127.0.0.1", "smtp_port": port,
		"smtp_security": "none"}).json(t, &mb)
	var test struct {
		OK    bool
		Error string
	}
	admin.must(200, "POST", fmt.Sprintf("/api/mailboxes/%d/test", mb.ID), nil).json(t, &test)
	if test.OK || strings.Count(test.Error, refused) != 2 || strings.Contains(test.Error, "internal service") {
		t.Errorf("mailbox test: %+v", test)
	}

	if hits.Load() != 0 || accepts.Load() != 0 {
		t.Fatalf("internal services reached: %d HTTP requests, %d connections", hits.Load(), accepts.Load())
	}

	// With private networks allowed (a mail server on the shop's LAN), the
	// same mailbox connects; what answered is still not repeated.
	netguard.AllowPrivateNetworks(true)
	admin.must(200, "POST", fmt.Sprintf("/api/mailboxes/%d/test", mb.ID), nil).json(t, &test)
	if test.OK || strings.Contains(test.Error, refused) || strings.Contains(test.Error, "internal service") || accepts.Load() == 0 {
		t.Errorf("mailbox test, private networks allowed: %+v (%d connections)", test, accepts.Load())
	}
}
