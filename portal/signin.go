package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"onedesk/desk"
	"onedesk/store"
)

// home is the portal's first page: the customer's tickets when signed in,
// else the sign-in form; both offer order tracking.
func (p *Portal) home(x *req) error {
	if x.session == nil {
		p.render(x, http.StatusOK, p.newView(x, "signin"))
		return nil
	}
	v := p.newView(x, "tickets")
	if x.customer != 0 {
		list, err := p.db.PortalTickets(x.r.Context(), x.customer, x.st.ID, maxTickets)
		if err != nil {
			return err
		}
		for _, t := range list {
			v.Tickets = append(v.Tickets, ticketRow{ID: t.ID, Subject: t.Subject, Status: t.Status, Channel: t.Channel,
				Updated: date(t.UpdatedAt), Snippet: t.Snippet})
		}
	}
	p.render(x, http.StatusOK, v)
	return nil
}

// askLink mails a sign-in link to an address that has a customer; the
// answer is the same whether it has one or not.
func (p *Portal) askLink(x *req) error {
	email, err := desk.NormalizeEmail(strings.TrimSpace(x.r.PostFormValue("email")))
	if err != nil {
		v := p.newView(x, "signin")
		v.Error = x.T["err_email"]
		p.render(x, http.StatusBadRequest, v)
		return nil
	}
	if !p.mailByIP.Allow(clientIP(x.r)) || !p.mailByEmail.Allow(fmt.Sprint(x.st.ID, ":", email)) {
		v := p.newView(x, "signin")
		v.Error = x.T["err_fast"]
		p.render(x, http.StatusTooManyRequests, v)
		return nil
	}
	base := p.linkBase(x.r)
	if base == "" {
		p.fail(x, http.StatusServiceUnavailable, "err_no_mail")
		return nil
	}
	if err := p.sendLink(x.r.Context(), x, base, email, ""); err != nil {
		if errors.Is(err, desk.ErrNoSystemMail) {
			p.fail(x, http.StatusServiceUnavailable, "err_no_mail")
			return nil
		}
		return err
	}
	v := p.newView(x, "sent")
	v.Notice = x.T["sent_text"]
	p.render(x, http.StatusOK, v)
	return nil
}

// sendLink keeps and mails a link for email: a sign-in link, or with a
// visitor the link that continues that visitor's chat. A sign-in link
// goes only to an address a customer has (quietly nowhere otherwise).
func (p *Portal) sendLink(ctx context.Context, x *req, base, email, visitor string) error {
	if visitor == "" {
		if _, err := p.db.CustomerByIdentity(ctx, store.Identity{Kind: "email", Value: email}); errors.Is(err, store.ErrNotFound) {
			p.log.Info("portal: sign-in link asked for an address with no customer", "store", x.st.ID)
			return nil
		} else if err != nil {
			return err
		}
	}
	token := desk.RandomToken()
	if err := p.db.InsertPortalLink(ctx, desk.HashToken(token), store.PortalLink{StoreID: x.st.ID, Email: email,
		Visitor: visitor, ExpiresAt: store.Now().Add(LinkTTL)}); err != nil {
		return err
	}
	link := base + "/portal/" + x.st.Slug + "/link?lang=" + x.lang + "&t=" + token
	subject, text := x.T["mail_subject"], x.T["mail_text"]
	what := "portal sign-in link"
	if visitor != "" {
		link = continueLink(x.st, base, token)
		subject, text, what = x.T["mail_continue_subject"], x.T["mail_continue_text"], "chat continue link"
	}
	fill := strings.NewReplacer("{store}", x.st.Name, "{link}", link, "{minutes}", fmt.Sprint(int(LinkTTL.Minutes())))
	return p.desk.MailCustomer(ctx, x.st.ID, desk.SystemMail{To: email, Subject: fill.Replace(subject), Text: fill.Replace(text)}, what)
}

// continueLink is where a continue link opens the chat on the other
// device: the store's page with the widget, else the desk's own chat page
// of the store. The token rides in the fragment, which browsers never
// send to a server (no log keeps it) and which only the widget's script
// reads, so a mail scanner that follows the link does not spend it.
func continueLink(st *store.Store, base, token string) string {
	page := st.Chat.PageURL
	if page == "" {
		page = base + "/chat/" + url.PathEscape(st.Slug)
	}
	return page + "#onedesk-continue=" + token
}

// showLink is the page a mailed link opens: a button that signs in. A
// GET spends nothing, so a mail scanner that follows links does not use
// the customer's link up.
func (p *Portal) showLink(x *req) error {
	v := p.newView(x, "link")
	v.LinkToken = x.r.URL.Query().Get("t")
	p.render(x, http.StatusOK, v)
	return nil
}

