package email

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/store/storetest"
)

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n"))
}

func TestParsePlain(t *testing.T) {
	in, err := Parse(crlf(`
From: =?UTF-8?Q?Jo=C3=A3o_Silva?= <Joao@Example.COM>
To: support@shop.test
Subject: =?UTF-8?B?T25kZSBlc3TDoSBvIG1ldSBwZWRpZG8/?= [#42]
Message-ID: <abc123@mail.example.com>
In-Reply-To: <reply-1@shop.test>
References: <first@shop.test> <reply-1@shop.test>
Content-Type: text/plain; charset=utf-8

Olá, o pedido 1001 ainda não chegou.
`))
	if err != nil {
		t.Fatal(err)
	}
	if in.From.Value != "Joao@Example.COM" || in.Name != "João Silva" {
		t.Fatalf("from %+v %q", in.From, in.Name)
	}
	if in.Subject != "Onde está o meu pedido? [#42]" || in.TicketHint != 42 {
		t.Fatalf("subject %q hint %d", in.Subject, in.TicketHint)
	}
	if in.ExternalID != "abc123@mail.example.com" || strings.Join(in.ThreadRefs, " ") != "first@shop.test reply-1@shop.test reply-1@shop.test" {
		t.Fatalf("ids %q %v", in.ExternalID, in.ThreadRefs)
	}
	if in.Text != "Olá, o pedido 1001 ainda não chegou." || in.Auto != "" || len(in.Attachments) != 0 {
		t.Fatalf("body %q auto %q", in.Text, in.Auto)
	}
}

func TestParseAlternativeWithAttachmentsAndLatin1(t *testing.T) {
	in, err := Parse(crlf(`
From: Anna <anna@example.cz>
Subject: Reklamace
Message-ID: <m2@example.cz>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Dobr=FD den, bota je rozbit=E1.
--alt
Content-Type: text/html; charset=utf-8

<p>Dobrý den, <b>bota</b> je rozbitá.</p><img src="cid:photo1@x">
--alt--
--rel
Content-Type: image/png
Content-ID: <photo1@x>
Content-Disposition: inline
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--outer
Content-Type: application/pdf; name="faktura.pdf"
Content-Disposition: attachment; filename="faktura.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQ=
--outer--
`))
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "Dobrý den, bota je rozbitá." {
		t.Fatalf("text %q", in.Text)
	}
	if !strings.Contains(in.HTML, "<b>bota</b>") {
		t.Fatalf("html %q", in.HTML)
	}
	if len(in.Attachments) != 2 {
		t.Fatalf("attachments %+v", in.Attachments)
	}
	img, pdf := in.Attachments[0], in.Attachments[1]
	if img.ContentType != "image/png" || !strings.HasPrefix(img.Filename, "photo1@x") || string(img.Data[:4]) != "\x89PNG" {
		t.Fatalf("inline image %+v", img)
	}
	if pdf.Filename != "faktura.pdf" || pdf.ContentType != "application/pdf" || string(pdf.Data) != "%PDF-1.4" {
		t.Fatalf("pdf %+v", pdf)
	}
}

func TestParseHTMLOnlyAndMissingMessageID(t *testing.T) {
	raw := crlf(`
From: shop-fan@example.com
Subject: Hi
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red}</style></head><body><p>Line one&amp;more</p><div>Line two</div><script>x()</script></body></html>
`)
	a, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if a.Text != "Line one&more\nLine two" {
		t.Fatalf("text from html %q", a.Text)
	}
	b, _ := Parse(raw)
	if a.ExternalID == "" || a.ExternalID != b.ExternalID {
		t.Fatalf("derived ids %q %q", a.ExternalID, b.ExternalID)
	}
}

func TestParseMachineMail(t *testing.T) {
	cases := map[string]string{
		"Auto-Submitted: auto-replied\n":  "auto_reply",
		"Auto-Submitted: no\n":            "",
		"X-Autoreply: yes\n":              "auto_reply",
		"Precedence: bulk\n":              "bulk",
		"List-Id: <news.example.com>\n":   "bulk",
		"X-Auto-Response-Suppress: All\n": "auto_reply",
		"Precedence: first-class\n":       "",
		"X-Mailer: Thunderbird\n":         "",
	}
	for header, want := range cases {
		in, err := Parse(crlf("From: c@example.com\nSubject: Out of office\n" + header + "\nI am away.\n"))
		if err != nil {
			t.Fatal(err)
		}
		if in.Auto != want {
			t.Errorf("%q: auto %q, want %q", header, in.Auto, want)
		}
	}
	bounce, err := Parse(crlf(`
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

The mail could not be delivered.
--b
Content-Type: message/delivery-status

Final-Recipient: rfc822; nobody@example.com
Status: 5.1.1
--b--
`))
	if err != nil || bounce.Auto != "bounce" {
		t.Fatalf("bounce: %q %v", bounce.Auto, err)
	}
}

