package reports_test

import (
	"context"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
)

// Run counts what the desk commits as it happens and stops with its
// context.
func TestRunFollowsCommits(t *testing.T) {
	d, db, _, rs := newReports(t)
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rs.Run(c, d, 20*time.Millisecond); close(done) }()
	caughtUp := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			behind, err := db.ReportBehind(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if behind == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d events and messages not counted after 20 s", what, behind)
			}
		}
	}
	for i := range 3 {
		desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "Live", Text: "one"})
		caughtUp("ticket " + string(rune('1'+i)))
	}
	cancel()
	<-done
}
