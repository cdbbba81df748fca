package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	mail "github.com/wneessen/go-mail"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/netguard"
	"onedesk/store"
)

// Send delivers an agent's reply from the ticket's mailbox, all of it
// read from out (desk.MailRoute): the Message-ID is derived from the
// message, so a retry after a crash or an outage sends the very same
// message, which the recipient's server can recognise.
func (c *Channel) Send(ctx context.Context, out desk.Outbound) error {
	route, err := out.Mail()
	if err != nil {
		return err
	}
	mb := route.Mailbox
	to := route.To
	for _, id := range out.Customer.Identities {
		if to == "" && id.Kind == "email" {
			to = id.Value
		}
	}
	if to == "" {
		return desk.Permanent(i18n.Errorf("the customer has no email address to reply to"))
	}
	if strings.HasSuffix(to, "@onedesk.invalid") {
		return desk.Permanent(i18n.Errorf("the sender's address could not be read from the message, so there is no address to reply to"))
	}

	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	fromName := mb.Name
	if out.AuthorName != "" && mb.Name != "" {
		fromName = out.AuthorName + " via " + mb.Name
	} else if out.AuthorName != "" {
		fromName = out.AuthorName
	}
	if err := m.FromFormat(fromName, mb.Address); err != nil {
		return desk.Permanent(i18n.Errorf("the mailbox's address %s cannot be sent from: %w", mb.Address, err))
	}
	if err := m.To(to); err != nil {
		return desk.Permanent(i18n.Errorf("the customer's address %s is not valid: %w", to, err))
	}
	m.SetMessageIDWithValue(route.MessageID)
	m.SetDateWithValue(out.Message.CreatedAt)
	m.Subject(replySubject(out.Ticket, out.Opening))
	if route.InReplyTo != "" {
		m.SetGenHeader(mail.HeaderInReplyTo, "<"+route.InReplyTo+">")
	}
	if len(route.References) > 0 {
		m.SetGenHeaderPreformatted(mail.HeaderReferences, "<"+strings.Join(route.References, "> <")+">")
	}
	if out.Message.Auto != "" {
		// An acknowledgement: other robots must not answer it (RFC 3834).
		m.SetGenHeader("Auto-Submitted", "auto-replied")
		m.SetGenHeader("X-Auto-Response-Suppress", "All")
	} else {
		m.SetGenHeader("Auto-Submitted", "no")
	}
	if route.ReplyTo != "" {
		if err := m.ReplyToFormat(fromName, route.ReplyTo); err != nil {
			return desk.Permanent(i18n.Errorf("the reply-to address %s is not valid: %w", route.ReplyTo, err))
		}
	}
	if out.Message.Auto == "" {
		// Whoever else is on the ticket gets the agent's reply too.
		var cc []string
		for _, p := range out.Participants {
			for _, id := range p.Identities {
				if id.Kind == "email" && !strings.EqualFold(id.Value, to) {
					cc = append(cc, id.Value)
					break
				}
			}
		}
		if len(cc) > 0 {
			if err := m.Cc(cc...); err != nil {
				c.log.Warn("email: a participant's address is not valid", "ticket", out.Ticket.ID, "err", err)
			}
		}
	}
	m.SetBodyString(mail.TypeTextPlain, textBody(out.Message.Body, out.Message.Signature)+choicesText(out.Choices))
	m.AddAlternativeString(mail.TypeTextHTML, htmlBody(out.Message.Body, out.Message.Signature)+choicesHTML(out.Choices))
	for _, file := range out.Files {
		if err := m.AttachReader(file.Filename, bytes.NewReader(file.Data), mail.WithFileContentType(mail.ContentType(file.ContentType))); err != nil {
			return desk.Permanent(i18n.Errorf("the file %s could not be attached: %w", file.Filename, err))
		}
	}

	oauth, err := c.oauthOf(ctx, mb)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	send := func(more []mail.Option) error {
		client, err := smtpClient(mb, more...)
		if err != nil {
			return desk.Permanent(err)
		}
		return client.DialAndSendWithContext(sctx, m)
	}
	if oauth != nil {
		oauth.ctx = sctx
		err = oauth.send(mb, send)
	} else {
		err = send(nil)
	}
	if err != nil {
		if held := oauthHeld(err); held != nil {
			return held // retried: after Reconnect it leaves
		}
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return desk.Permanent(i18n.Errorf("the mail server refused the reply: %w", err))
		}
		return i18n.Errorf("the mail server %s did not take the reply: %w", mb.SMTPHost, err)
	}
	out.SentAs(route.MessageID)
	return nil
}

func smtpClient(mb *store.Mailbox, more ...mail.Option) (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(mb.SMTPPort), mail.WithTimeout(30 * time.Second),
		mail.WithDialContextFunc(netguard.Default.DialContext), // not into the desk's own network
		mail.WithTLSConfig(&tls.Config{ServerName: mb.SMTPHost, MinVersion: tls.VersionTLS12})}
	switch mb.SMTPSecurity {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if mb.SMTPUsername != "" {
		auth := mail.SMTPAuthPlain
		if mb.SMTPSecurity == "none" {
			auth = mail.SMTPAuthPlainNoEnc // the admin chose a plain connection
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(mb.SMTPUsername), mail.WithPassword(mb.SMTPPassword))
	}
	return mail.NewClient(mb.SMTPHost, append(opts, more...)...)
}

// textBody is the reply's text part: the agent's text, then the
// signature under the standard "-- " line, which mail programs recognise
// (and leave out when quoting).
func textBody(text, signature string) string {
	if signature == "" {
		return text
	}
	return strings.TrimRight(text, "\n") + "\n\n-- \n" + signature
}

