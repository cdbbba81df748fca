package desk

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"onedesk/store"
)

// OAuthInput is a mailbox's OAuth2 app as an admin sets it: the client
// id and secret of their own app at Google or Microsoft (and Microsoft's
// tenant), or a custom provider's URLs and scopes. nil fields and an
// empty secret keep what the mailbox has.
type OAuthInput struct {
	Provider     *string
	ClientID     *string
	ClientSecret string
	Tenant       *string
	AuthURL      *string
	TokenURL     *string
	Scopes       *string
}

var oauthProviders = []string{"google", "microsoft", "custom"}

// oauthHosts are the well-known servers of a provider, filled in when the
// admin left them empty.
var oauthHosts = map[string]struct{ imap, smtp string }{
	"google":    {"imap.gmail.com", "smtp.gmail.com"},
	"microsoft": {"outlook.office365.com", "smtp.office365.com"},
}

var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$`)

// checkOAuthHosts refuses, before the write, a custom provider's token
// URL on an internal network (the desk posts to it).
func (in MailboxInput) checkOAuthHosts(ctx context.Context) error {
	if in.OAuth == nil || in.OAuth.TokenURL == nil {
		return nil
	}
	if u, err := url.Parse(strings.TrimSpace(*in.OAuth.TokenURL)); err == nil && u.Hostname() != "" {
		return CheckOutboundHost(ctx, "oauth_token_url", u.Hostname())
	}
	return nil
}

// oauthFor is the OAuth2 sign-in m is to have after the input (nil for
// a password), checked, with the provider's servers filled in.
func (in MailboxInput) oauthFor(ctx context.Context, tx *store.Tx, m *store.Mailbox) (*store.MailboxOAuth, error) {
	var have *store.MailboxOAuth
	if m.ID != 0 {
		o, err := tx.MailboxOAuth(ctx, m.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		have = o
	}
	auth := "password"
	if have != nil {
		auth = "oauth2"
	}
	if in.Auth != nil {
		auth = strings.TrimSpace(*in.Auth)
	}
	if err := oneOf("auth", auth, []string{"password", "oauth2"}); err != nil {
		return nil, err
	}
	if auth == "password" {
		return nil, nil
	}
	o := &store.MailboxOAuth{MailboxID: m.ID, Provider: "google"}
	if have != nil {
		c := *have
		o = &c
	}
	if f := in.OAuth; f != nil {
		for _, s := range []struct {
			dst *string
			v   *string
		}{{&o.Provider, f.Provider}, {&o.ClientID, f.ClientID}, {&o.Tenant, f.Tenant}, {&o.AuthURL, f.AuthURL},
			{&o.TokenURL, f.TokenURL}, {&o.Scopes, f.Scopes}} {
			if s.v != nil {
				*s.dst = strings.TrimSpace(*s.v)
			}
		}
		if f.ClientSecret != "" {
			o.ClientSecret = strings.TrimSpace(f.ClientSecret)
		}
	}
	if err := oneOf("oauth_provider", o.Provider, oauthProviders); err != nil {
		return nil, err
	}
	if o.ClientID == "" {
		return nil, inputErr("oauth_client_id", "paste the client id of your app at the provider")
	}
	if len(o.ClientID) > 500 || len(o.ClientSecret) > 500 {
		return nil, inputErr("oauth_client_id", "the client id or secret is longer than 500 characters")
	}
	if o.Tenant != "" && !tenantRE.MatchString(o.Tenant) {
		return nil, inputErr("oauth_tenant", "the tenant is a directory id or a domain name, not %q", o.Tenant)
	}
	if o.Provider == "custom" {
		for field, v := range map[string]string{"oauth_auth_url": o.AuthURL, "oauth_token_url": o.TokenURL} {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, inputErr(field, "%q is not a web address (https://...)", v)
			}
		}
	} else {
		o.AuthURL, o.TokenURL, o.Scopes = "", "", ""
	}
	if hosts, ok := oauthHosts[o.Provider]; ok {
		if m.IMAPHost == "" {
			m.IMAPHost, m.IMAPPort, m.IMAPSecurity = hosts.imap, 993, "tls"
		}
		if m.SMTPHost == "" {
			m.SMTPHost, m.SMTPPort, m.SMTPSecurity = hosts.smtp, 587, "starttls"
		}
	}
	if have != nil && (have.Provider != o.Provider || have.ClientID != o.ClientID || have.Tenant != o.Tenant ||
		have.TokenURL != o.TokenURL || have.AuthURL != o.AuthURL) {
		// Tokens belong to the app that granted them: another app starts over.
		o.AccessToken, o.RefreshToken, o.TokenExpiry, o.ConnectedAt, o.GrantError, o.GrantErrorI18n = "", "", nil, nil, "", ""
	}
	return o, nil
}

// saveOAuth writes the sign-in oauthFor settled on (nil: password).
func saveOAuth(ctx context.Context, tx *store.Tx, m *store.Mailbox, o *store.MailboxOAuth) error {
	if o == nil {
		return tx.DeleteMailboxOAuth(ctx, m.ID)
	}
	o.MailboxID = m.ID
	return tx.SaveMailboxOAuth(ctx, o)
}

// MailboxConnected restarts the mailbox's poller with the tokens a
// sign-in just stored, and lets the replies that waited for it leave.
func (d *Desk) MailboxConnected(ctx context.Context) {
	d.notifyAccounts("email")
	// A held reply being tried right now is not moved by the update below
	// (it is due already) and would wait its backoff after failing.
	d.retryNow.Add(1)
	if err := d.db.EmailOutboxDueNow(ctx); err != nil {
		d.log.Warn("email replies due now", "err", err)
	}
	d.Wake()
}
