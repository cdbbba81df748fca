package desk

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"onedesk/i18n"
	"onedesk/store"
)

// The forgotten-password path: a link by email, good for an hour and
// once; asking again makes the earlier links stop working. The mail goes
// through the desk's system mail server (SystemMailSettings), else the
// first store's mailbox. It is sent in the background with a few retries
// and logged, not queued durably: the link's token must not be kept
// readable anywhere, it is dead in an hour anyway, and the agent is on
// the page and can ask again.

// SystemMail is a mail the desk writes itself (not a reply on a ticket).
type SystemMail struct {
	To, Subject, Text string
}

// SystemMailer sends a system mail through server's SMTP settings (the
// email channel's, installed by it).
type SystemMailer func(ctx context.Context, server *store.Mailbox, m SystemMail) error

// SetSystemMailer installs what sends system mail.
func (d *Desk) SetSystemMailer(f SystemMailer) {
	d.mu.Lock()
	d.systemMailer = f
	d.mu.Unlock()
}

// systemMailRetries are the waits before each new try of a system mail.
var systemMailRetries = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute}

// ErrNoSystemMail is a desk with no server to send its own mail through.
var ErrNoSystemMail = i18n.Errorf("this desk cannot send mail yet: an admin sets up system mail (Settings) or a mailbox first")

// Errors of a reset link, said to whoever opened it.
var (
	ErrResetLinkUnknown = InputErrorf("token", "this password reset link is not valid: ask for a new one")
	ErrResetLinkExpired = InputErrorf("token", "this password reset link has expired (links work for an hour): ask for a new one")
	ErrResetLinkUsed    = InputErrorf("token", "this password reset link was used already, or a newer one was sent: use the newest, or ask for a new one")
)

// systemMailServer is the server system mail leaves through: the system
// mail settings, else the first store's mailbox that can send.
func (d *Desk) systemMailServer(ctx context.Context) (*store.Mailbox, error) {
	sm, err := d.db.SystemMail(ctx)
	if err != nil {
		return nil, err
	}
	if sm.Host != "" {
		return &store.Mailbox{Address: sm.From, Name: sm.FromName, SMTPHost: sm.Host, SMTPPort: sm.Port,
			SMTPSecurity: sm.Security, SMTPUsername: sm.Username, SMTPPassword: sm.Password}, nil
	}
	list, err := d.db.Mailboxes(ctx)
	if err != nil {
		return nil, err
	}
	var best *store.Mailbox
	rank := func(m *store.Mailbox) [2]int64 {
		if m.StoreID == nil {
			return [2]int64{1 << 62, m.ID}
		}
		return [2]int64{*m.StoreID, m.ID}
	}
	for _, m := range list {
		if !m.Active || m.SMTPHost == "" {
			continue
		}
		if best == nil || rank(m)[0] < rank(best)[0] || rank(m)[0] == rank(best)[0] && m.ID < best.ID {
			best = m
		}
	}
	if best == nil {
		return nil, ErrNoSystemMail
	}
	return best, nil
}

// SendSystemMail sends m once, now, through the system mail server, for
// the parts beside the desk that mail agents (the notification digest);
// the caller retries. ErrNoSystemMail: there is no server to send with.
func (d *Desk) SendSystemMail(ctx context.Context, m SystemMail) error {
	d.mu.RLock()
	send := d.systemMailer
	d.mu.RUnlock()
	if send == nil {
		return ErrNoSystemMail
	}
	server, err := d.systemMailServer(ctx)
	if err != nil {
		return err
	}
	return send(ctx, server, m)
}

// RequestPasswordReset mails a reset link to the agent with address
// email, if there is one and they are active; the answer is the same
// either way. link makes the link from the token.
func (d *Desk) RequestPasswordReset(ctx context.Context, email string, link func(token string) string) error {
	d.mu.RLock()
	send := d.systemMailer
	d.mu.RUnlock()
	server, err := d.systemMailServer(ctx)
	if err != nil {
		return err
	}
	if send == nil {
		return ErrNoSystemMail
	}
	a, err := d.db.AgentByEmail(ctx, strings.TrimSpace(email))
	if errors.Is(err, store.ErrNotFound) || err == nil && !a.Active {
		d.log.Info("password reset asked for an address with no active agent")
		return nil
	}
	if err != nil {
		return err
	}
	token := RandomToken()
	if err := d.db.InsertPasswordReset(ctx, HashToken(token), a.ID, store.Now().Add(ResetLinkTTL)); err != nil {
		return fmt.Errorf("keep a password reset link: %w", err)
	}
	m := SystemMail{To: a.Email,
		Subject: i18n.S("Reset your onedesk password").In(a.Language),
		Text: i18n.S("Hello %s,\n\nsomeone (we hope you) asked to reset the password of %s on onedesk. "+
			"Set a new password here within the next hour:\n\n%s\n\nThe link works once. "+
			"If you did not ask for it, ignore this mail: your password stays as it is.", a.Name, a.Email, link(token)).In(a.Language)}
	go d.sendSystemMail(send, server, m, "password reset", "agent", a.ID)
	return nil
}