// htmlBody is the reply as simple HTML: the agent's text, escaped, with
// its line breaks and links kept, and the signature under it in grey.
func htmlBody(text, signature string) string {
	var b strings.Builder
	b.WriteString(`<div style="font-family:sans-serif;font-size:14px;line-height:1.5">`)
	writeHTMLLines(&b, text)
	if signature != "" {
		b.WriteString(`<div class="onedesk-signature" style="margin-top:1em;color:#555">`)
		writeHTMLLines(&b, signature)
		b.WriteString("</div>")
	}
	b.WriteString("</div>")
	return b.String()
}

func writeHTMLLines(b *strings.Builder, text string) {
	for i, line := range strings.Split(html.EscapeString(text), "\n") {
		if i > 0 {
			b.WriteString("<br>\n")
		}
		b.WriteString(linkRE.ReplaceAllString(line, `<a href="$0">$0</a>`))
	}
}

// choicesText lists a message's buttons (a survey's ratings) as links,
// one a line: a click on one is the answer.
func choicesText(choices []desk.Choice) string {
	var b strings.Builder
	for _, ch := range choices {
		if ch.URL != "" {
			fmt.Fprintf(&b, "\n%s  %s", ch.Label, ch.URL)
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// choicesHTML shows a message's buttons as a row of links styled as
// buttons (no form, no script: mail readers run neither).
func choicesHTML(choices []desk.Choice) string {
	var b strings.Builder
	for _, ch := range choices {
		if ch.URL == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteString(`<p class="onedesk-choices" style="margin-top:1em">`)
		}
		fmt.Fprintf(&b, `<a href="%s" style="display:inline-block;margin:0 6px 6px 0;padding:8px 14px;border:1px solid #888;border-radius:6px;text-decoration:none;font-size:18px;font-family:sans-serif">%s</a>`,
			html.EscapeString(ch.URL), html.EscapeString(ch.Label))
	}
	if b.Len() > 0 {
		b.WriteString("</p>")
	}
	return b.String()
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"']+[^\s<>"'.,;:!?)]`)

// replySubject is the ticket's subject with "Re:" (not on the first
// message of a conversation we start) and the ticket token.
func replySubject(t store.Ticket, opening bool) string {
	s := t.Subject
	token := fmt.Sprintf("[#%d]", t.ID)
	if !strings.Contains(s, token) {
		s += " " + token
	}
	if !opening && !strings.HasPrefix(strings.ToLower(s), "re:") {
		s = "Re: " + s
	}
	return s
}

// testSMTP connects to the mailbox's SMTP server as a reply would
// (TLS or STARTTLS as set, then AUTH) and quits without sending.
func testSMTP(ctx context.Context, mb *store.Mailbox, oauth ...*oauthLogin) error {
	addr := net.JoinHostPort(mb.SMTPHost, strconv.Itoa(mb.SMTPPort))
	var connected atomic.Bool
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := netguard.Default.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if mb.SMTPSecurity == "tls" {
			tc := tls.Client(conn, &tls.Config{ServerName: mb.SMTPHost, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			conn = tc
		}
		connected.Store(true)
		return conn, nil
	}
	more := []mail.Option{mail.WithDialContextFunc(dial), mail.WithTimeout(greetTimeout)}
	if len(oauth) > 0 && oauth[0] != nil {
		opts, _, err := oauth[0].smtpOptions(mb, "")
		if err != nil {
			return err
		}
		more = append(more, opts...)
	}
	client, err := smtpClient(mb, more...)
	if err != nil {
		return err
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err == nil {
		if err := client.CloseWithSMTPClient(sc); err != nil {
			return i18n.Errorf("the server did not end the session cleanly (%v)", err)
		}
		return nil
	}
	var reply *textproto.Error
	var netErr net.Error
	switch {
	case !connected.Load():
		return Explain(err) // the connection or TLS failed
	case errors.As(err, &reply) && (reply.Code == 535 || reply.Code == 534 || reply.Code == 530):
		return i18n.Errorf("the server refused the user name or password (%v)", err)
	case errors.As(err, &reply):
		return i18n.Errorf("the server refused the session (%v)", err)
	case strings.Contains(err.Error(), "does not support SMTP AUTH"), errors.Is(err, mail.ErrPlainAuthNotSupported):
		return i18n.Errorf("the server does not offer a login (AUTH) on this connection: check the security setting, most servers offer it only over TLS or STARTTLS (%v)", err)
	case strings.Contains(err.Error(), "STARTTLS"):
		return i18n.Errorf("the server does not offer STARTTLS: choose TLS or no security to match the server (%v)", err)
	case strings.Contains(err.Error(), "tls:"):
		return Explain(err)
	case errors.As(err, &netErr) && netErr.Timeout():
		return Explain(&protocolError{"SMTP", addr, errNoGreeting})
	}
	return Explain(&protocolError{"SMTP", addr, err})
}

// SendSystem sends a mail the desk writes itself (a password reset link)
// through server's SMTP settings: plain text, marked as machine-sent.
func SendSystem(ctx context.Context, server *store.Mailbox, sm desk.SystemMail) error {
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.FromFormat(server.Name, server.Address); err != nil {
		return i18n.Errorf("the system mail address %s cannot be sent from: %w", server.Address, err)
	}
	if err := m.To(sm.To); err != nil {
		return i18n.Errorf("the address %s is not valid: %w", sm.To, err)
	}
	m.SetMessageID()
	m.SetDate()
	m.Subject(sm.Subject)
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Auto-Response-Suppress", "All")
	m.SetBodyString(mail.TypeTextPlain, sm.Text)
	client, err := smtpClient(server)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := client.DialAndSendWithContext(sctx, m); err != nil {
		return i18n.Errorf("the mail server %s did not take the mail: %w", server.SMTPHost, err)
	}
	return nil
}
