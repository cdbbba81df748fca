package email

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/htmlindex"
)

// TestParseCharsets sends the same kind of mail in every charset real
// mail uses, with the subject as RFC 2047 words in that charset too.
func TestParseCharsets(t *testing.T) {
	cases := []struct{ charset, text string }{
		{"utf-8", "Привет, 你好, Olá"},
		{"iso-8859-1", "Où est ma commande ? Größe ñ"},
		{"iso-8859-2", "Dobrý den, kde je má objednávka? Żółć"},
		{"iso-8859-5", "Здравствуйте"},
		{"iso-8859-7", "Καλημέρα"},
		{"iso-8859-9", "Siparişim nerede? Teşekkürler"},
		{"iso-8859-15", "Prix 20 € œuvre"},
		{"windows-1250", "Dobrý den, děkuji"},
		{"windows-1251", "Где мой заказ?"},
		{"windows-1252", "“Quoted” – naïve café"},
		{"windows-1254", "Sipariş iptal edildi mi?"},
		{"koi8-r", "Где мой заказ?"},
		{"koi8-u", "Де моє замовлення? Ґ"},
		{"iso-2022-jp", "注文した商品がまだ届きません"},
		{"shift_jis", "注文した商品がまだ届きません"},
		{"euc-jp", "注文した商品がまだ届きません"},
		{"euc-kr", "주문한 상품이 아직 도착하지 않았습니다"},
		{"gb2312", "我的订单在哪里"},
		{"gbk", "我的訂單在哪裡 我的订单"},
		{"gb18030", "我的订单在哪里 𠀀"},
		{"big5", "我的訂單在哪裡"},
	}
	for _, c := range cases {
		t.Run(c.charset, func(t *testing.T) {
			enc, err := htmlindex.Get(c.charset)
			if err != nil {
				t.Fatal(err)
			}
			body, err := enc.NewEncoder().String(c.text)
			if err != nil {
				t.Fatalf("encode sample: %v", err)
			}
			subject := "=?" + c.charset + "?B?" + base64.StdEncoding.EncodeToString([]byte(body)) + "?="
			raw := fmt.Sprintf("From: =?%s?B?%s?= <x@example.com>\r\nSubject: %s\r\nMessage-ID: <%s@example.com>\r\n"+
				"Content-Type: text/plain; charset=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
				c.charset, base64.StdEncoding.EncodeToString([]byte(body)), subject, c.charset, strings.ToUpper(c.charset),
				base64.StdEncoding.EncodeToString([]byte(body)))
			in, err := Parse([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			if in.Text != c.text || in.Subject != c.text || in.Name != c.text {
				t.Fatalf("text %q\nsubject %q\nname %q\nwant %q", in.Text, in.Subject, in.Name, c.text)
			}
		})
	}
	t.Run("utf-7", func(t *testing.T) {
		in, err := Parse(crlf(`
From: =?UTF-7?Q?Hi_Mom_-+Jjo--!?= <x@example.com>
Subject: =?utf-7?Q?+ZeVnLIqe-?=
Content-Type: text/plain; charset=UTF-7

A+ImIDkQ. 1 +- 1 +2D3eAQ-
`))
		if err != nil {
			t.Fatal(err)
		}
		if in.Text != "A≢Α. 1 + 1 😁" || in.Subject != "日本語" || in.Name != "Hi Mom -☺-!" {
			t.Fatalf("text %q subject %q name %q", in.Text, in.Subject, in.Name)
		}
	})
}

// TestParseNastyMail is the corpus of awkward mail every helpdesk meets.
func TestParseNastyMail(t *testing.T) {
	t.Run("forward as message/rfc822 and winmail.dat", func(t *testing.T) {
		in, err := Parse(crlf(`
From: boss@example.com
Subject: Fwd: order
Message-ID: <fwd@example.com>
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain

See below.
--b1
Content-Type: message/rfc822

From: customer@example.org
Subject: =?UTF-8?Q?Pedido_n=C3=A3o_chegou?=
Message-ID: <orig@example.org>
Content-Type: text/plain

Where is it?
--b1
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

eJ8+IhAAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNy
--b1--
`))
		if err != nil {
			t.Fatal(err)
		}
		if in.Text != "See below." || len(in.Attachments) != 2 {
			t.Fatalf("text %q attachments %+v", in.Text, in.Attachments)
		}
		fwd, tnef := in.Attachments[0], in.Attachments[1]
		if fwd.Filename != "Pedido não chegou.eml" || fwd.ContentType != "message/rfc822" || !bytes.Contains(fwd.Data, []byte("Where is it?")) {
			t.Fatalf("forward %q %q", fwd.Filename, fwd.ContentType)
		}
		if tnef.Filename != "winmail.dat" || tnef.ContentType != "application/ms-tnef" || len(tnef.Data) != 57 {
			t.Fatalf("winmail %q %q %d", tnef.Filename, tnef.ContentType, len(tnef.Data))
		}
		if in.Auto != "" || in.Mail.BounceOf != "" {
			t.Fatalf("a forward is not a bounce: %q %q", in.Auto, in.Mail.BounceOf)
		}
	})

	t.Run("inline cid image and split text parts", func(t *testing.T) {
		in, err := Parse(crlf(`
From: mac@example.com
Subject: photo
Content-Type: multipart/mixed; boundary=m

--m
Content-Type: text/plain; charset=us-ascii

Here is the broken item:
--m
Content-Type: image/png; name="=?UTF-8?B?ZGFtYWdlZCDwn5OmLnBuZw==?="
Content-Disposition: inline
Content-ID: <img1@mac>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--m
Content-Type: text/plain; charset=us-ascii

Please replace it.
--m--
`))
		if err != nil {
			t.Fatal(err)
		}
		if in.Text != "Here is the broken item:\nPlease replace it." {
			t.Fatalf("text %q", in.Text)
		}
		if len(in.Attachments) != 1 || in.Attachments[0].ContentID != "img1@mac" || in.Attachments[0].Filename != "damaged 📦.png" {
			t.Fatalf("attachments %+v", in.Attachments)
		}
	})

	t.Run("RFC 2231 filename", func(t *testing.T) {
		in, err := Parse(crlf(`
From: a@example.com
Content-Type: multipart/mixed; boundary=x

--x
Content-Type: text/plain

invoice attached
--x
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''fatura%20n%C2%BA%201001.pdf

JVBERi0=
--x--
`))
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Attachments) != 1 || in.Attachments[0].Filename != "fatura nº 1001.pdf" {
			t.Fatalf("attachments %+v", in.Attachments)
		}
	})

	t.Run("unknown charset and broken parameters", func(t *testing.T) {
		in, err := Parse([]byte("From: a@example.com\r\nSubject: hi\r\nContent-Type: multipart/alternative; boundary=q\r\n\r\n" +
			"--q\r\nContent-Type: text/plain; charset=x-unknown-8bit\r\n\r\nCaf\xe9 cr\xe8me\r\n" +
			"--q\r\nContent-Type: text/html; charset=\"utf-8\"; charset=\"utf-8\"\r\n\r\n<p>Caf\xc3\xa9</p>\r\n--q--\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if in.Text != "Café crème" || !strings.Contains(in.HTML, "Café") {
			t.Fatalf("text %q html %q", in.Text, in.HTML)
		}
	})

	t.Run("boundary that never comes", func(t *testing.T) {
		in, err := Parse(crlf(`
From: a@example.com
Subject: lost boundary
Content-Type: multipart/mixed; boundary="declared"

--other
Content-Type: text/plain

The order 1001 is late.
--other--
`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(in.Text, "The order 1001 is late.") {
			t.Fatalf("text %q", in.Text)
		}
	})

	t.Run("garbage bytes and no Message-ID", func(t *testing.T) {
		raw := []byte("From: a@example.com\r\nSubject: \xff\xfe bad \x00\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xc3\x28 ok \xa0\xa1\r\n")
		in, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Parse(raw)
		if !strings.HasPrefix(in.ExternalID, "sha256-") || again.ExternalID != in.ExternalID {
			t.Fatalf("ids %q %q", in.ExternalID, again.ExternalID)
		}
		if !strings.Contains(in.Text, "ok") || !strings.Contains(in.Subject, "bad") {
			t.Fatalf("text %q subject %q", in.Text, in.Subject)
		}
	})

	t.Run("Sender when From is unusable, Cc and delivery headers", func(t *testing.T) {
		in, recipients, err := parse(crlf(`
From: undisclosed
Sender: Real Person <real@example.com>
To: support@shop.test, "Ana" <ana@example.com>
Cc: boss@example.com
Delivered-To: support+t7.kabc@shop.test
Subject: hi

hello
`))
		if err != nil {
			t.Fatal(err)
		}
		if in.From.Value != "real@example.com" || len(in.CC) != 3 || in.CC[1].Name != "Ana" {
			t.Fatalf("from %q cc %+v", in.From.Value, in.CC)
		}
		if strings.Join(recipients, " ") != "support@shop.test ana@example.com boss@example.com support+t7.kabc@shop.test" {
			t.Fatalf("recipients %q", recipients)
		}
	})
}
