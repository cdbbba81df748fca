package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"onedesk/channels/email/emailtest"
)

// api is a bearer-token client of a running desk.
type api struct {
	t     *testing.T
	base  string
	token string
}

func (a *api) do(method, path string, body any, out any) int {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, r)
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		a.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, rb)
		}
	}
	return res.StatusCode
}

type threadView struct {
	Status          string  `json:"status"`
	FirstResponseAt *string `json:"first_response_at"`
	Messages        []struct {
		ID          int64   `json:"id"`
		Body        string  `json:"body"`
		Delivery    string  `json:"delivery"`
		ScheduledAt *string `json:"scheduled_at"`
	} `json:"messages"`
	Events []struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	} `json:"events"`
	Snooze *struct {
		WakeAt *string `json:"wake_at"`
	} `json:"snooze"`
}

func (v threadView) woke() string {
	for _, e := range v.Events {
		if e.Type == "woke" {
			return string(e.Data)
		}
	}
	return ""
}

// appendMail delivers a mail to the test inbox over IMAP.
func appendMail(t *testing.T, imapAddr, msg string) {
	t.Helper()
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	cmd := c.Append("INBOX", int64(len(msg)), nil)
	cmd.Write([]byte(msg))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func mail(from, subject, id, inReplyTo, text string) string {
	h := "From: " + from + "\r\nTo: support@shop.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + ">\r\n"
	if inReplyTo != "" {
		h += "In-Reply-To: <" + inReplyTo + ">\r\nReferences: <" + inReplyTo + ">\r\n"
	}
	return h + "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\n" + text + "\r\n"
}

// TestSnoozeAndScheduledRepliesAcrossRestart snoozes two tickets (one
// until a time, one until the customer writes) and schedules two replies
// (one edited, one cancelled), stops the desk, and starts it again once
// the times passed: the first ticket wakes by time, the edited reply
// reaches the SMTP server once with its new text and the cancelled one
// never, and the second ticket sleeps on until its customer's mail comes
// in through the IMAP poller.
func TestSnoozeAndScheduledRepliesAcrossRestart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "desk.db")
	imapAddr := imapInbox(t)
	sink, smtpAddr := emailtest.SMTP(t)
	cfg := ServeConfig{Data: data, APIRate: -1, AllowPrivateNetworks: true}
	addr, stop, done := startServe(t, cfg)
	base := "http://" + addr
	admin, csrf := owner(t, base, &http.Client{})
	var tok struct{ Token string }
	postJSON(t, admin, base+"/api/tokens", csrf, map[string]string{"name": "test"}, &tok)
	a := &api{t: t, base: base, token: tok.Token}
	var shop struct{ ID int64 }
	a.do("POST", "/api/stores", map[string]string{"name": "Shop", "slug": "shop"}, &shop)
	imapHost, imapPort := splitHostPort(t, imapAddr)
	smtpHost, smtpPort := splitHostPort(t, smtpAddr)
	a.do("POST", "/api/mailboxes", map[string]any{"address": "support@shop.test", "name": "Support",
		"store_id": shop.ID, "imap_host": imapHost, "imap_port": imapPort, "imap_security": "none",
		"imap_username": "support", "imap_password": "secret", "imap_folder": "INBOX",
		"smtp_host": smtpHost, "smtp_port": smtpPort, "smtp_security": "none", "poll_seconds": 5, "start_from": "all"}, nil)

	appendMail(t, imapAddr, mail("Ana <ana@customer.test>", "Late parcel", "ana-1@customer.test", "", "Where is it?"))
	appendMail(t, imapAddr, mail("Ben <ben@customer.test>", "Refund", "ben-1@customer.test", "", "Any news on my refund?"))
	ids := map[string]int64{}
	waitUntil(t, 60*time.Second, "both mails become tickets", func() bool {
		var list struct {
			Tickets []struct {
				ID      int64
				Subject string
			}
		}
		a.do("GET", "/api/tickets", nil, &list)
		for _, tk := range list.Tickets {
			ids[tk.Subject] = tk.ID
		}
		return len(ids) == 2
	})
	ana, ben := ids["Late parcel"], ids["Refund"]

	due := time.Now().Add(12 * time.Second).UTC()
	at := due.Format(time.RFC3339)
	a.do("POST", fmt.Sprintf("/api/tickets/%d/snooze", ana), map[string]string{"until": at}, nil)
	a.do("POST", fmt.Sprintf("/api/tickets/%d/snooze", ben), map[string]string{"preset": "customer_reply"}, nil)
	var draft, cancelled struct{ ID int64 }
	a.do("POST", fmt.Sprintf("/api/tickets/%d/messages", ben), map[string]any{"body": "First draft", "send_at": at}, &draft)
	a.do("POST", fmt.Sprintf("/api/tickets/%d/messages", ben), map[string]any{"body": "Never send this", "send_at": at}, &cancelled)
	a.do("PATCH", fmt.Sprintf("/api/messages/%d", draft.ID), map[string]any{"body": "Your refund went out today.", "send_at": at}, nil)
	a.do("DELETE", fmt.Sprintf("/api/messages/%d", cancelled.ID), nil, nil)

	var v threadView
	a.do("GET", fmt.Sprintf("/api/tickets/%d", ben), nil, &v)
	scheduled := 0
	for _, m := range v.Messages {
		if m.Delivery == "scheduled" {
			scheduled++
			if m.Body != "Your refund went out today." || m.ScheduledAt == nil {
				t.Fatalf("scheduled reply: %+v", m)
			}
		}
	}
	if scheduled != 1 || v.Status != "pending" || v.Snooze == nil || v.Snooze.WakeAt != nil || v.FirstResponseAt != nil {
		t.Fatalf("before the restart: %d scheduled, %s, snooze %+v", scheduled, v.Status, v.Snooze)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d mails went before their time", n)
	}
	waitUntil(t, 30*time.Second, "the times pass while the desk is down", func() bool { return time.Now().After(due.Add(time.Second)) })

	addr, _, _ = startServe(t, cfg)
	a.base = "http://" + addr
	waitUntil(t, 30*time.Second, "the snoozed ticket wakes by time", func() bool {
		var v threadView
		a.do("GET", fmt.Sprintf("/api/tickets/%d", ana), nil, &v)
		return v.Status == "open" && v.Snooze == nil && strings.Contains(v.woke(), `"time"`)
	})
	waitUntil(t, 30*time.Second, "the scheduled reply is sent", func() bool {
		var v threadView
		a.do("GET", fmt.Sprintf("/api/tickets/%d", ben), nil, &v)
		for _, m := range v.Messages {
			if m.ID == draft.ID {
				return m.Delivery == "sent" && v.FirstResponseAt != nil // answered when it went
			}
		}
		return false
	})
	sent := sink.Messages()
	if len(sent) != 1 || !strings.Contains(sent[0], "Your refund went out today.") || strings.Contains(sent[0], "Never send") ||
		!strings.Contains(sent[0], "ben@customer.test") {
		t.Fatalf("the sink got %d mails: %q", len(sent), sent)
	}

	// Ben's ticket still sleeps, until he writes.
	a.do("GET", fmt.Sprintf("/api/tickets/%d", ben), nil, &v)
	if v.Status != "pending" || v.Snooze == nil {
		t.Fatalf("ben's ticket after the restart: %s %+v", v.Status, v.Snooze)
	}
	appendMail(t, imapAddr, mail("Ben <ben@customer.test>", "Re: Refund", "ben-2@customer.test", "ben-1@customer.test", "Got it, thanks!"))
	waitUntil(t, 60*time.Second, "the customer's reply wakes the ticket", func() bool {
		var v threadView
		a.do("GET", fmt.Sprintf("/api/tickets/%d", ben), nil, &v)
		return v.Status == "open" && v.Snooze == nil && strings.Contains(v.woke(), `"customer"`)
	})
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("the sink got %d mails in the end", n)
	}
}
