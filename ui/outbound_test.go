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
// network: refused when saved, and again when used; what answered is not
// repeated. Every target here is on
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

	// Saving a target inside is refused at once, in the field, with how to
	// allow it.
	badRequest := func(field, method, path string, body any) {
		t.Helper()
		r := admin.do(method, path, body)
		var e struct{ Error, Field string }
		r.json(t, &e)
		if r.status != 400 || e.Field != field || !strings.Contains(e.Error, refused) || !strings.Contains(e.Error, "ONEDESK_ALLOW_PRIVATE_NETWORKS=1") {
			t.Errorf("%s %s %v: %d %s", method, path, body, r.status, r.body)
		}
	}
	hookURLs := []string{inside.URL + "/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]:" + fmt.Sprint(port), "http://10.9.8.7/hook"}
	for _, u := range hookURLs {
		badRequest("url", "POST", "/api/webhooks", map[string]any{"name": "x", "url": u, "events": []string{"ticket.created"}})
	}
	storeOrders := []map[string]any{
		{"lookup_url": inside.URL + "/orders", "lookup_secret": "s3cret"},
		{"shopify_domain": inside.URL, "shopify_token": "shpat_x"},
	}
	badRequest("orders.lookup_url", "POST", "/api/stores", map[string]any{"name": "Shop", "orders": storeOrders[0]})
	badRequest("orders.shopify_domain", "POST", "/api/stores", map[string]any{"name": "Shop", "orders": storeOrders[1]})
	mailbox := map[string]any{"address": "help@shop.test", "imap_host": "127.0.0.1", "imap_port": port,
		"imap_security": "none", "imap_username": "help", "imap_password": "x", "smtp_host": "smtp.shop.invalid", "smtp_port": port,
		"smtp_security": "none"}
	badRequest("imap_host", "POST", "/api/mailboxes", mailbox)
	mailbox["imap_host"], mailbox["smtp_host"] = "imap.shop.invalid", "10.0.0.1"
	badRequest("smtp_host", "POST", "/api/mailboxes", mailbox)
	admin.lang = "pt" // the sentence is in the catalogs, like every refusal
	if r := admin.do("POST", "/api/mailboxes", mailbox); r.status != 400 || !strings.Contains(string(r.body), "rede privada ou local") {
		t.Errorf("in Portuguese: %d %s", r.status, r.body)
	}
	admin.lang = ""

	// Targets saved while private networks were allowed (or a name that
	// resolves inside only later) are still refused when used.
	netguard.AllowPrivateNetworks(true)
	var hookIDs, storeIDs []int64
	for _, u := range hookURLs[:3] {
		var hook struct{ ID int64 }
		admin.must(201, "POST", "/api/webhooks", map[string]any{"name": "x", "url": u, "events": []string{"ticket.created"}}).json(t, &hook)
		hookIDs = append(hookIDs, hook.ID)
	}
	for i, orders := range storeOrders {
		var st store.Store
		admin.must(201, "POST", "/api/stores", map[string]any{"name": fmt.Sprint("Shop ", i), "orders": orders}).json(t, &st)
		storeIDs = append(storeIDs, st.ID)
	}
	mailbox["imap_host"], mailbox["smtp_host"] = "127.0.0.1", "127.0.0.1"
	var mb struct{ ID int64 }
	admin.must(201, "POST", "/api/mailboxes", mailbox).json(t, &mb)
	netguard.AllowPrivateNetworks(false)

	for i, id := range hookIDs {
		admin.must(202, "POST", fmt.Sprintf("/api/webhooks/%d/test", id), nil)
		if err := e.hooks.Deliver(t.Context(), time.Now()); err != nil {
			t.Fatal(err)
		}
		var w struct {
			LastError string `json:"last_error"`
		}
		admin.must(200, "GET", fmt.Sprintf("/api/webhooks/%d", id), nil).json(t, &w)
		if !strings.Contains(w.LastError, refused) || strings.Contains(w.LastError, "169.254") {
			t.Errorf("webhook %s: last error %q", hookURLs[i], w.LastError)
		}
	}
	for i, id := range storeIDs {
		var tk ticketJSON
		admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Order?", "body": "order #1001",
			"customer": map[string]any{"email": "rui@example.pt"}, "store_id": id}).json(t, &tk)
		r := admin.do("GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil)
		if r.status < 400 || !strings.Contains(string(r.body), refused) || strings.Contains(string(r.body), "internal") {
			t.Errorf("orders %v: %d %s", storeOrders[i], r.status, r.body)
		}
	}
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