// MailCustomer sends a mail the desk writes to a customer of a store (a
// portal sign-in link): from the store's own mailbox when one of them
// sends, else through the system mail server as password reset links go.
// Like those, it leaves in the background with a few retries and is
// logged, not queued durably (it carries a credential). what names it in
// the log.
func (d *Desk) MailCustomer(ctx context.Context, storeID int64, m SystemMail, what string) error {
	d.mu.RLock()
	send := d.systemMailer
	d.mu.RUnlock()
	if send == nil {
		return ErrNoSystemMail
	}
	list, err := d.db.Mailboxes(ctx)
	if err != nil {
		return err
	}
	var server *store.Mailbox
	for _, mb := range list {
		if mb.Active && mb.SMTPHost != "" && mb.StoreID != nil && *mb.StoreID == storeID && (server == nil || mb.ID < server.ID) {
			server = mb
		}
	}
	if server == nil {
		if server, err = d.systemMailServer(ctx); err != nil {
			return err
		}
	}
	go d.sendSystemMail(send, server, m, what, "store", storeID)
	return nil
}

// sendSystemMail sends m, trying again a few times, and logs how it went
// (what it is and who it is for in attrs; never the text: it holds a link).
func (d *Desk) sendSystemMail(send SystemMailer, server *store.Mailbox, m SystemMail, what string, attrs ...any) {
	attrs = append([]any{"what", what, "via", server.SMTPHost}, attrs...)
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := send(ctx, server, m)
		cancel()
		if err == nil {
			d.log.Info("system mail sent", attrs...)
			return
		}
		if attempt >= len(systemMailRetries) {
			d.log.Error("system mail failed, giving up", append(attrs, "err", err)...)
			return
		}
		d.log.Warn("system mail failed, trying again", append(attrs, "attempt", attempt+1, "err", err)...)
		time.Sleep(systemMailRetries[attempt])
	}
}

// ResetPassword sets a new password with a reset link's token: the link
// is spent, and every session, socket and API token of the agent ends
// (as with any new password).
func (d *Desk) ResetPassword(ctx context.Context, token, password string) error {
	in := AgentInput{Password: password}
	if password == "" {
		return inputErr("password", "password must have at least %d characters", MinPassword)
	}
	if err := in.check(false); err != nil {
		return err
	}
	var agentID int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.PasswordReset(ctx, HashToken(token))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return ErrResetLinkUnknown
		case err != nil:
			return err
		case r.Used:
			return ErrResetLinkUsed
		case !store.Now().Before(r.ExpiresAt):
			return ErrResetLinkExpired
		}
		ok, err := tx.UsePasswordReset(ctx, HashToken(token))
		if err == nil && !ok {
			return ErrResetLinkUsed
		}
		agentID = r.AgentID
		return err
	})
	if err != nil {
		return err
	}
	a, err := d.db.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	if !a.Active {
		return ErrResetLinkUnknown
	}
	_, err = d.UpdateAgent(ctx, agentID, in)
	return err
}

// SystemMailSettings are the system mail settings as the API shows them:
// the password never leaves, PasswordSet says whether there is one.
type SystemMailSettings struct {
	store.SystemMail
	PasswordSet bool `json:"password_set"`
}

// SystemMailSettings reads the system mail settings.
func (d *Desk) SystemMailSettings(ctx context.Context) (SystemMailSettings, error) {
	sm, err := d.db.SystemMail(ctx)
	if err != nil {
		return SystemMailSettings{}, err
	}
	set := sm.Password != ""
	sm.Password = ""
	return SystemMailSettings{SystemMail: sm, PasswordSet: set}, nil
}

// SaveSystemMail checks and stores the system mail settings; an empty
// password keeps the one stored, an empty host turns them off (the first
// store's mailbox sends instead).
func (d *Desk) SaveSystemMail(ctx context.Context, in store.SystemMail) (SystemMailSettings, error) {
	in.Host, in.From, in.FromName = strings.TrimSpace(in.Host), strings.TrimSpace(in.From), cleanLine(in.FromName)
	if in.Host == "" {
		if err := d.db.SaveSystemMail(ctx, store.SystemMail{}); err != nil {
			return SystemMailSettings{}, fmt.Errorf("save the system mail settings: %w", err)
		}
		return d.SystemMailSettings(ctx)
	}
	if err := CheckOutboundHost(ctx, "host", in.Host); err != nil {
		return SystemMailSettings{}, err
	}
	if in.Security == "" {
		in.Security = "starttls"
	}
	if err := oneOf("security", in.Security, []string{"tls", "starttls", "none"}); err != nil {
		return SystemMailSettings{}, err
	}
	if in.Port == 0 {
		in.Port = map[string]int{"tls": 465, "starttls": 587, "none": 25}[in.Security]
	}
	if in.Port < 1 || in.Port > 65535 {
		return SystemMailSettings{}, inputErr("port", "the port must be from 1 to 65535")
	}
	if addr, err := mail.ParseAddress(in.From); err != nil || addr.Address != in.From {
		return SystemMailSettings{}, inputErr("from", "%q is not an email address", in.From)
	}
	if in.Password == "" {
		old, err := d.db.SystemMail(ctx)
		if err != nil {
			return SystemMailSettings{}, err
		}
		in.Password = old.Password
	}
	if err := d.db.SaveSystemMail(ctx, in); err != nil {
		return SystemMailSettings{}, fmt.Errorf("save the system mail settings: %w", err)
	}
	return d.SystemMailSettings(ctx)
}
