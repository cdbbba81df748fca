package desk_test

import (
	"errors"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// Accounts is one view over the three places channel accounts live:
// mailboxes, stores and their forms, social accounts; it notices when
// one of them stops working, and the first-run checklist reads it.
func TestAccountsViewsEveryChannel(t *testing.T) {
	d, _, raw := newDeskRaw(t)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shop", Slug: "shop", Language: "en", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	text := func(s string) *string { return &s }
	mb, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("help@shop.test"), IMAPHost: text("imap.shop.test"),
		SMTPHost: text("smtp.shop.test"), StoreID: desk.Optional[int64]{Set: true, Value: &st.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveForm(ctx, &store.Form{StoreID: &st.ID, Slug: "contact", Title: "Contact us", Enabled: true,
		FormDefinition: store.FormDefinition{Fields: []store.FormField{{Name: "email", Label: "Email", Type: "email", Required: true}}}}); err != nil {
		t.Fatal(err)
	}
	exec(t, raw, `INSERT INTO social_accounts (id, platform, handle, external_id, enabled, state, created_at, updated_at)
		VALUES (3, 'telegram', '@shop_bot', '42', 1, '{"last_error": "Unauthorized"}', 0, 0)`)
	changed := d.AccountChanges("email")
	select {
	case <-changed: // the mailbox saved above
	default:
		t.Fatal("saving a mailbox did not signal the email channel")
	}

	list, err := d.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]desk.Account{}
	for _, a := range list {
		got[a.Channel] = a
	}
	if a := got["email"]; len(list) != 4 || a.ID != mb.ID || a.Name != "help@shop.test" || !a.Enabled || a.StoreID == nil || *a.StoreID != st.ID {
		t.Fatalf("accounts %+v", list)
	}
	if a := got["chat"]; a.ID != st.ID || a.Name != "Shop" || a.Problem != "" {
		t.Fatalf("chat %+v", a)
	}
	if a := got["form"]; a.Name != "Contact us" || !a.Enabled {
		t.Fatalf("form %+v", a)
	}
	if a := got["telegram"]; a.ID != 3 || a.Name != "@shop_bot" || a.Problem != "Unauthorized" {
		t.Fatalf("telegram %+v", a)
	}

	// A mailbox failing for longer than a few polls says why.
	d.RecordPoll(ctx, mb.ID, errors.New("the server refused the password"), 0)
	exec(t, raw, `UPDATE mailboxes SET failing_since = ?`, time.Now().Add(-time.Hour).UnixMilli())
	if list, err = d.Accounts(ctx); err != nil || list[0].Problem == "" {
		t.Fatalf("a stuck mailbox: %+v, %v", list, err)
	}
	c, err := d.Checklist(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Steps {
		if s.Key != "snippet" && s.Key != "teammate" && !s.Done {
			t.Fatalf("checklist %+v", c.Steps)
		}
	}
}
