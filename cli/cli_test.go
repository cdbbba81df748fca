package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserAddAndBackup(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "desk.db")
	code, out, errOut := run("user", "add", "--data", data, "--email", "Ann@Shop.test", "--name", "Ann", "--password", "12345678", "--role", "admin")
	if code != 0 || !strings.Contains(out, "added admin Ann") {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	code, _, errOut = run("user", "add", "--data", data, "--email", "bob@shop.test", "--name", "Bob", "--password", "short")
	if code != 1 || !strings.Contains(errOut, "--password: password must have at least 8 characters") {
		t.Fatalf("short password: %d %q", code, errOut)
	}
	code, _, errOut = run("user", "add", "--data", data, "--email", "ann@shop.test", "--name", "Ann 2", "--password", "12345678")
	if code != 1 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("duplicate email: %d %q", code, errOut)
	}

	// Fill the database, then back it up while it is open for writing.
	ctx := context.Background()
	db, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := range 30 {
		if _, err := d.Ingest(ctx, desk.Inbound{Channel: "api", From: store.Identity{Kind: "email", Value: fmt.Sprintf("c%d@x.test", i)},
			Subject: fmt.Sprintf("Ticket %d", i), Text: "Where is my parcel?"}); err != nil {
			t.Fatal(err)
		}
	}
	backupFile := filepath.Join(dir, "backup.db")
	code, out, errOut = run("backup", "--data", data, backupFile)
	db.Close()
	if code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	code, _, errOut = run("backup", "--data", data, backupFile)
	if code != 1 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("backup over a file: %d %q", code, errOut)
	}

	if !strings.Contains(out, "keep a copy of that key") {
		t.Errorf("backup says nothing of the key: %q", out)
	}
	// The backup opens with its key beside it, as a restore would have it
	// (or with ONEDESK_SECRET_KEY, when the package's tests set it).
	if key, err := os.ReadFile(data + ".key"); err == nil {
		if err := os.WriteFile(backupFile+".key", key, 0o600); err != nil {
			t.Fatal(err)
		}
	} else if os.Getenv(store.SecretKeyEnv) == "" {
		t.Fatal(err)
	}
	copy, err := store.Open(ctx, backupFile)
	if err != nil {
		t.Fatal(err)
	}
	defer copy.Close()
	list, _, err := copy.ListTickets(ctx, store.TicketFilter{Limit: 200})
	if err != nil || len(list) != 30 {
		t.Fatalf("backup holds %d tickets (%v), want 30", len(list), err)
	}
	if found, _, _ := copy.ListTickets(ctx, store.TicketFilter{Query: "parcel"}); len(found) != 30 {
		t.Fatalf("search in the backup found %d", len(found))
	}
	if _, err := copy.AgentByEmail(ctx, "ann@shop.test"); err != nil {
		t.Fatalf("agent missing from backup: %v", err)
	}
}

func TestBadFlagsAndCommands(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, "serve: flag provided but not defined: -nope (run 'onedesk serve --help')"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"user"}, "the user command takes 'add'"},
		{[]string{"user", "add", "--email", "x@y.z"}, "user add needs --email, --name and --password"},
		{[]string{"backup"}, "backup needs one FILE"},
		{[]string{"serve", "--log-level", "loud"}, "--log-level must be"},
		{[]string{"serve", "--public-url", "desk.example.com"}, "--public-url must start with"},
	}
	for _, c := range cases {
		code, _, errOut := run(c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line with %q", c.args, code, errOut, c.want)
		}
	}
	t.Setenv("ONEDESK_API_RATE", "fast")
	if code, _, errOut := run("serve"); code != 1 || !strings.Contains(errOut, `ONEDESK_API_RATE="fast" is not valid for --api-rate`) {
		t.Errorf("bad env: %d %q", code, errOut)
	}
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "onedesk ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestServeRefusesSecondServerAndStops(t *testing.T) {
	data := filepath.Join(t.TempDir(), "desk.db")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- Serve(ctx, ServeConfig{Addr: "127.0.0.1:0", Data: data, Log: log, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()

	err = Serve(context.Background(), ServeConfig{Addr: "127.0.0.1:0", Data: data, Log: log})
	if err == nil || !strings.Contains(err.Error(), "in use by another onedesk server") {
		t.Fatalf("second server on the same file: %v", err)
	}
	// Another command (backup) still works beside the running server.
	if code, _, errOut := run("backup", "--data", data, filepath.Join(t.TempDir(), "b.db")); code != 0 {
		t.Fatalf("backup beside the server: %q", errOut)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
}
