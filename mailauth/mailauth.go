// Package mailauth signs mailboxes in with OAuth2 (Gmail, Microsoft 365,
// or another provider) with golang.org/x/oauth2: the sign-in an admin
// starts (authorization code with PKCE, a state bound to the admin's
// session, asking for a refresh token), the code's exchange at the
// callback, and access tokens that refresh themselves and are kept
// (sealed) in the store, so that every node reads the newest. The IMAP
// and SMTP logins with the token are the email channel's.
package mailauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"onedesk/i18n"
	"onedesk/netguard"
	"onedesk/store"
)

// Providers a mailbox may sign in with.
const (
	Google    = "google"
	Microsoft = "microsoft"
	Custom    = "custom"
)

// The scopes of IMAP and SMTP access: Google's one scope covers both;
// Microsoft names each and needs offline_access for a refresh token.
var (
	googleScopes    = []string{"https://mail.google.com/"}
	microsoftScopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"}
)

// Config is the OAuth2 client of a mailbox's app at its provider.
func Config(o *store.MailboxOAuth, redirectURL string) *oauth2.Config {
	c := &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: redirectURL}
	switch o.Provider {
	case Google:
		c.Endpoint, c.Scopes = endpoints.Google, googleScopes
	case Microsoft:
		c.Endpoint, c.Scopes = endpoints.AzureAD(o.Tenant), microsoftScopes
	default:
		c.Endpoint, c.Scopes = oauth2.Endpoint{AuthURL: o.AuthURL, TokenURL: o.TokenURL}, strings.Fields(o.Scopes)
	}
	return c
}

// ProviderName is how messages name a mailbox's provider: Google,
// Microsoft, or the host of a custom provider's token URL.
func ProviderName(o *store.MailboxOAuth) string {
	switch o.Provider {
	case Google:
		return "Google"
	case Microsoft:
		return "Microsoft"
	}
	if u, err := url.Parse(o.TokenURL); err == nil && u.Host != "" {
		return u.Host
	}
	return o.TokenURL
}

// httpClient is what talks to token endpoints: through netguard, so a
// custom provider's URL cannot reach into the desk's own network.
var httpClient = netguard.Default.Client(30 * time.Second)

func withClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, httpClient)
}

// signInTime is how long a sign-in may take, from Connect to callback.
const signInTime = 15 * time.Minute

// Errors of a sign-in's callback.
var (
	// ErrState is a callback whose state is unknown, used, or from
	// another session: nothing is exchanged.
	ErrState = i18n.Errorf("this sign-in is not the one this session started, or it was used already: start again with Connect")
	// ErrExpired is a callback that came too late.
	ErrExpired = i18n.Errorf("the sign-in took longer than 15 minutes: start again with Connect")
	// ErrNotConnected is a mailbox set to OAuth2 that has no tokens yet.
	ErrNotConnected = i18n.Errorf("the mailbox is not connected to its provider yet: click Connect in Settings → Mailboxes")
)

// hashState is how a state is kept: a leaked database row does not
// give a state that a callback would take.
func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// Begin starts the sign-in of a mailbox for the admin's session and
// returns the provider's consent page to send the browser to.
func Begin(ctx context.Context, db *store.DB, mb *store.Mailbox, session, redirectURL string) (string, error) {
	o, err := db.MailboxOAuth(ctx, mb.ID)
	if err != nil {
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	state := base64.RawURLEncoding.EncodeToString(b)
	verifier := oauth2.GenerateVerifier()
	if err := db.StartMailboxOAuth(ctx, mb.ID, hashState(state), verifier, session); err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.ApprovalForce,
		oauth2.SetAuthURLParam("login_hint", mb.Address)}
	if o.Provider != Microsoft {
		opts = append(opts, oauth2.AccessTypeOffline) // Google's way to ask for a refresh token
	}
	return Config(o, redirectURL).AuthCodeURL(state, opts...), nil
}

