package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/store/storetest"
	"onedesk/ui"
)

// importTarget is a running onedesk with an admin, an agent whose address
// the exports' agent has, and an admin's API token.
func importTarget(t *testing.T) (url, token string, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Data(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	srv := httptest.NewServer(ui.New(d, log, ui.Options{}).Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	call := func(path, csrf string, body any, out any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, b)
		}
		if out != nil {
			json.Unmarshal(b, out)
		}
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	call("/api/setup", "", map[string]string{"email": "owner@shop.test", "name": "Olga", "password": "correct horse"}, &me)
	call("/api/agents", me.CSRF, map[string]string{"email": "johnny@shoes.test", "name": "Johnny", "role": "agent", "password": "12345678"}, nil)
	var tok struct{ Token string }
	call("/api/tokens", me.CSRF, map[string]string{"name": "import"}, &tok)
	return srv.URL, tok.Token, db
}

// exportFiles copies an export's sample files (written from the public
// API documentation) with their attachment URLs pointing at files.
func exportFiles(t *testing.T, kind, files string) []string {
	t.Helper()
	src, err := filepath.Glob(filepath.Join("testdata", "import", kind, "*.json"))
	if err != nil || len(src) == 0 {
		t.Fatalf("no sample files: %v", err)
	}
	dir := t.TempDir()
	var out []string
	for _, s := range src {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(s))
		if err := os.WriteFile(dst, bytes.ReplaceAll(data, []byte("http://files.test"), []byte(files)), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, dst)
	}
	return out
}