// Why a link does not sign in.
var (
	errLinkUnknown = errors.New("unknown portal link")
	errLinkUsed    = errors.New("portal link used")
	errLinkExpired = errors.New("portal link expired")
)

// useLink spends a link and signs the customer in. A continue link also
// proves the visitor owns the address: the visitor's customer joins the
// address's, and the page is the chat's ticket (links mailed before the
// widget took them over still open here).
func (p *Portal) useLink(x *req) error {
	ctx := x.r.Context()
	l, err := p.spendLink(ctx, x, x.r.PostFormValue("t"), false)
	if errors.Is(err, errLinkUnknown) || errors.Is(err, errLinkUsed) || errors.Is(err, errLinkExpired) {
		v := p.newView(x, "signin")
		v.Error = x.T["link_bad"]
		p.render(x, http.StatusGone, v)
		return nil
	}
	if err != nil {
		return err
	}
	next := "/portal/" + x.st.Slug
	if l.Visitor != "" {
		id, err := p.continueChat(ctx, l)
		if err != nil {
			return err
		}
		if id != 0 {
			next += fmt.Sprint("/tickets/", id)
		}
	}
	if err := p.startSession(x, l.Email); err != nil {
		return err
	}
	if err := p.desk.SetCustomerLanguage(ctx, store.Identity{Kind: "email", Value: l.Email}, readerLanguage(x.r)); err != nil {
		return err
	}
	http.Redirect(x.w, x.r, next, http.StatusSeeOther)
	return nil
}

// spendLink spends a mailed link of x's store (only a continue link when
// continuing), or says why not: unknown (or another store's, or not a
// continue link), used, expired.
func (p *Portal) spendLink(ctx context.Context, x *req, token string, continuing bool) (*store.PortalLink, error) {
	hash := desk.HashToken(token)
	var l *store.PortalLink
	err := p.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		l, err = tx.PortalLink(ctx, hash)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errLinkUnknown
		case err != nil:
			return err
		case l.StoreID != x.st.ID || continuing && l.Visitor == "":
			return errLinkUnknown
		case l.Used:
			return errLinkUsed
		case !store.Now().Before(l.ExpiresAt):
			return errLinkExpired
		}
		ok, err := tx.UsePortalLink(ctx, hash)
		if err == nil && !ok {
			return errLinkUsed
		}
		return err
	})
	if errors.Is(err, errLinkUnknown) || errors.Is(err, errLinkUsed) || errors.Is(err, errLinkExpired) {
		p.log.Info("portal: link refused", "store", x.st.ID, "why", err)
	}
	return l, err
}

// continueChat ties a chat visitor to the address its link was opened
// from (their inbox: proof enough, as an answer from it is for a claim)
// and names the chat's ticket (0: none).
func (p *Portal) continueChat(ctx context.Context, l *store.PortalLink) (int64, error) {
	visitor := store.Identity{Kind: "visitor", Value: l.Visitor}
	email := store.Identity{Kind: "email", Value: l.Email}
	vc, err := p.db.CustomerByIdentity(ctx, visitor)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	owner, err := p.db.CustomerByIdentity(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, err := p.desk.Identify(ctx, visitor, "", l.Email); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	case owner != vc:
		if _, err := p.desk.MergeCustomers(ctx, owner, vc, desk.Customer); err != nil {
			return 0, fmt.Errorf("join the visitor to the address's customer: %w", err)
		}
	}
	t, err := p.desk.CurrentTicket(ctx, visitor, "chat")
	if err != nil || t == nil {
		return 0, err
	}
	return t.ID, nil
}

// startSession signs the customer of email in: a new session and its
// cookie (HttpOnly, SameSite=Lax so that a link from a mail keeps it,
// for this store's portal alone).
func (p *Portal) startSession(x *req, email string) error {
	token := desk.RandomToken()
	s := store.PortalSession{StoreID: x.st.ID, Email: email, CSRF: desk.RandomToken(), ExpiresAt: store.Now().Add(SessionTTL)}
	if err := p.db.Write(x.r.Context(), func(tx *store.Tx) error { return tx.InsertPortalSession(x.r.Context(), desk.HashToken(token), s) }); err != nil {
		return err
	}
	http.SetCookie(x.w, &http.Cookie{Name: cookieName, Value: token, Path: "/portal/" + x.st.Slug, Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secure(x.r)})
	return nil
}

// signOut ends the session.
func (p *Portal) signOut(x *req) error {
	if x.session != nil && csrfOK(x) {
		if err := p.db.DeletePortalSession(x.r.Context(), desk.HashToken(x.token)); err != nil {
			return err
		}
	}
	http.SetCookie(x.w, &http.Cookie{Name: cookieName, Value: "", Path: "/portal/" + x.st.Slug, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secure(x.r)})
	http.Redirect(x.w, x.r, "/portal/"+x.st.Slug, http.StatusSeeOther)
	return nil
}