// Finish takes the provider's callback: the state must be one the same
// session started, not long ago; the code is exchanged (with the PKCE
// verifier) for tokens, which the mailbox keeps. It returns the mailbox.
// A provider's refusal is also kept on the mailbox, for its card.
func Finish(ctx context.Context, db *store.DB, state, code, session, redirectURL string) (int64, error) {
	p, err := db.TakeMailboxOAuth(ctx, hashState(state))
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrState
	}
	if err != nil {
		return 0, err
	}
	if p.Session != session || session == "" {
		return 0, ErrState
	}
	if time.Since(p.StartedAt) > signInTime {
		return p.MailboxID, ErrExpired
	}
	o, err := db.MailboxOAuth(ctx, p.MailboxID)
	if err != nil {
		return p.MailboxID, err
	}
	tok, err := Config(o, redirectURL).Exchange(withClient(ctx), code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		err = i18n.Errorf("%s did not give the mailbox a token: %w", ProviderName(o), describe(err))
		return p.MailboxID, failed(ctx, db, o, err)
	}
	return p.MailboxID, db.ConnectMailboxOAuth(ctx, p.MailboxID, tok.AccessToken, tok.RefreshToken, expiry(tok))
}

// Refused records that the provider's answer to a sign-in was a refusal
// (the admin declined, say), for the mailbox's card.
func Refused(ctx context.Context, db *store.DB, state, session, code, description string) (int64, error) {
	p, err := db.TakeMailboxOAuth(ctx, hashState(state))
	if err != nil || p.Session != session || session == "" {
		return 0, ErrState
	}
	o, err := db.MailboxOAuth(ctx, p.MailboxID)
	if err != nil {
		return p.MailboxID, err
	}
	why := code
	if description != "" {
		why += ": " + description
	}
	e := i18n.Errorf("the sign-in at %s was not completed (%s): click Connect to try again", ProviderName(o), why)
	return p.MailboxID, failed(ctx, db, o, e)
}

// failed keeps why a sign-in failed on the mailbox, for its card, unless
// the mailbox still has a working grant: a Reconnect abandoned half way
// must not stop a mailbox that works.
func failed(ctx context.Context, db *store.DB, o *store.MailboxOAuth, why error) error {
	if o.Connected() {
		return why
	}
	if err := db.SetMailboxOAuthGrantError(ctx, o.MailboxID, why.Error(), i18n.Stored(why)); err != nil {
		return err
	}
	return why
}

func expiry(t *oauth2.Token) *time.Time {
	if t.Expiry.IsZero() {
		return nil
	}
	e := t.Expiry.UTC()
	return &e
}

// describe is a token endpoint's error in a few words: its RFC 6749
// error code and description, not the whole answer.
func describe(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			if re.ErrorDescription != "" {
				return fmt.Errorf("%s: %s", re.ErrorCode, firstLine(re.ErrorDescription))
			}
			return errors.New(re.ErrorCode)
		}
		if re.Response != nil {
			return fmt.Errorf("the token endpoint answered %s", re.Response.Status)
		}
	}
	return err
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}

// grantGone tells an answer of the token endpoint that only the admin
// can mend (revoked or expired grant, a client id or secret refused)
// from one worth retrying (the network, the provider's outage).
func grantGone(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	switch re.ErrorCode {
	case "invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope", "access_denied":
		return true
	}
	return re.ErrorCode == "" && re.Response != nil && (re.Response.StatusCode == 400 || re.Response.StatusCode == 401)
}

// restore is a kept error as an error again, in any language if it was
// kept as a sentence.
func restore(english, stored string) error {
	if s := i18n.Decode(stored); !s.IsZero() {
		return s.Err()
	}
	return errors.New(english)
}

// GrantError is a mailbox whose grant no longer works: its text says
// why and that Reconnect mends it.
type GrantError struct{ Err error }

func (e *GrantError) Error() string { return e.Err.Error() }
func (e *GrantError) Unwrap() error { return e.Err }