// fileServer serves Zendesk's attachment URLs (plain bytes) and Help
// Scout's attachment data (JSON with base64, behind a token).
func fileServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/attachments/"):
			w.Write([]byte("JPEG-bytes!!"))
		case strings.HasPrefix(r.URL.Path, "/v2/conversations/"):
			if r.Header.Get("Authorization") != "Bearer hs-token" {
				http.Error(w, "unauthorized", 401)
				return
			}
			w.Header().Set("Content-Type", "application/hal+json")
			json.NewEncoder(w).Encode(map[string]string{"data": base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n"))})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type importedCounts struct{ tickets, messages, customers, files int }

func countImported(t *testing.T, db *store.DB) (importedCounts, []store.Ticket) {
	t.Helper()
	ctx := context.Background()
	list, _, err := db.ListTickets(ctx, store.TicketFilter{Limit: 200, Sort: "oldest"})
	if err != nil {
		t.Fatal(err)
	}
	var n importedCounts
	customers := map[int64]bool{}
	for _, tk := range list {
		n.tickets++
		customers[tk.CustomerID] = true
		msgs, err := db.Messages(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		n.messages += len(msgs)
		for _, m := range msgs {
			n.files += len(m.Attachments)
		}
	}
	n.customers = len(customers)
	return n, list
}

// A Zendesk export (users, tickets, one ticket's comments, the ticket
// event export with comments) moved in by the CLI; run again, nothing
// comes twice.
func TestImportZendeskExport(t *testing.T) {
	url, token, db := importTarget(t)
	files := exportFiles(t, "zendesk", fileServer(t))
	args := append([]string{"import", "zendesk", "--url", url, "--token", token, "--download-files"}, files...)
	code, out, errOut := run(args...)
	if code != 0 {
		t.Fatalf("import: %d\n%s\n%s", code, out, errOut)
	}
	got, list := countImported(t, db)
	// 101: three comments (one with a photo); 102: two from the event
	// export; 103: its description alone.
	if got != (importedCounts{tickets: 3, messages: 6, customers: 2, files: 1}) {
		t.Fatalf("imported %+v\n%s", got, out)
	}
	want := map[string]string{"Wrong size delivered": "resolved", "Parcel not here": "pending", "Store hours": "closed"}
	for _, tk := range list {
		if want[tk.Subject] != tk.Status {
			t.Errorf("%q is %s, want %s", tk.Subject, tk.Status, want[tk.Subject])
		}
		if tk.Subject == "Wrong size delivered" {
			msgs, _ := db.Messages(context.Background(), tk.ID)
			kinds := []string{msgs[0].Kind, msgs[1].Kind, msgs[2].Kind}
			if strings.Join(kinds, ",") != "customer,agent,note" || msgs[1].AuthorID == nil || tk.AssigneeID == nil ||
				strings.Join(tk.Tags, ",") != "exchange,sizes" || tk.Channel != "email" || msgs[0].CreatedAt.Format("2006-01-02T15") != "2023-04-02T10" {
				t.Errorf("ticket 101: %+v %v", tk, kinds)
			}
		}
	}
	var carlaID int64
	for _, tk := range list {
		if tk.Subject == "Wrong size delivered" {
			carlaID = tk.CustomerID
		}
	}
	carla, err := db.Customer(context.Background(), carlaID)
	if err != nil || carla.Name != "Carla Customer" || len(carla.Identities) != 2 || !strings.Contains(carla.Notes, "Prefers email") {
		t.Errorf("Carla %+v %v", carla, err)
	}

	code, out, errOut = run(args...)
	if code != 0 || !strings.Contains(out, "tickets 1-3 of 3: 0 imported, 3 already there, 0 refused, 0 messages added") {
		t.Fatalf("second run: %d\n%s\n%s", code, out, errOut)
	}
	if again, _ := countImported(t, db); again != got {
		t.Fatalf("after a second run %+v, want %+v", again, got)
	}
	// Without --download-files the photo is left out, and said so.
	code, _, errOut = run("import", "zendesk", "--dry-run", files[0], files[1], files[2], files[3])
	if code != 0 || !strings.Contains(errOut, "1 attachments left out") {
		t.Errorf("dry run: %d %s", code, errOut)
	}
}

// A Help Scout export (customers, users, conversations with their
// threads embedded, one conversation's threads apart) moved in by the
// CLI; lines of activity and drafts are left out; run again, nothing
// comes twice.
func TestImportHelpScoutExport(t *testing.T) {
	url, token, db := importTarget(t)
	files := exportFiles(t, "helpscout", fileServer(t))
	args := append([]string{"import", "helpscout", "--url", url, "--token", token, "--download-files", "--download-auth", "Bearer hs-token"}, files...)
	code, out, errOut := run(args...)
	if code != 0 {
		t.Fatalf("import: %d\n%s\n%s", code, out, errOut)
	}
	got, list := countImported(t, db)
	if got != (importedCounts{tickets: 2, messages: 5, customers: 1, files: 1}) {
		t.Fatalf("imported %+v\n%s\n%s", got, out, errOut)
	}
	for _, tk := range list {
		msgs, _ := db.Messages(context.Background(), tk.ID)
		var kinds []string
		for _, m := range msgs {
			kinds = append(kinds, m.Kind)
		}
		switch tk.Subject {
		case "Invoice copy":
			if tk.Status != "resolved" || strings.Join(kinds, ",") != "customer,agent,note" || msgs[2].From != "Mia Former <mia@old.test>" ||
				msgs[1].AuthorID == nil || msgs[0].Body != "Could you send me a copy of invoice 2021-77?\nThanks, Vernon" || strings.Join(tk.Tags, ",") != "invoices" {
				t.Errorf("conversation 201: %+v %v %+v", tk, kinds, msgs)
			}
		case "Discount code":
			if tk.Status != "open" || tk.Channel != "chat" || strings.Join(kinds, ",") != "customer,agent" {
				t.Errorf("conversation 202: %+v %v", tk, kinds)
			}
		default:
			t.Errorf("ticket %+v", tk)
		}
	}
	vernon, err := db.Customer(context.Background(), list[0].CustomerID)
	if err != nil || vernon.Name != "Vernon Bear" || len(vernon.Identities) != 2 || vernon.Notes != "Wholesale buyer" {
		t.Errorf("Vernon %+v %v", vernon, err)
	}
	code, out, _ = run(args...)
	if again, _ := countImported(t, db); code != 0 || again != got {
		t.Fatalf("after a second run %+v, want %+v:\n%s", again, got, out)
	}
}