// TestParseMailWithoutSender: a message naming no sender is still read;
// the poller takes the sender from the IMAP envelope.
func TestParseMailWithoutSender(t *testing.T) {
	in, err := Parse(crlf("Subject: nobody\n\nhello\n"))
	if err != nil || in.From.Value != "" || in.Partial.String() == "" || in.Text != "hello" {
		t.Fatalf("from %q partial %q text %q err %v", in.From.Value, in.Partial.String(), in.Text, err)
	}
}

// TestParsedMailThreadsInTheDesk runs parsed messages through the real desk:
// a reply threads by References, a subject token works only for the
// ticket's own customer, and an auto-reply does not reopen.
func TestParsedMailThreadsInTheDesk(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Data(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ingest := func(raw string) *desk.Ingested {
		t.Helper()
		in, err := Parse(crlf(raw))
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Ingest(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := ingest("From: c@example.com\nSubject: Broken zip\nMessage-ID: <one@example.com>\n\nThe zip broke.\n")
	reply := ingest("From: c@example.com\nSubject: Re: Broken zip\nMessage-ID: <two@example.com>\nReferences: <one@example.com>\n\nAny news?\n")
	if reply.Ticket.ID != first.Ticket.ID {
		t.Fatal("reply did not thread by References")
	}
	token := ingest("From: c@example.com\nSubject: Re: [#1] Broken zip\nMessage-ID: <three@example.com>\n\nMy client lost the thread.\n")
	if token.Ticket.ID != first.Ticket.ID {
		t.Fatal("subject token from the ticket's customer did not thread")
	}
	stranger := ingest("From: mallory@example.com\nSubject: [#1] let me in\nMessage-ID: <four@example.com>\n\nhi\n")
	if stranger.Ticket.ID == first.Ticket.ID {
		t.Fatal("a stranger's subject token joined someone else's ticket")
	}
	if _, err := d.SetStatus(ctx, desk.System, first.Ticket.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	ooo := ingest("From: c@example.com\nSubject: Auto: Broken zip\nAuto-Submitted: auto-replied\nMessage-ID: <five@example.com>\nIn-Reply-To: <one@example.com>\n\nI am away.\n")
	if ooo.Ticket.Status != "resolved" || ooo.Message.Auto != "auto_reply" {
		t.Fatalf("auto-reply: status %s auto %q", ooo.Ticket.Status, ooo.Message.Auto)
	}
	again := ingest("From: c@example.com\nSubject: Re: Broken zip\nMessage-ID: <two@example.com>\nReferences: <one@example.com>\n\nAny news?\n")
	if !again.Duplicate {
		t.Fatal("the same Message-ID was stored twice")
	}
}

func TestBounceMarksOurReplyFailed(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Data(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	in, _ := Parse(crlf("From: gone@example.com\nSubject: Help\nMessage-ID: <h1@example.com>\n\nhelp\n"))
	first, err := d.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := d.Reply(ctx, desk.System, first.Ticket.ID, desk.ReplyInput{Body: "Here you go"})
	if err != nil {
		t.Fatal(err)
	}
	ourID, _ := d.OutboundExternalID(ctx, first.Ticket.ID, reply.ID, "shop.test")
	if err := d.RecordExternalID(ctx, reply.ID, ourID); err != nil {
		t.Fatal(err)
	}
	dsn, err := Parse(crlf(fmt.Sprintf(`
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.example.com>
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; gone@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: user unknown
--b
Content-Type: text/rfc822-headers

From: Shop <support@shop.test>
To: gone@example.com
Subject: Re: Help [#1]
Message-ID: <%s>
--b--
`, ourID)))
	if err != nil {
		t.Fatal(err)
	}
	if dsn.Auto != "bounce" || dsn.Mail.BounceOf != ourID || !strings.Contains(dsn.Mail.BounceReason, "user unknown") {
		t.Fatalf("parsed bounce: auto %q of %q reason %q", dsn.Auto, dsn.Mail.BounceOf, dsn.Mail.BounceReason)
	}
	if _, err := d.SetStatus(ctx, desk.System, first.Ticket.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	res, err := d.Ingest(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := db.Message(ctx, reply.ID)
	if m.Delivery != "failed" || !strings.Contains(m.DeliveryError, "user unknown") {
		t.Fatalf("our reply after the bounce: %q %q", m.Delivery, m.DeliveryError)
	}
	if res.Ticket.ID != first.Ticket.ID || res.Ticket.Status != "resolved" {
		t.Fatalf("the bounce went to ticket %d (%s), want %d unchanged", res.Ticket.ID, res.Ticket.Status, first.Ticket.ID)
	}
}