// Tokens hands out the access tokens of mailboxes, refreshing them when
// they expire (and when a server refused one) and keeping what the
// provider gave. One refresh per mailbox at a time in this process;
// across nodes the store keeps the token that lasts longest.
type Tokens struct {
	db    *store.DB
	mu    sync.Mutex
	locks map[int64]*sync.Mutex
}

// NewTokens returns the tokens of db's mailboxes.
func NewTokens(db *store.DB) *Tokens {
	return &Tokens{db: db, locks: map[int64]*sync.Mutex{}}
}

func (t *Tokens) lock(id int64) func() {
	t.mu.Lock()
	l := t.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		t.locks[id] = l
	}
	t.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Token returns a mailbox's access token, refreshed when it expired or
// when it is refused, the token a server just refused ("" when none).
func (t *Tokens) Token(ctx context.Context, mailboxID int64, refused string) (string, error) {
	defer t.lock(mailboxID)()
	o, err := t.db.MailboxOAuth(ctx, mailboxID)
	if err != nil {
		return "", err
	}
	if o.GrantError != "" {
		// Asking again would be refused again: the admin has to reconnect.
		return "", &GrantError{restore(o.GrantError, o.GrantErrorI18n)}
	}
	if o.AccessToken == "" && o.RefreshToken == "" {
		return "", ErrNotConnected
	}
	cur := &oauth2.Token{AccessToken: o.AccessToken, RefreshToken: o.RefreshToken}
	if o.TokenExpiry != nil {
		cur.Expiry = *o.TokenExpiry
	}
	if cur.Valid() && o.AccessToken != refused {
		return o.AccessToken, nil
	}
	if o.RefreshToken == "" {
		return "", t.gone(ctx, o, i18n.Errorf("the access token expired and %s gave no refresh token", ProviderName(o)))
	}
	// A token without its access token makes the source refresh at once.
	fresh, err := Config(o, "").TokenSource(withClient(ctx), &oauth2.Token{RefreshToken: o.RefreshToken}).Token()
	if err != nil && grantGone(err) {
		// Another node may have refreshed meanwhile, and the provider
		// rotated the token this one read: its successor is in the store.
		if now, e := t.db.MailboxOAuth(ctx, mailboxID); e == nil && now.GrantError == "" && now.RefreshToken != o.RefreshToken {
			o = now
			fresh, err = Config(o, "").TokenSource(withClient(ctx), &oauth2.Token{RefreshToken: o.RefreshToken}).Token()
		}
	}
	if err != nil {
		if grantGone(err) {
			return "", t.gone(ctx, o, describe(err))
		}
		return "", i18n.Errorf("%s did not refresh the mailbox's token: %w", ProviderName(o), describe(err))
	}
	refresh := ""
	if fresh.RefreshToken != o.RefreshToken {
		refresh = fresh.RefreshToken // rotated (Microsoft does)
	}
	if err := t.db.RefreshMailboxOAuth(ctx, mailboxID, fresh.AccessToken, refresh, expiry(fresh)); err != nil {
		return "", err
	}
	return fresh.AccessToken, nil
}

// Refused records that a mail server refused a fresh token: the grant
// is marked gone (the app offers Reconnect) and the error says so.
func (t *Tokens) Refused(ctx context.Context, mailboxID int64, server string, why error) error {
	o, err := t.db.MailboxOAuth(ctx, mailboxID)
	if err != nil {
		return err
	}
	return t.gone(ctx, o, i18n.Errorf("the mail server %s refused the token (%v); check the user name and that the mailbox may sign in this way", server, why))
}

// gone marks a mailbox's grant as needing Reconnect, and says so.
func (t *Tokens) gone(ctx context.Context, o *store.MailboxOAuth, why error) error {
	err := &GrantError{i18n.Errorf("the sign-in at %s no longer works (%w): click Reconnect in Settings → Mailboxes", ProviderName(o), why)}
	if e := t.db.SetMailboxOAuthGrantError(ctx, o.MailboxID, err.Error(), i18n.Stored(err.Err)); e != nil {
		return e
	}
	return err
}
