package desk_test

import (
	"testing"
	"time"

	"onedesk/desk"
)

// A reply that names no message (old Outlook Express, Foxmail, some
// phones) joins the same customer's recent ticket by its subject; nobody
// else's, not a closed or old one, and never without a reply marker.
func TestReplyWithoutReferencesJoinsBySubject(t *testing.T) {
	d, _, raw := newDeskRaw(t)
	first := ingest(t, d, desk.Inbound{From: email("ana@example.com"), Subject: "Order 1001 missing", Text: "Where is it?", ExternalID: "a1@x"})

	cases := []struct {
		name, from, subject, id string
		refs                    []string
		same                    bool
	}{
		{"re", "ana@example.com", "Re: Order 1001 missing", "a2@x", nil, true},
		{"stacked markers, case, spaces", "ANA@example.com", "RE: AW:  order 1001   MISSING", "a3@x", nil, true},
		{"counter and token", "ana@example.com", "Re[2]: [#9] Order 1001 missing [#9]", "a4@x", nil, true},
		{"Russian and Turkish markers", "ana@example.com", "Ответ: Ynt: Order 1001 missing", "a5@x", nil, true},
		{"someone else", "bob@example.com", "Re: Order 1001 missing", "b1@x", nil, false},
		{"no reply marker", "ana@example.com", "Order 1001 missing", "a6@x", nil, false},
		{"other subject", "ana@example.com", "Re: Order 1002 missing", "a7@x", nil, false},
		{"references elsewhere", "ana@example.com", "Re: Order 1001 missing", "a8@x", []string{"unknown@elsewhere"}, false},
	}
	for _, c := range cases {
		res := ingest(t, d, desk.Inbound{From: email(c.from), Subject: c.subject, Text: "more", ExternalID: c.id, ThreadRefs: c.refs})
		if got := res.Ticket.ID == first.Ticket.ID; got != c.same {
			t.Errorf("%s: on the first ticket %v, want %v", c.name, got, c.same)
		}
	}

	// A week and more later, or once closed, a "Re:" starts a new ticket.
	if _, err := raw.Exec(`UPDATE tickets SET updated_at = ? WHERE id = ?`, time.Now().Add(-8*24*time.Hour).UnixMilli(), first.Ticket.ID); err != nil {
		t.Fatal(err)
	}
	if res := ingest(t, d, desk.Inbound{From: email("ana@example.com"), Subject: "Re: Order 1001 missing", Text: "late", ExternalID: "a9@x"}); res.Ticket.ID == first.Ticket.ID {
		t.Error("a reply eight days after the ticket last changed joined it")
	}
	other := ingest(t, d, desk.Inbound{From: email("cy@example.com"), Subject: "Refund", Text: "please", ExternalID: "c1@x"})
	if _, err := d.SetStatus(ctx, desk.System, other.Ticket.ID, "closed"); err != nil {
		t.Fatal(err)
	}
	if res := ingest(t, d, desk.Inbound{From: email("cy@example.com"), Subject: "Re: Refund", Text: "again", ExternalID: "c2@x"}); res.Ticket.ID == other.Ticket.ID {
		t.Error("a reply joined a closed ticket by its subject")
	}
}

func TestReplySubject(t *testing.T) {
	for in, want := range map[string]struct {
		s     string
		reply bool
	}{
		"Re: Hello":              {"Hello", true},
		"RE: Re: AW: Hello":      {"Hello", true},
		"Sv: Vs: Hello":          {"Hello", true},
		"Re^2: Hello [#12]":      {"Hello", true},
		"[#12] Hello":            {"Hello", false},
		"Hello":                  {"Hello", false},
		"Regarding the order":    {"Regarding the order", false},
		"Отв: Заказ":             {"Заказ", true},
		"Re：全角":                  {"全角", true},
		"Fwd: Hello":             {"Fwd: Hello", false},
		"[dovecot] Re: Hello":    {"Hello", true},
		"[a] [b] Hello":          {"Hello", false},
		"  Re :  spaced   out  ": {"spaced out", true},
	} {
		s, reply := desk.ReplySubject(in)
		if s != want.s || reply != want.reply {
			t.Errorf("ReplySubject(%q) = %q, %v; want %q, %v", in, s, reply, want.s, want.reply)
		}
	}
}
