package email

import (
	"cmp"
	"context"
	"errors"
	"net/textproto"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	mail "github.com/wneessen/go-mail"

	"onedesk/i18n"
	"onedesk/mailauth"
	"onedesk/store"
)

// oauthLogin signs a mailbox in to its servers with an OAuth2 access
// token (XOAUTH2, or OAUTHBEARER where only that is offered) rather
// than a password. A token a server refuses is refreshed and tried once
// more; refused again, the grant is marked gone and the mailbox's error
// asks for Reconnect.
type oauthLogin struct {
	ctx    context.Context
	tokens *mailauth.Tokens
	id     int64
}

// oauthOf is how mailbox mb signs in with OAuth2, nil when it signs in
// with a password.
func (c *Channel) oauthOf(ctx context.Context, mb *store.Mailbox) (*oauthLogin, error) {
	if _, err := c.desk.DB().MailboxOAuth(ctx, mb.ID); errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &oauthLogin{ctx: ctx, tokens: c.tokens, id: mb.ID}, nil
}

// imap authenticates an IMAP connection that has greeted.
func (a *oauthLogin) imap(cl *imapclient.Client, mb *store.Mailbox) error {
	user := cmp.Or(mb.IMAPUsername, mb.Address)
	var refused *imap.Error
	tok, err := a.tokens.Token(a.ctx, a.id, "")
	if err != nil {
		return err
	}
	err = cl.Authenticate(oauthClient(cl, mb, user, tok))
	if err == nil || !errors.As(err, &refused) {
		return err
	}
	// Refused: the provider may have ended the token early.
	if tok, err = a.tokens.Token(a.ctx, a.id, tok); err != nil {
		return err
	}
	err = cl.Authenticate(oauthClient(cl, mb, user, tok))
	if errors.As(err, &refused) {
		return a.tokens.Refused(a.ctx, a.id, mb.IMAPHost, err)
	}
	return err
}

// oauthClient is the SASL client of the mechanism the server offers.
func oauthClient(cl *imapclient.Client, mb *store.Mailbox, user, token string) sasl.Client {
	caps := cl.Caps()
	if !caps.Has(imap.Cap("AUTH=XOAUTH2")) && caps.Has(imap.Cap("AUTH=OAUTHBEARER")) {
		return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token, Host: mb.IMAPHost, Port: mb.IMAPPort})
	}
	return &xoauth2{user: user, token: token}
}

// xoauth2 is the XOAUTH2 SASL client (Google's and Microsoft's
// mechanism; go-sasl has none): one message of the user and the token.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (JSON saying why) with an
// empty response, after which the server ends the command with NO.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

// smtpOptions are the go-mail options that sign in with the token.
func (a *oauthLogin) smtpOptions(mb *store.Mailbox, refused string) ([]mail.Option, string, error) {
	tok, err := a.tokens.Token(a.ctx, a.id, refused)
	if err != nil {
		return nil, "", err
	}
	return []mail.Option{mail.WithSMTPAuth(mail.SMTPAuthXOAUTH2), mail.WithUsername(cmp.Or(mb.SMTPUsername, mb.Address)),
		mail.WithPassword(tok)}, tok, nil
}

// smtpRefused tells an SMTP error that is the server refusing the login.
func smtpRefused(err error) bool {
	var reply *textproto.Error
	return errors.As(err, &reply) && (reply.Code == 535 || reply.Code == 534 || reply.Code == 530)
}

// sendWithOAuth sends through a client made with the token's options,
// refreshing the token once when the server refuses it.
func (a *oauthLogin) send(mb *store.Mailbox, send func(opts []mail.Option) error) error {
	opts, tok, err := a.smtpOptions(mb, "")
	if err != nil {
		return err
	}
	err = send(opts)
	if !smtpRefused(err) {
		return err
	}
	if opts, _, err = a.smtpOptions(mb, tok); err != nil {
		return err
	}
	if err = send(opts); smtpRefused(err) {
		return a.tokens.Refused(a.ctx, a.id, mb.SMTPHost, err)
	}
	return err
}

// oauthHeld is a reply's error when the mailbox's sign-in stopped it
// (nil otherwise): said so, and not permanent.
func oauthHeld(err error) error {
	var grant *mailauth.GrantError
	if errors.As(err, &grant) || errors.Is(err, mailauth.ErrNotConnected) {
		return i18n.Errorf("the mailbox's sign-in needs Reconnect (Settings → Mailboxes) before replies can leave (%w)", err)
	}
	return nil
}
