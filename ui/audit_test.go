package ui_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"onedesk/ui"
)

type auditPage struct {
	Entries []struct {
		ID        int64
		ActorKind string `json:"actor_kind"`
		ActorID   *int64 `json:"actor_id"`
		ActorName string `json:"actor_name"`
		TokenID   *int64 `json:"token_id"`
		Kind      string
		Target    string
		Data      map[string]any
		IP        string
		UserAgent string `json:"user_agent"`
	}
	NextBefore int64 `json:"next_before"`
}

func (c *client) audit(query string) auditPage {
	c.e.t.Helper()
	var p auditPage
	c.must(200, "GET", "/api/audit"+query, nil).json(c.e.t, &p)
	return p
}

// kinds lists a page's kinds, oldest first.
func (p auditPage) kinds() string {
	var out []string
	for i := len(p.Entries) - 1; i >= 0; i-- {
		out = append(out, p.Entries[i].Kind)
	}
	return strings.Join(out, " ")
}

func TestAuditLogRecordsAccountsAndSettings(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 600})
	admin := e.admin()
	stranger := e.client()
	stranger.must(401, "POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "wrong password"})
	stranger.must(401, "POST", "/api/auth/login", map[string]string{"email": "nobody@shop.test", "password": "whatever1"})
	ann := e.agent(admin, "ann@shop.test") // agent.created, login
	api := admin.apiClient()               // token.created

	var mb map[string]any
	api.must(201, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "imap_host": "imap.shop.test",
		"imap_password": "s3cret-imap", "smtp_host": "smtp.shop.test", "active": false}).json(t, &mb)
	mbID := int64(mb["id"].(float64))
	api.must(200, "PATCH", fmt.Sprintf("/api/mailboxes/%d", mbID), map[string]any{"poll_seconds": 30, "imap_host": "imap.shop.test", "smtp_password": "s3cret-smtp"})
	admin.must(200, "PATCH", "/api/settings", map[string]any{"reopen_days": 10, "assign_on_reply": true})
	var agents struct {
		Agents []struct {
			ID    int64
			Email string
		}
	}
	admin.must(200, "GET", "/api/agents", nil).json(t, &agents)
	var annID int64
	for _, a := range agents.Agents {
		if a.Email == "ann@shop.test" {
			annID = a.ID
		}
	}
	admin.must(200, "PATCH", fmt.Sprintf("/api/agents/%d", annID), map[string]any{"role": "admin"})
	admin.must(200, "PATCH", fmt.Sprintf("/api/agents/%d", annID), map[string]any{"active": false})
	ann.must(401, "GET", "/api/me", nil)
	var renewed struct {
		CSRFToken string `json:"csrf_token"`
	}
	admin.must(200, "PATCH", "/api/me", map[string]any{"password": "a new horse battery", "current_password": "correct horse"}).json(t, &renewed)
	if renewed.CSRFToken != "" {
		admin.csrf = renewed.CSRFToken // a new session for this browser
	}
	admin.must(204, "POST", "/api/auth/logout", nil)

	admin = e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	admin.must(200, "POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "a new horse battery"}).json(t, &me)
	admin.csrf = me.CSRFToken
	all := admin.audit("?limit=100")
	want := "agent.created login_failed login_failed agent.created login token.created mailbox.created mailbox.updated settings.updated " +
		"agent.updated agent.role_changed agent.updated agent.deactivated password.changed logout login"
	if got := all.kinds(); got != want {
		t.Fatalf("kinds\n got %s\nwant %s", got, want)
	}
	byKind := map[string][]int{}
	for i, en := range all.Entries {
		byKind[en.Kind] = append(byKind[en.Kind], i)
	}
	if first := all.Entries[len(all.Entries)-1]; first.Data["first_admin"] != true || first.ActorName != "Olga Owner" {
		t.Errorf("first-run setup %+v", first)
	}
	failed := all.Entries[byKind["login_failed"][1]] // the first of the two
	if failed.Data["reason"] != "wrong_password" || failed.ActorKind != "anonymous" || failed.IP == "" || failed.UserAgent == "" {
		t.Errorf("failed login %+v", failed)
	}
	if r := all.Entries[byKind["login_failed"][0]].Data["reason"]; r != "unknown_email" {
		t.Errorf("second failed login's reason %v", r)
	}
	upd := all.Entries[byKind["mailbox.updated"][0]]
	if fmt.Sprint(upd.Data["fields"]) != "[poll_seconds smtp_password]" || upd.ActorKind != "token" || upd.TokenID == nil {
		t.Errorf("mailbox change %+v: want the changed fields poll_seconds and smtp_password, by a token", upd)
	}
	if fmt.Sprint(all.Entries[byKind["settings.updated"][0]].Data["fields"]) != "[reopen_days]" {
		t.Errorf("settings change %+v", all.Entries[byKind["settings.updated"][0]].Data)
	}
	role := all.Entries[byKind["agent.role_changed"][0]]
	if role.Data["from"] != "agent" || role.Data["to"] != "admin" || role.Target != fmt.Sprintf("agent:%d", annID) {
		t.Errorf("role change %+v", role)
	}
	raw := admin.must(200, "GET", "/api/audit?limit=1000", nil).body
	for _, secret := range []string{"s3cret", "a new horse", "correct horse", "wrong password"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the log holds a secret (%q): %s", secret, raw)
		}
	}

	// Filters, paging and CSV.
	if got := admin.audit("?kind=agent.").kinds(); got != "agent.created agent.created agent.updated agent.role_changed agent.updated agent.deactivated" {
		t.Errorf("kind=agent.: %s", got)
	}
	if got := admin.audit("?kind=login_failed").kinds(); got != "login_failed login_failed" {
		t.Errorf("kind=login_failed: %s", got)
	}
	if got := admin.audit(fmt.Sprintf("?actor_id=%d&kind=login", annID)).kinds(); got != "login" {
		t.Errorf("Ann's logins: %s", got)
	}
	var seen []string
	for before := int64(0); ; {
		p := admin.audit(fmt.Sprintf("?limit=4&before=%d", before))
		for _, en := range p.Entries {
			seen = append(seen, en.Kind)
		}
		if p.NextBefore == 0 {
			break
		}
		before = p.NextBefore
	}
	if len(seen) != len(all.Entries) {
		t.Errorf("pages of 4 gave %d entries, want %d", len(seen), len(all.Entries))
	}
	if got := admin.audit("?from=2000-01-01&to=2000-12-31").Entries; len(got) != 0 {
		t.Errorf("a year long past has %d entries", len(got))
	}
	r := admin.must(200, "GET", "/api/audit?format=csv", nil)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != len(all.Entries)+1 || rows[0][6] != "kind" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("csv: %d rows (%v) %q", len(rows), err, r.header.Get("Content-Type"))
	}
	if _, f := admin.must(400, "GET", "/api/audit?from=yesterday", nil).err(t); f != "from" {
		t.Errorf("bad from: field %q", f)
	}
	bob := e.agent(admin, "bob@shop.test")
	bob.must(403, "GET", "/api/audit", nil)
	e.client().must(401, "GET", "/api/audit", nil)
}

func TestCustomerExportAndErasureThroughAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	const marker = "plumtree9981"
	tk := admin.newTicket("Order "+marker, marker+"@example.com")
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "We saw " + marker})
	cust := fmt.Sprintf("/api/customers/%d", tk.CustomerID)

	ann := e.agent(admin, "ann@shop.test")
	ann.must(403, "GET", cust+"/export", nil)
	ann.must(403, "POST", cust+"/erase", map[string]string{"confirm": marker + "@example.com"})
	admin.must(404, "GET", "/api/customers/999999/export", nil)

	r := admin.must(200, "GET", cust+"/export", nil)
	if r.header.Get("Content-Type") != "application/zip" || !strings.Contains(r.header.Get("Content-Disposition"), ".zip") {
		t.Fatalf("headers %v", r.header)
	}
	z, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatalf("zip: %v (%d bytes)", err, len(r.body))
	}
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	if want := fmt.Sprintf("customer.json tickets/%d.json", tk.ID); strings.Join(names, " ") != want {
		t.Errorf("files %v, want %s", names, want)
	}

	if _, f := admin.must(400, "POST", cust+"/erase", map[string]string{"confirm": "someone else"}).err(t); f != "confirm" {
		t.Errorf("wrong confirmation: field %q", f)
	}
	var counts map[string]int
	admin.must(200, "POST", cust+"/erase", map[string]string{"confirm": strings.ToUpper(marker) + "@EXAMPLE.COM"}).json(t, &counts)
	if counts["tickets"] != 1 || counts["messages"] != 2 || counts["identities"] != 1 {
		t.Errorf("counts %v", counts)
	}
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	for _, m := range got.Messages {
		if m.Body != "" {
			t.Errorf("message kept %q", m.Body)
		}
	}
	var list struct{ Tickets []struct{ ID int64 } }
	admin.must(200, "GET", "/api/tickets?q="+marker, nil).json(t, &list)
	if len(list.Tickets) != 0 {
		t.Errorf("search finds %d tickets", len(list.Tickets))
	}
	page := admin.audit("?kind=customer.")
	if page.kinds() != "customer.exported customer.erased" {
		t.Fatalf("audit kinds %s", page.kinds())
	}
	erased := page.Entries[0]
	if erased.Target != fmt.Sprintf("customer:%d", tk.CustomerID) || erased.Data["tickets"] != float64(1) {
		t.Errorf("erasure entry %+v", erased)
	}
	if exp := page.Entries[1]; exp.Data["tickets"] != float64(1) || exp.ActorKind != "agent" {
		t.Errorf("export entry %+v", exp)
	}
	raw := admin.must(200, "GET", "/api/audit", nil).body
	if bytes.Contains(bytes.ToLower(raw), []byte(marker)) {
		t.Errorf("the audit log holds the erased data: %s", raw)
	}
}

// An agent's picture is shown to chat visitors: setting and removing it
// are on the record, by whom and for which agent; a refused upload is not.
func TestAuditRecordsAvatarChanges(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ann := e.agent(admin, "ann@shop.test")
	var me struct{ Agent struct{ ID int64 } }
	ann.must(200, "GET", "/api/me", nil).json(t, &me)
	uploadAvatar(t, e, ann)
	if r := ann.putFile("/api/me/avatar", "avatar", "notes.txt", []byte("hello")); r.status != 400 {
		t.Fatalf("a text file as a picture: %d", r.status)
	}
	ann.must(200, "DELETE", "/api/me/avatar", nil)
	page := admin.audit("?kind=profile.")
	if got := page.kinds(); got != "profile.avatar_set profile.avatar_removed" {
		t.Fatalf("kinds %q, want the picture set then removed", got)
	}
	for _, en := range page.Entries {
		if en.Target != fmt.Sprintf("agent:%d", me.Agent.ID) || en.ActorID == nil || *en.ActorID != me.Agent.ID || en.ActorName != "Ann" {
			t.Errorf("entry %+v: want Ann's own change of her picture", en)
		}
	}
}
