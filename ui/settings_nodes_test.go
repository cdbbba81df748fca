package ui_test

import (
	"context"
	"testing"
	"time"

	"onedesk/store/storetest"
	"onedesk/ui"
)

// TestDeskSettingsReachOtherNodes: a setting changed through one node
// (the reopen window here; "require two-factor sign-in" travels the same way) holds
// on the other without a restart.
func TestDeskSettingsReachOtherNodes(t *testing.T) {
	url := storetest.PostgresURL(t)
	a := newEnvAt(t, url, ui.Options{})
	b := newEnvAt(t, url, ui.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go a.desk.FollowNodes(ctx)
	go b.desk.FollowNodes(ctx)

	before, err := b.desk.Settings(ctx) // b now holds a copy
	if err != nil {
		t.Fatal(err)
	}
	changed := before
	changed.ReopenDays = before.ReopenDays + 7
	began := time.Now()
	if _, err := a.desk.SaveSettings(ctx, changed); err != nil {
		t.Fatal(err)
	}
	for {
		s, err := b.desk.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.ReopenDays == changed.ReopenDays {
			t.Logf("the other node read the change after %s", time.Since(began).Round(time.Millisecond))
			return
		}
		if time.Since(began) > 30*time.Second {
			t.Fatalf("after %s the other node still has reopen_days %d, want %d", time.Since(began), s.ReopenDays, changed.ReopenDays)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
