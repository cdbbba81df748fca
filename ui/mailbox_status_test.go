package ui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
	"onedesk/ui"
)

// TestMailboxStatus: the mailbox's status (Settings → Mailboxes),
// /healthz and /metrics show its last import, the messages read only in
// part, and a mailbox stuck at one message, until it works again.
func TestMailboxStatus(t *testing.T) {
	e := newEnv(t, ui.Options{Version: "v1"})
	admin := e.admin()
	api := admin.apiClient()
	ctx := context.Background()
	str := func(s string) *string { return &s }
	mb, err := e.desk.SaveMailbox(ctx, 0, desk.MailboxInput{Address: str("help@shop.test"), IMAPHost: str("imap.shop.test"),
		IMAPUsername: str("help"), IMAPPassword: "pw", SMTPHost: str("smtp.shop.test")})
	if err != nil {
		t.Fatal(err)
	}
	mail := func(uid uint32, subject string, partial i18n.Sentences) {
		t.Helper()
		_, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: "carla@example.com"},
			Subject: subject, Text: "Hello", ExternalID: fmt.Sprintf("m%d@example.com", uid), Partial: partial,
			Mail: desk.MailSource{MailboxID: mb.ID, Cursor: &desk.Cursor{UIDValidity: 1, UID: uid}, Raw: []byte("Subject: " + subject + "\r\n\r\nHello")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// What the parser and the intake note of a message whose From is
	// broken: said in the reader's language.
	broken := i18n.Sentences{
		i18n.S("No sender address could be read (From: %s).", "Carla <carla(at)example>"),
		i18n.S("The message is filed under the mailbox's unknown sender, and replies cannot be sent."),
	}
	english := "No sender address could be read (From: Carla <carla(at)example>). The message is filed under the mailbox's unknown sender, and replies cannot be sent."
	mail(1, "Broken header", broken)
	mail(2, "Where is my parcel?", nil)

	type intake struct {
		MessageID  int64     `json:"message_id"`
		TicketID   int64     `json:"ticket_id"`
		Subject    string    `json:"subject"`
		Partial    string    `json:"partial"`
		ImportedAt time.Time `json:"imported_at"`
	}
	var list struct {
		Mailboxes []struct {
			ID           int64
			Stuck        string
			LastMessage  *intake  `json:"last_message"`
			PartialCount int      `json:"partial_count"`
			Partial      []intake `json:"partial"`
		}
	}
	admin.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
	got := list.Mailboxes[0]
	if got.LastMessage == nil || got.LastMessage.Subject != "Where is my parcel?" || got.PartialCount != 1 ||
		len(got.Partial) != 1 || got.Partial[0].Subject != "Broken header" || got.Partial[0].Partial != english ||
		got.Partial[0].TicketID == 0 || got.Stuck != "" {
		t.Fatalf("status %+v", got)
	}

	translated := map[string]string{
		"pt": "Não foi possível ler nenhum endereço de remetente (From: Carla <carla(at)example>). A mensagem foi arquivada no remetente desconhecido da caixa de correio, e não é possível responder-lhe.",
		"ru": "Не удалось прочитать ни одного адреса отправителя (From: Carla <carla(at)example>). Сообщение отнесено к неизвестному отправителю этого почтового ящика, ответить на него нельзя.",
	}
	var detail struct {
		Messages []struct{ Body, Partial string }
	}
	for _, lang := range []string{"pt", "ru"} {
		admin.lang = lang
		admin.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
		if p := list.Mailboxes[0].Partial; len(p) != 1 || p[0].Partial != translated[lang] {
			t.Errorf("%s: mailbox partial list %+v", lang, p)
		}
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", got.Partial[0].TicketID), nil).json(t, &detail)
		if len(detail.Messages) != 1 || detail.Messages[0].Partial != translated[lang] || detail.Messages[0].Body != "Hello" {
			t.Errorf("%s: ticket messages %+v", lang, detail.Messages)
		}
	}
	admin.lang = ""

	// Three polls in a row fail at the same message: stuck.
	for range 3 {
		e.desk.RecordPoll(ctx, mb.ID, errors.New("import uid 3: database is locked"), 3)
	}
	admin.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
	if s := list.Mailboxes[0].Stuck; !strings.Contains(s, "UID 3") || !strings.Contains(s, "database is locked") {
		t.Fatalf("stuck %q", s)
	}
	var h struct {
		Status, Error string
		Mailboxes     []struct{ Status, Stuck string }
	}
	admin.must(200, "GET", "/healthz", nil).json(t, &h)
	if h.Status != "degraded" || !strings.Contains(h.Error, "help@shop.test") || h.Mailboxes[0].Status != "stuck" || h.Mailboxes[0].Stuck == "" {
		t.Fatalf("healthz %+v", h)
	}
	id := fmt.Sprint(mb.ID)
	m := api.scrape()
	for series, want := range map[string]float64{
		`onedesk_mailbox_stuck{mailbox="` + id + `"}`:            1,
		`onedesk_mailbox_partial_messages{mailbox="` + id + `"}`: 1,
		`onedesk_mail_imported_total{mailbox="` + id + `"}`:      2,
		`onedesk_mail_partial_total{mailbox="` + id + `"}`:       1,
		`onedesk_mail_poll_errors_total{mailbox="` + id + `"}`:   3,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}

	// It works again: no longer stuck anywhere.
	e.desk.RecordPoll(ctx, mb.ID, nil, 0)
	admin.must(200, "GET", "/healthz", nil).json(t, &h)
	if h.Status != "ok" || h.Mailboxes[0].Status != "ok" {
		t.Fatalf("healthz after a good poll %+v", h)
	}
	if m := api.scrape(); m[`onedesk_mailbox_stuck{mailbox="`+id+`"}`] != 0 {
		t.Errorf("still stuck in /metrics")
	}
}
