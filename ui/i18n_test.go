package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
	"onedesk/ui"
)

// Error answers are written in the request's language: its Accept-Language
// (the app sends the agent's choice), else the agent's saved language,
// else English.
func TestErrorsInRequestLanguage(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	bad := map[string]any{"subject": "Hello", "body": "Hi", "customer": map[string]string{"email": "carla@example.com"}, "priority": "soon"}
	english := `priority must be one of [low normal high urgent], not "soon"`

	msg, field := admin.must(400, "POST", "/api/tickets", bad).err(t)
	if msg != english || field != "priority" {
		t.Fatalf("English: %q %q", msg, field)
	}
	want := map[string]string{
		"pt": `priority tem de ser um de [low normal high urgent], não "soon"`,
		"tr": `priority şunlardan biri olmalı: [low normal high urgent]; "soon" değil`,
		"cs": `priority musí být jedno z [low normal high urgent], ne "soon"`,
		"ru": `priority должно быть одним из [low normal high urgent], а не "soon"`,
	}
	for lang, sentence := range want {
		admin.lang = lang + ";q=0.9, de;q=0.8"
		if msg, field := admin.must(400, "POST", "/api/tickets", bad).err(t); msg != sentence || field != "priority" {
			t.Errorf("%s: %q (%s), want %q", lang, msg, field, sentence)
		}
	}
	// The agent's saved language speaks when the request names none we
	// have; a header that names one wins over it.
	admin.lang = ""
	admin.must(200, "PATCH", "/api/me", map[string]string{"language": "cs"})
	if msg, _ := admin.must(400, "POST", "/api/tickets", bad).err(t); msg != want["cs"] {
		t.Errorf("saved language: %q", msg)
	}
	admin.lang = "de-DE"
	if msg, _ := admin.must(400, "POST", "/api/tickets", bad).err(t); msg != want["cs"] {
		t.Errorf("unknown header, saved language: %q", msg)
	}
	admin.lang = "ru"
	if msg, _ := admin.must(400, "POST", "/api/tickets", bad).err(t); msg != want["ru"] {
		t.Errorf("header over saved language: %q", msg)
	}
	// Errors of the HTTP layer itself (a broken body, a missing ticket).
	if msg, _ := admin.must(400, "POST", "/api/tickets", "{").err(t); msg != "тело запроса — недопустимый JSON" {
		t.Errorf("ru body: %q", msg)
	}
	if msg, _ := admin.must(404, "GET", "/api/tickets/999999", nil).err(t); msg != "обращение 999999 не существует" {
		t.Errorf("ru not found: %q", msg)
	}
	// Before login: the header alone.
	anon := e.client()
	anon.lang = "pt-PT,pt;q=0.9"
	if msg, _ := anon.must(401, "POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "wrong"}).err(t); msg != "e-mail ou senha errados" {
		t.Errorf("pt login: %q", msg)
	}
}

// A delivery failure and a mailbox's poll error are stored with their
// sentence and read in the reader's language; the English stays in the
// database for logs.
func TestStoredSentencesInReaderLanguage(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ctx := context.Background()
	in, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: "rui@example.pt"},
		Subject: "Encomenda", Text: "Olá", ExternalID: "i18n-1@example.pt"})
	if err != nil {
		t.Fatal(err)
	}
	// No email sender runs in this server: the reply fails for good.
	var reply struct{ ID int64 }
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d", in.Ticket.ID)+"/messages", map[string]any{"body": "Olá Rui"}).json(t, &reply)
	english := "the email channel cannot send replies yet"
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := e.db.Message(ctx, reply.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Delivery == "failed" {
			if m.DeliveryError != english {
				t.Fatalf("stored English %q", m.DeliveryError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reply still %q", m.Delivery)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var d struct {
		Messages []struct {
			ID            int64
			DeliveryError string `json:"delivery_error"`
		}
	}
	for lang, want := range map[string]string{"": english, "tr": "email kanalı henüz yanıt gönderemiyor", "ru": "канал email пока не умеет отправлять ответы"} {
		admin.lang = lang
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", in.Ticket.ID), nil).json(t, &d)
		got := ""
		for _, m := range d.Messages {
			if m.ID == reply.ID {
				got = m.DeliveryError
			}
		}
		if got != want {
			t.Errorf("%q: delivery_error %q, want %q", lang, got, want)
		}
	}

	var mb struct{ ID int64 }
	admin.lang = ""
	admin.must(201, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "imap_host": "127.0.0.1", "imap_port": 1,
		"imap_username": "help", "imap_password": "x", "smtp_host": "127.0.0.1", "smtp_port": 1}).json(t, &mb)
	e.desk.RecordPoll(ctx, mb.ID, i18n.Errorf("the host %s was not found: check the server name", "imap.nowhere.test"), 0)
	var list struct {
		Mailboxes []struct {
			ID        int64
			LastError string `json:"last_error"`
		}
	}
	admin.lang = "cs"
	admin.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
	if len(list.Mailboxes) != 1 || list.Mailboxes[0].LastError != "hostitel imap.nowhere.test nebyl nalezen: zkontrolujte název serveru" {
		t.Errorf("cs mailboxes: %+v", list.Mailboxes)
	}

	// A webhook whose server refuses: its status in our words, not its own.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	var hook struct{ ID int64 }
	admin.lang = ""
	admin.must(201, "POST", "/api/webhooks", map[string]any{"name": "CRM", "url": down.URL, "events": []string{"ticket.created"}}).json(t, &hook)
	admin.must(202, "POST", fmt.Sprintf("/api/webhooks/%d/test", hook.ID), nil)
	if err := e.hooks.Deliver(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	var deliveries struct{ Deliveries []struct{ Error string } }
	var w struct {
		LastError string `json:"last_error"`
	}
	admin.lang = "pt"
	admin.must(200, "GET", fmt.Sprintf("/api/webhooks/%d/deliveries", hook.ID), nil).json(t, &deliveries)
	admin.must(200, "GET", fmt.Sprintf("/api/webhooks/%d", hook.ID), nil).json(t, &w)
	want := "o servidor respondeu 503 Service Unavailable"
	if len(deliveries.Deliveries) != 1 || deliveries.Deliveries[0].Error != want || w.LastError != want {
		t.Errorf("pt webhook: %+v, %q", deliveries.Deliveries, w.LastError)
	}
}
