package cli

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"

	"onedesk/desk/desktest"
	"onedesk/privacy"
	"onedesk/store"
)

// Erasing a customer on a desk with --files deletes their files' objects
// from the S3-compatible store too, once no row names them.
func TestErasureDeletesFilesInS3(t *testing.T) {
	ctx := context.Background()
	spec, backend, _ := fakeS3(t, "desk")
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "desk.db"), store.WithFiles(spec))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	buildDesk(t, db)
	objects := func() int {
		list, err := backend.ListBucket("desk", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
		if err != nil {
			t.Fatal(err)
		}
		return len(list.Contents)
	}
	if n := objects(); n != 4 {
		t.Fatalf("%d objects before, want 4 (photo, invoice, receipt, raw mail)", n)
	}
	list, _, err := db.ListTickets(ctx, store.TicketFilter{Query: "refund", Limit: 5})
	if err != nil || len(list) == 0 {
		t.Fatalf("Ana's ticket: %v", err)
	}
	n, err := privacy.New(desktest.Wire(t, db), desktest.Log()).Erase(ctx, list[0].CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Files != 4 {
		t.Errorf("erasure deleted %d files, want 4", n.Files)
	}
	if n := objects(); n != 0 {
		t.Errorf("%d objects left in the bucket after the erasure", n)
	}
}
