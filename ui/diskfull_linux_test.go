package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"onedesk/store"
	"onedesk/ui"
)

// TestDiskFull puts the database on a small tmpfs, fills the disk and
// keeps writing: the write that does not fit is refused with 507 and a
// plain sentence, every ticket accepted before can still be read (and
// /healthz says what is wrong); once space is freed, writes go on and
// nothing was lost.
func TestDiskFull(t *testing.T) {
	dir, err := os.MkdirTemp("", "onedesk-full-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		t.Skipf("cannot mount a small tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("umount", dir).Run()
		os.Remove(dir)
	})
	path := filepath.Join(dir, "onedesk.db")
	e := newEnvAt(t, path, ui.Options{APIRate: -1})
	api := e.admin().apiClient()
	body := strings.Repeat("The parcel never came and nobody answers the phone. ", 300) // 15 KB
	post := func(i int) resp {
		return api.do("POST", "/api/tickets", map[string]any{"subject": fmt.Sprintf("Order %d", i), "body": body,
			"customer": map[string]string{"email": fmt.Sprintf("c%d@x.test", i)}})
	}
	for i := range 20 { // the WAL grows to hold these first
		api.must(201, "POST", "/api/tickets", map[string]any{"subject": fmt.Sprintf("Warm %d", i), "body": body,
			"customer": map[string]string{"email": fmt.Sprintf("w%d@x.test", i)}})
	}

	// Leave 200 KB free.
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, free-200<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	var accepted []int64
	var refused resp
	for i := 0; ; i++ {
		r := post(i)
		if r.status != 201 {
			refused = r
			break
		}
		var tk ticketJSON
		r.json(t, &tk)
		accepted = append(accepted, tk.ID)
		if i > 500 {
			t.Fatal("500 tickets of 15 KB fit in 200 KB")
		}
	}
	msg, _ := refused.err(t)
	if refused.status != 507 || !strings.HasPrefix(msg, "the disk is full: ") {
		t.Fatalf("write on a full disk: %d %q", refused.status, msg)
	}
	t.Logf("%d tickets accepted before the disk was full; then: %d %s", len(accepted), refused.status, msg)

	// Reads go on.
	for _, id := range accepted {
		var tk ticketJSON
		api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", id), nil).json(t, &tk)
		if len(tk.Messages) == 0 || tk.Messages[0].Body != body {
			t.Fatalf("ticket %d read back wrong", id)
		}
	}
	api.must(200, "GET", "/api/tickets?status=new", nil)
	api.must(200, "GET", "/", nil)
	hr := api.do("GET", "/healthz", nil)
	if hr.status != 503 || !strings.Contains(string(hr.body), "the disk is full") {
		t.Fatalf("healthz on a full disk: %d %s", hr.status, hr.body)
	}

	// Space again: writes go on, and everything accepted is there.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var tk ticketJSON
	post(9999).json(t, &tk)
	if tk.ID == 0 {
		t.Fatal("no write after space was freed")
	}
	var list struct {
		Tickets []ticketJSON
	}
	api.must(200, "GET", "/api/tickets?status=new&limit=200", nil).json(t, &list)
	if len(list.Tickets) != 20+len(accepted)+1 {
		t.Fatalf("%d tickets after the disk was full, want %d", len(list.Tickets), 20+len(accepted)+1)
	}
	if v, err := store.Verify(context.Background(), path, false); err != nil || !v.OK() {
		t.Fatalf("the database after a full disk: %+v %v", v, err)
	}
}
