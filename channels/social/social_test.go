package social

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"onedesk/desk"
	"onedesk/store"
)

// A queued delivery whose account cannot be read at that moment (here its
// table is renamed away; on a real desk a database error) is kept for the
// next try, not handled and not dropped; once the account reads again, it
// is handled.
func TestDeliveryWaitsForItsAccount(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO social_accounts (id, platform, handle, external_id, created_at, updated_at) VALUES (1, 'telegram', '@shop_bot', '42', 0, 0)`)
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := d.QueueSocialUpdate(ctx, 1, "update-1", []byte(`{"update_id": 1}`)); err != nil {
		t.Fatal(err)
	}
	handled := 0
	in := &Inbox{Desk: d, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Platform: "telegram",
		Lane:         func([]byte) string { return "" },
		HandleQueued: func(context.Context, *store.SocialAccount, []byte) error { handled++; return nil }}
	list, err := d.DB().DueSocialUpdates(ctx, "telegram", store.Now(), 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("queued: %v, %v", list, err)
	}

	exec(`ALTER TABLE social_accounts RENAME TO social_accounts_away`)
	outcomes := in.work(ctx, list)
	exec(`ALTER TABLE social_accounts_away RENAME TO social_accounts`)
	if outcomes[0] == nil || handled != 0 {
		t.Fatalf("with its account unreadable: outcome %v, handled %d", outcomes[0], handled)
	}
	if err := d.FinishSocialUpdates(ctx, list, outcomes); err != nil {
		t.Fatal(err)
	}
	if left, err := db.NextSocialUpdateAt(ctx); err != nil || left.IsZero() {
		t.Fatalf("the delivery was dropped (%v)", err)
	}

	if outcomes = in.work(ctx, list); outcomes[0] != nil || handled != 1 {
		t.Fatalf("with its account back: outcome %v, handled %d", outcomes[0], handled)
	}
}
