package email

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"

	"onedesk/desk"
)

// encode writes s in a legacy charset, for raw 8-bit samples.
func encode(t *testing.T, enc encoding.Encoding, s string) string {
	t.Helper()
	b, err := enc.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func mustParseIn(t *testing.T, raw []byte) desk.Inbound {
	t.Helper()
	return mustParse(t, raw).in
}

func mustParse(t *testing.T, raw []byte) parsed {
	t.Helper()
	in, recipients, err := parse(raw)
	if err != nil {
		t.Fatalf("parse failed: %v", err)
	}
	return parsed{in, recipients}
}

type parsed struct {
	in         desk.Inbound
	recipients []string
}

// TestParseRealMailHeaders: each kind of broken header met in real mail
// loses that field at most, never the message.
func TestParseRealMailHeaders(t *testing.T) {
	t.Run("spam From that is no address falls back to Reply-To", func(t *testing.T) {
		p := mustParse(t, crlf(`
From: "Millions Lottery Spain transfer"@example.com>
Reply-To: claims@lottery.example.net
To: undisclosed-recipients:;
Subject: You have won 1,000,000 EUR
Message-ID: <spam1@example.com>
Content-Type: text/plain; charset=us-ascii

Contact our agent to claim your prize.
`))
		if p.in.From.Value != "claims@lottery.example.net" || p.in.Subject != "You have won 1,000,000 EUR" {
			t.Fatalf("from %q subject %q", p.in.From.Value, p.in.Subject)
		}
		if !strings.Contains(p.in.Partial.String(), "Reply-To") || !strings.Contains(p.in.Partial.String(), "Millions Lottery") {
			t.Fatalf("partial %q", p.in.Partial.String())
		}
		if p.in.Text != "Contact our agent to claim your prize." || p.in.ExternalID != "spam1@example.com" {
			t.Fatalf("text %q id %q", p.in.Text, p.in.ExternalID)
		}
	})

	t.Run("no usable sender anywhere", func(t *testing.T) {
		p := mustParse(t, crlf(`
From: "Millions Lottery Spain transfer"@example.com>
Subject: win
Return-Path: <>

text
`))
		if p.in.From.Value != "" || !strings.Contains(p.in.Partial.String(), "No sender address") || p.in.Text != "text" {
			t.Fatalf("from %q partial %q text %q", p.in.From.Value, p.in.Partial.String(), p.in.Text)
		}
	})

	t.Run("empty From and a second From", func(t *testing.T) {
		p := mustParse(t, crlf(`
From:
From: Second <second@example.org>
Subject: two From fields

hi
`))
		if p.in.From.Value != "second@example.org" || p.in.Name != "Second" {
			t.Fatalf("from %q name %q", p.in.From.Value, p.in.Name)
		}
	})

	t.Run("empty From falls back to Sender", func(t *testing.T) {
		p := mustParse(t, crlf(`
From: <>
Sender: list-bounces@lists.example.org
Subject: x

hi
`))
		if p.in.From.Value != "list-bounces@lists.example.org" || !strings.Contains(p.in.Partial.String(), "Sender") {
			t.Fatalf("from %q partial %q", p.in.From.Value, p.in.Partial.String())
		}
	})

	t.Run("encoded-word display name holding a comma", func(t *testing.T) {
		p := mustParse(t, crlf(`
From: =?UTF-8?Q?M=C3=BCller=2C_Hans?= <hans.mueller@example.de>
To: =?ISO-8859-1?Q?Gr=FC=DFe=2C_Team?= <support@shop.test>, "Doe, Jane" <jane@example.com>
Subject: Bestellung

Hallo
`))
		if p.in.From.Value != "hans.mueller@example.de" || p.in.Name != "Müller, Hans" || p.in.Partial.String() != "" {
			t.Fatalf("from %q name %q partial %q", p.in.From.Value, p.in.Name, p.in.Partial.String())
		}
		if strings.Join(p.recipients, " ") != "support@shop.test jane@example.com" || p.in.CC[1].Name != "Doe, Jane" {
			t.Fatalf("recipients %q cc %+v", p.recipients, p.in.CC)
		}
	})

	t.Run("several From addresses", func(t *testing.T) {
		p := mustParse(t, crlf(`
From: Ann <ann@example.com>, Bob <bob@example.com>
Sender: Ann <ann@example.com>
Subject: from both of us

hello
`))
		if p.in.From.Value != "ann@example.com" || p.in.Name != "Ann" || p.in.Partial.String() != "" {
			t.Fatalf("from %q partial %q", p.in.From.Value, p.in.Partial.String())
		}
	})

	t.Run("one bad address among several keeps the others", func(t *testing.T) {
		p := mustParse(t, crlf(`
From: Real <real@example.com>
To: support@shop.test, broken@@, "Ana" <ana@example.com>
Subject: x

hi
`))
		if strings.Join(p.recipients, " ") != "support@shop.test ana@example.com" {
			t.Fatalf("recipients %q", p.recipients)
		}
	})

	t.Run("raw GB2312 bytes in header and filename", func(t *testing.T) {
		gb := simplifiedchinese.GBK
		raw := "From: " + encode(t, gb, "王小明") + " <wang@example.cn>\r\n" +
			"Subject: " + encode(t, gb, "关于订单的问题，请尽快回复") + "\r\n" +
			"Content-Type: multipart/mixed; boundary=\"gb\"\r\n\r\n" +
			"--gb\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n" + encode(t, gb, "您好，我的订单还没有到。") + "\r\n" +
			"--gb\r\nContent-Type: application/octet-stream; name=\"" + encode(t, gb, "发票.pdf") + "\"\r\n" +
			"Content-Disposition: attachment; filename=\"" + encode(t, gb, "发票.pdf") + "\"\r\n\r\nPDF\r\n--gb--\r\n"
		p := mustParse(t, []byte(raw))
		if p.in.Name != "王小明" || p.in.Subject != "关于订单的问题，请尽快回复" || p.in.Text != "您好，我的订单还没有到。" {
			t.Fatalf("name %q subject %q text %q", p.in.Name, p.in.Subject, p.in.Text)
		}
		if len(p.in.Attachments) != 1 || p.in.Attachments[0].Filename != "发票.pdf" {
			t.Fatalf("attachments %+v", p.in.Attachments)
		}
	})

	t.Run("raw Latin-1 bytes in header", func(t *testing.T) {
		raw := "From: " + encode(t, charmap.ISO8859_1, "José Müller") + " <jose@example.es>\r\n" +
			"Subject: " + encode(t, charmap.ISO8859_1, "Pedido número 1001: ¿dónde está?") + "\r\n\r\nHola\r\n"
		p := mustParse(t, []byte(raw))
		if p.in.Name != "José Müller" || p.in.Subject != "Pedido número 1001: ¿dónde está?" {
			t.Fatalf("name %q subject %q", p.in.Name, p.in.Subject)
		}
	})

	t.Run("leading mbox From line", func(t *testing.T) {
		p := mustParse(t, crlf(`
From alice@example.com Mon Jul  8 12:08:34 2024
Return-Path: <alice@example.com>
From: Alice <alice@example.com>
Subject: from an mbox

Body of the mbox message.
`))
		if p.in.From.Value != "alice@example.com" || p.in.Subject != "from an mbox" || p.in.Text != "Body of the mbox message." {
			t.Fatalf("from %q subject %q text %q", p.in.From.Value, p.in.Subject, p.in.Text)
		}
	})

	t.Run("message starting with malformed lines", func(t *testing.T) {
		p := mustParse(t, crlf(`
>From bounce@example.com  Tue Mar  4 10:00:00 2003
X-Spam-Status No, hits=0.0
From: Bob <bob@example.com>
Subject: starts badly
Message-ID: <bad-start@example.com>

Still readable.
`))
		if p.in.From.Value != "bob@example.com" || p.in.Subject != "starts badly" || p.in.Text != "Still readable." || p.in.ExternalID != "bad-start@example.com" {
			t.Fatalf("%+v", p.in)
		}
	})

	t.Run("broken fold in the middle of the header", func(t *testing.T) {
		p := mustParse(t, crlf(`
From: Carol <carol@example.com>
Subject: a subject that was
folded without its space
Message-ID: <fold@example.com>

Body.
`))
		if p.in.Subject != "a subject that was folded without its space" || p.in.ExternalID != "fold@example.com" || p.in.Text != "Body." {
			t.Fatalf("subject %q id %q text %q", p.in.Subject, p.in.ExternalID, p.in.Text)
		}
	})
}

// TestParseRealMailParts: awkward MIME structure and charsets.
func TestParseRealMailParts(t *testing.T) {
	t.Run("part without Content-Type", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: a@example.com
Content-Type: multipart/mixed; boundary=nb

--nb

Text of a part with no header at all.
--nb
Content-Disposition: attachment; filename="data.bin"

0123
--nb--
`))
		if in.Text != "Text of a part with no header at all." || len(in.Attachments) != 1 || in.Attachments[0].ContentType != "application/octet-stream" {
			t.Fatalf("text %q attachments %+v", in.Text, in.Attachments)
		}
	})

	t.Run("part headers without the blank line after them", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: a@example.com
Content-Type: multipart/alternative; boundary="nl"

--nl
Content-Type: text/plain; charset=utf-8
Hello, the parcel never came.
Please help.
--nl
Content-Type: text/html; charset=utf-8
<p>Hello, the parcel never came.</p>
--nl--
`))
		if in.Text != "Hello, the parcel never came.\r\nPlease help." || !strings.Contains(in.HTML, "<p>Hello") {
			t.Fatalf("text %q html %q", in.Text, in.HTML)
		}
	})

	t.Run("gb2312 label on GBK bytes", func(t *testing.T) {
		// 們 and 鎔 are in GBK, not in GB2312.
		text := "我們的訂單在哪裡？鎔"
		raw := "From: a@example.com\r\nSubject: =?gb2312?B?" + base64.StdEncoding.EncodeToString([]byte(encode(t, simplifiedchinese.GBK, "訂單"))) + "?=\r\n" +
			"Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString([]byte(encode(t, simplifiedchinese.GBK, text))) + "\r\n"
		in := mustParseIn(t, []byte(raw))
		if in.Text != text || in.Subject != "訂單" {
			t.Fatalf("text %q subject %q", in.Text, in.Subject)
		}
	})

	t.Run("gb2312 label on Windows-1252 bytes", func(t *testing.T) {
		text := "Dear team, they found lots of defects that I haven’t found – “really” many."
		raw := "From: a@example.com\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n" + encode(t, charmap.Windows1252, text) + "\r\n"
		if in := mustParseIn(t, []byte(raw)); in.Text != text {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("unknown charset label", func(t *testing.T) {
		raw := "From: a@example.com\r\nContent-Type: text/plain; charset=\"x-unknown-charset\"\r\n\r\n" +
			encode(t, charmap.Windows1251, "Здравствуйте, где мой заказ? Я жду уже две недели, и никто не отвечает на письма.") + "\r\n"
		in := mustParseIn(t, []byte(raw))
		if in.Text != "Здравствуйте, где мой заказ? Я жду уже две недели, и никто не отвечает на письма." {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("missing charset on 8-bit text", func(t *testing.T) {
		for _, c := range []struct {
			enc  encoding.Encoding
			text string
		}{
			{simplifiedchinese.GBK, "您好，我在贵店购买的商品到现在还没有收到，请帮我查询一下物流信息，谢谢。"},
			{charmap.Windows1252, "Bonjour, je n'ai toujours pas reçu ma commande. Pouvez-vous vérifier où elle se trouve ?"},
		} {
			raw := "From: a@example.com\r\nContent-Type: text/plain\r\n\r\n" + encode(t, c.enc, c.text) + "\r\n"
			if in := mustParseIn(t, []byte(raw)); in.Text != c.text {
				t.Errorf("text %q want %q", in.Text, c.text)
			}
		}
	})

	t.Run("latin-1 label on UTF-8 text", func(t *testing.T) {
		in := mustParseIn(t, []byte("From: a@example.com\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nCafé crème\r\n"))
		if in.Text != "Café crème" {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("x-uuencode part", func(t *testing.T) {
		in := mustParseIn(t, uu(`
From: old@example.com
Subject: report
Content-Type: multipart/mixed; boundary=uu

--uu
Content-Type: text/plain

Report attached.
--uu
Content-Type: application/octet-stream; name="report.txt"
Content-Transfer-Encoding: x-uuencode

begin 644 report.txt
M3W)D97(@,3~P,2!S:&EP<&5D(&]N(#$R($UA<F-H+B!4<F%C:VEN9R!N=6UB
%97(@6#$~
~
end
--uu--
`))
		if in.Text != "Report attached." || len(in.Attachments) != 1 {
			t.Fatalf("text %q attachments %+v", in.Text, in.Attachments)
		}
		a := in.Attachments[0]
		if a.Filename != "report.txt" || !strings.HasPrefix(string(a.Data), "Order 1001 shipped on 12 March. Tracking number X1") {
			t.Fatalf("attachment %q %q", a.Filename, a.Data)
		}
	})

	t.Run("uuencoded block inside a text body", func(t *testing.T) {
		in := mustParseIn(t, uu(`
From: old@example.com
Subject: photo

Here is the photo.

begin 644 photo.gif
31TE&.#EA~0~!~(~~~/___P~~~~~~
~
end

Regards
`))
		if in.Text != "Here is the photo.\r\n\r\n\r\nRegards" || len(in.Attachments) != 1 {
			t.Fatalf("text %q attachments %+v", in.Text, in.Attachments)
		}
		if a := in.Attachments[0]; a.Filename != "photo.gif" || a.ContentType != "image/gif" || !strings.HasPrefix(string(a.Data), "GIF89a") {
			t.Fatalf("attachment %q %q %q", a.Filename, a.ContentType, a.Data)
		}
	})

	t.Run("Disposition filename differs from name", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: a@example.com
Content-Type: multipart/mixed; boundary=fn

--fn
Content-Type: application/pdf; name="ATT00001.pdf"
Content-Disposition: attachment; filename*0*=UTF-8''Rechnung%20M%C3%A4rz;
 filename*1=".pdf"

JVBERi0=
--fn--
`))
		if len(in.Attachments) != 1 || in.Attachments[0].Filename != "Rechnung März.pdf" {
			t.Fatalf("attachments %+v", in.Attachments)
		}
	})
}

// uu is crlf for samples holding uuencoded lines, written with ~ for the
// backquote a Go raw string cannot hold.
func uu(s string) []byte { return crlf(strings.ReplaceAll(s, "~", "`")) }

// TestParseRealMailMachineSent: delivery failures in the shapes real
// mail servers send them, and ticket systems' acknowledgements.
func TestParseRealMailMachineSent(t *testing.T) {
	bounces := []struct {
		name, raw, of, reason string
	}{
		{"multipart/report with text/rfc822-headers from a sender without a domain", `
From: MAILER-DAEMON (Mail Delivery Subsystem)
To: support@shop.test
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)
Content-Type: multipart/report; report-type=delivery-status; boundary="r1"

--r1
Content-Type: text/plain

The original message was received at Mon, 1 Jul 2024 10:00:00 +0200
   ----- The following addresses had permanent fatal errors -----
<nobody@example.com>
    (reason: 550 5.1.1 User unknown)
--r1
Content-Type: text/rfc822-headers

Return-Path: <support@shop.test>
From: Shop Support <support@shop.test>
Message-ID: <reply-42.abc@shop.test>
Subject: Re: [#42] Order
--r1--
`, "reply-42.abc@shop.test", "(reason: 550 5.1.1 User unknown)"},
		{"qmail", `
From: MAILER-DAEMON@mx.example.net
To: support@shop.test
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<gone@example.net>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <support@shop.test>
Received: (qmail 1234 invoked from network); 1 Jul 2024 10:00:00 -0000
Message-ID: <reply-7.x@shop.test>
From: support@shop.test
Subject: Re: [#7] refund

Your refund is on its way.
`, "reply-7.x@shop.test", "Sorry, no mailbox here by that name. (#5.1.1)"},
		{"Yahoo", `
From: MAILER-DAEMON@yahoo.com
To: support@shop.test
Subject: Failure Notice

Sorry, we were unable to deliver your message to the following address.

<nobody@example.org>:
Remote host said: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown [RCPT_TO]

--- Below this line is a copy of the message.

Received: from [127.0.0.1] by shop.test
Message-Id: <reply-9.y@shop.test>
Subject: Re: [#9] invoice
`, "reply-9.y@shop.test", "Remote host said: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown [RCPT_TO]"},
		{"Exim", `
From: Mail Delivery System <Mailer-Daemon@mail.example.com>
To: support@shop.test
Subject: Mail delivery failed: returning message to sender
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  nobody@example.com
    host mx.example.com [192.0.2.1]
    SMTP error from remote mail server after RCPT TO:<nobody@example.com>:
    550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

Return-path: <support@shop.test>
Message-Id: <reply-11.z@shop.test>
Subject: Re: [#11] delivery
`, "reply-11.z@shop.test", "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"},
		{"Postfix without DSN", `
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
To: support@shop.test
Subject: Undelivered Mail Returned to Sender

This is the mail system at host mail.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@example.org>: host mx.example.org[192.0.2.2] said: 550 5.1.1
    <nobody@example.org>: Recipient address rejected: User unknown (in reply to
    RCPT TO command)

Original message follows.

Message-ID: <reply-13.w@shop.test>
Subject: Re: [#13] exchange
`, "reply-13.w@shop.test", "<nobody@example.org>: host mx.example.org[192.0.2.2] said: 550 5.1.1"},
		{"Exchange from an ordinary address", `
From: Mail Administrator <mailadmin@example.org>
Return-Path: <>
To: support@shop.test
Subject: Undeliverable: Re: [#15] quote

Delivery has failed to these recipients or groups:

buyer@example.org
The email address you entered couldn't be found. 550 5.1.10 RESOLVER.ADR.RecipientNotFound

Original message headers:

Message-ID: <reply-15.v@shop.test>
`, "reply-15.v@shop.test", "The email address you entered couldn't be found. 550 5.1.10 RESOLVER.ADR.RecipientNotFound"},
	}
	for _, c := range bounces {
		t.Run(c.name, func(t *testing.T) {
			in := mustParseIn(t, crlf(c.raw))
			if in.Auto != "bounce" || in.Mail.BounceOf != c.of || in.Mail.BounceReason != c.reason {
				t.Fatalf("auto %q of %q reason %q", in.Auto, in.Mail.BounceOf, in.Mail.BounceReason)
			}
		})
	}

	t.Run("a person writing about a failed delivery is no bounce", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: Customer <c@example.com>
Subject: my parcel

The courier says your message could not be delivered to my old address. Error 550?
`))
		if in.Auto != "" {
			t.Fatalf("auto %q", in.Auto)
		}
	})

	acks := map[string]string{
		"RT": `
From: "Example Support via RT" <support@rt.example.org>
To: support@shop.test
Subject: [rt.example.org #1234] AutoReply: Re: [#42] Order problem
In-Reply-To: <reply-42.abc@shop.test>
References: <reply-42.abc@shop.test>
RT-Ticket: rt.example.org #1234
Managed-By: RT 4.4.4 (http://www.bestpractical.com/rt/)
Precedence: bulk
X-RT-Loop-Prevention: rt.example.org

Greetings,
This message has been automatically generated in response to the
creation of a trouble ticket regarding "Re: [#42] Order problem".
`,
		"Zendesk": `
From: Acme Support <support@acme.zendesk.com>
To: support@shop.test
Subject: [Acme] Re: [#42] Order problem
X-Mailer: Zendesk Mailer
X-Zendesk-From-Account-Id: 12345
In-Reply-To: <reply-42.abc@shop.test>
References: <first-42@shop.test> <reply-42.abc@shop.test>

Your request (98765) has been received and is being reviewed by our support staff.
`,
		"OTRS": `
From: Service Desk <service@otrs.example.com>
To: support@shop.test
Subject: [Ticket#2024070110000011] RE: [#42] Order problem
X-OTRS-Loop: yes
X-Loop: yes
Precedence: bulk
References: <reply-42.abc@shop.test>

This is an automatic acknowledgement: your message has been received.
`,
	}
	for name, raw := range acks {
		t.Run(name+" acknowledgement", func(t *testing.T) {
			in := mustParseIn(t, crlf(raw))
			if in.Auto != "auto_reply" || !strings.Contains(strings.Join(in.ThreadRefs, " "), "reply-42.abc@shop.test") {
				t.Fatalf("auto %q refs %v", in.Auto, in.ThreadRefs)
			}
		})
	}
}

// TestParseRealMailOddities: shapes met in public test mail (enmime,
// Python's email tests, mox): each a small sample here.
func TestParseRealMailOddities(t *testing.T) {
	t.Run("header field whose name holds spaces, with folds", func(t *testing.T) {
		in := mustParseIn(t, []byte("From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: BaSe64\r\n"+
			"X-Script/function/\t !\"#$%&'()*+,-./;<=>?@[\\]^_`{|}~: TEST\r\n VALUE 1\r\n abc\r\nSubject: kept\r\n\r\n"+
			base64.StdEncoding.EncodeToString([]byte("Olá mundo"))+"\r\n"))
		if in.Text != "Olá mundo" || in.Subject != "kept" {
			t.Fatalf("text %q subject %q", in.Text, in.Subject)
		}
	})

	t.Run("first field indented as a fold", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
 From: James <james@example.com>
Subject: plain text

hello
`))
		if in.From.Value != "james@example.com" || in.Name != "James" || in.Text != "hello" {
			t.Fatalf("from %q name %q text %q", in.From.Value, in.Name, in.Text)
		}
	})

	t.Run("raw comma in a Q-encoded name and addresses without commas", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: =?utF-8?q?Nadaj=C4=85ca,_Alicja?= <alicja@example.com>,
 =?utf-8?q?Nadaj=C4=85ca,_Alicja?= <alicja@example.net>
To: Bob Dunite <bob@extern> Bobby Dunite <bobby@extern>
Subject: x

y
`))
		if in.From.Value != "alicja@example.com" || in.Name != "Nadająca, Alicja" || len(in.CC) != 1 || in.CC[0].Identity.Value != "bob@extern" {
			t.Fatalf("from %q name %q cc %+v", in.From.Value, in.Name, in.CC)
		}
	})

	t.Run("text part takes its multipart's charset", func(t *testing.T) {
		raw := "From: a@example.com\r\nContent-Type: multipart/signed; charset=\"ISO-8859-2\"; protocol=\"application/pkcs7-signature\"; boundary=s\r\n\r\n" +
			"--s\r\nContent-Type: text/plain\r\n\r\n" + encode(t, charmap.ISO8859_2, "Jeżu klątw, spłódź Finom część gry hańb!") + "\r\n" +
			"--s\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n\r\nMIAG\r\n--s--\r\n"
		if in := mustParseIn(t, []byte(raw)); in.Text != "Jeżu klątw, spłódź Finom część gry hańb!" {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("name of a From without an address", func(t *testing.T) {
		for raw, want := range map[string]string{
			"From: vondruch at redhat.com (=?UTF-8?Q?V=C3=ADt_Ondruch?=)\nSubject: x\n\ny\n": "Vít Ondruch",
			"From: =?koi8-r?B?8MXU0g==?=\nSubject: x\n\ny\n":                                 "Петр",
		} {
			in := mustParseIn(t, crlf(raw))
			if in.Name != want || in.From.Value != "" || in.Partial.String() == "" {
				t.Errorf("%q: name %q from %q partial %q", raw, in.Name, in.From.Value, in.Partial.String())
			}
		}
	})

	t.Run("Windows-1252 byte in an ISO-8859-1 word", func(t *testing.T) {
		in := mustParseIn(t, crlf("From: a@example.com\nSubject: =?iso-8859-1?Q?en_local=85?=\n\ny\n"))
		if in.Subject != "en local…" {
			t.Fatalf("subject %q", in.Subject)
		}
	})

	t.Run("C1 control read as Windows-1252", func(t *testing.T) {
		in := mustParseIn(t, []byte("From: a@example.com\r\nContent-Type: text/plain\r\n\r\nEuro sign: \xc2\x80\r\n"))
		if in.Text != "Euro sign: €" {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("HTML naming its charset in a meta tag", func(t *testing.T) {
		raw := "From: a@example.com\r\nContent-Type: text/html\r\n\r\n<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\"></head>" +
			"<body><p>" + encode(t, charmap.KOI8R, "Где мой заказ?") + "</p></body></html>\r\n"
		if in := mustParseIn(t, []byte(raw)); in.Text != "Где мой заказ?" {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("UTF-8 cut in its last character", func(t *testing.T) {
		text := strings.Repeat("色は匂えど散りぬるを", 3)
		raw := "From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\xe3\x81\r\n"
		if in := mustParseIn(t, []byte(raw)); !strings.HasPrefix(in.Text, text) {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("RFC 2231 boundary in a charset Go does not decode", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: a@example.com
Content-Type: multipart/signed; protocol*=ansi-x3.4-1968''application%2Fpgp-signature;
	boundary*="ansi-x3.4-1968''EeQf"

--EeQf
Content-Type: text/plain; charset*=ansi-x3.4-1968''us-ascii

part 1
--EeQf--
`))
		if in.Text != "part 1" {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("multipart without boundary is text", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: a@example.com
Content-Type: multipart/mixed

Blah blah blah
`))
		if in.Text != "Blah blah blah" {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("top-level message/rfc822 shows the inner text", func(t *testing.T) {
		in := mustParseIn(t, crlf(`
From: fwd@example.com
Subject: forwarded
Content-Type: message/rfc822

From: orig@example.com
Subject: inner
Content-Type: text/plain

Here is the body of the message.
`))
		if in.Text != "Here is the body of the message." || len(in.Attachments) != 1 || in.Attachments[0].Filename != "inner.eml" {
			t.Fatalf("text %q attachments %+v", in.Text, in.Attachments)
		}
	})

	t.Run("machine reports are bulk, read receipts auto-replies", func(t *testing.T) {
		for raw, want := range map[string]string{
			"From: noreply-dmarc-support@google.com\nSubject: Report domain: example.com Submitter: google.com Report-ID: 1\n\nx\n":            "bulk",
			"From: tls@example.net\nContent-Type: multipart/report; report-type=tlsrpt; boundary=b\n\n--b\n\nx\n--b--\n":                       "bulk",
			"From: ppp-request@zzz.org\nX-Mailman-Version: 2.0.4\nSubject: Ppp digest\n\nx\n":                                                  "bulk",
			"From: boss@example.com\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n--b\n\nread\n--b--\n": "auto_reply",
		} {
			if in := mustParseIn(t, crlf(raw)); in.Auto != want {
				t.Errorf("%q: auto %q want %q", raw, in.Auto, want)
			}
		}
	})
}
