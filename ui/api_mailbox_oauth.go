package ui

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/mailauth"
	"onedesk/store"
)

// oauthCallbackPath is where providers send the admin back after
// consent: the redirect URL registered with the admin's app.
const oauthCallbackPath = "/oauth/callback"

// oauthBody is the OAuth2 part of a mailbox as the API takes it (flat,
// like the form); the client secret is write-only.
type oauthBody struct {
	Auth              *string `json:"auth"`
	OAuthProvider     *string `json:"oauth_provider"`
	OAuthClientID     *string `json:"oauth_client_id"`
	OAuthClientSecret string  `json:"oauth_client_secret"`
	OAuthTenant       *string `json:"oauth_tenant"`
	OAuthAuthURL      *string `json:"oauth_auth_url"`
	OAuthTokenURL     *string `json:"oauth_token_url"`
	OAuthScopes       *string `json:"oauth_scopes"`
}

func (b oauthBody) input(in *desk.MailboxInput) {
	in.Auth = b.Auth
	if b.OAuthProvider != nil || b.OAuthClientID != nil || b.OAuthClientSecret != "" || b.OAuthTenant != nil ||
		b.OAuthAuthURL != nil || b.OAuthTokenURL != nil || b.OAuthScopes != nil {
		in.OAuth = &desk.OAuthInput{Provider: b.OAuthProvider, ClientID: b.OAuthClientID, ClientSecret: b.OAuthClientSecret,
			Tenant: b.OAuthTenant, AuthURL: b.OAuthAuthURL, TokenURL: b.OAuthTokenURL, Scopes: b.OAuthScopes}
	}
}

// oauthStatus is a mailbox's OAuth2 sign-in as the app shows it.
type oauthStatus struct {
	*store.MailboxOAuth
	HasSecret bool `json:"has_client_secret"`
	Connected bool `json:"connected"`
	// Reconnect: the grant stopped working (or a sign-in failed), and
	// only a new sign-in mends it.
	Reconnect bool `json:"reconnect"`
}

// mailboxAuth says how a mailbox signs in, for its card: "password" or
// "oauth2" with the sign-in's state, in lang.
func mailboxAuth(lang string, o *store.MailboxOAuth) (string, *oauthStatus) {
	if o == nil {
		return "password", nil
	}
	st := &oauthStatus{MailboxOAuth: o, HasSecret: o.ClientSecret != "", Connected: o.Connected(), Reconnect: o.GrantError != ""}
	o.GrantError = i18n.Restore(lang, o.GrantError, o.GrantErrorI18n)
	return "oauth2", st
}

// oauthRedirectURL is the callback's address: under the desk's public
// URL when it has one, else the host this request came to (which, with
// --domain, is the domain).
func (s *Server) oauthRedirectURL(c *fiber.Ctx) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/") + oauthCallbackPath
	}
	scheme := "http"
	if overHTTPS(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Hostname() + oauthCallbackPath
}

// connectMailbox starts a mailbox's OAuth2 sign-in for the admin's
// browser session and answers {"url": consent page} to go to.
func (s *Server) connectMailbox(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if p.sessionHash == "" {
		return apiErr(fiber.StatusBadRequest, "", "connecting a mailbox is done in the app, signed in, not with an API token")
	}
	ctx := c.UserContext()
	mb, err := s.db.Mailbox(ctx, id)
	if err != nil {
		return err
	}
	url, err := mailauth.Begin(ctx, s.db, mb, p.sessionHash, s.oauthRedirectURL(c))
	if errors.Is(err, store.ErrNotFound) {
		return fieldErr("auth", "the mailbox signs in with a password: choose OAuth2 and save it first")
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"url": url})
}

// oauthCallback takes the provider's answer in the admin's browser: the
// state must be the one this session started. Then back to the mailboxes,
// whose card says how it went.
func (s *Server) oauthCallback(c *fiber.Ctx, p *principal) error {
	ctx := c.UserContext()
	state := c.Query("state")
	var err error
	if e := c.Query("error"); e != "" {
		_, err = mailauth.Refused(ctx, s.db, state, p.sessionHash, e, c.Query("error_description"))
		if err == nil {
			err = errors.New("the provider answered " + e)
		}
	} else {
		_, err = mailauth.Finish(ctx, s.db, state, c.Query("code"), p.sessionHash, s.oauthRedirectURL(c))
	}
	switch {
	case errors.Is(err, mailauth.ErrState), errors.Is(err, mailauth.ErrExpired):
		return &apiError{Status: fiber.StatusBadRequest, Message: err.Error(), Field: "state", Sentence: i18n.SentenceOf(err)}
	case err != nil:
		s.log.Warn("mailbox sign-in failed", "err", err) // kept on the mailbox for its card
	}
	s.desk.MailboxConnected(ctx)
	return c.Redirect("/#/admin/mailboxes", fiber.StatusSeeOther)
}
