package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"onedesk/channels/chat"
	"onedesk/desk"
	"onedesk/store"
)

// The widget's part calls the portal as JSON from the shop's pages:
// the same origins as the chat (the store's allowed origins), the same
// rate limits as the pages, errors as {"error", "field"} in the visitor's
// language.

// apiErr is a refusal said in the visitor's language.
type apiErr struct {
	status int
	key    string // a catalog key
	field  string
}

func (e *apiErr) Error() string { return e.key }

// api wraps a JSON handler: the store, its origins, the body's size and
// the language (the body's "lang", else the query's, else the browser's).
func (p *Portal) api(h func(x *req, body map[string]string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x, ok := p.beginAPI(w, r)
		if !ok || h == nil {
			return
		}
		body := map[string]string{}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": x.T["err_generic"], "field": ""})
				return
			}
			if l := body["lang"]; l != "" {
				x.lang = desk.PickLanguage(x.st.Language, l)
				x.T = catalog(x.lang)
			}
		}
		out, err := h(x, body)
		var ae *apiErr
		switch {
		case errors.As(err, &ae):
			writeJSON(w, ae.status, map[string]string{"error": x.T[ae.key], "field": ae.field})
		case err != nil:
			if ie, ok := desk.IsInput(err); ok {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": sentence(x.lang, err), "field": ie.Field})
				return
			}
			p.log.Error("portal: api", "path", r.URL.Path, "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": x.T["err_generic"], "field": ""})
		default:
			writeJSON(w, http.StatusOK, out)
		}
	}
}

// beginAPI checks the store and the caller's origin and answers CORS.
func (p *Portal) beginAPI(w http.ResponseWriter, r *http.Request) (*req, bool) {
	x := &req{w: w, r: r}
	st, err := p.db.StoreBySlug(r.Context(), r.PathValue("store"))
	x.lang = desk.PickLanguage("", r.URL.Query().Get("lang")+","+r.Header.Get("Accept-Language"))
	x.T = catalog(x.lang)
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": x.T["err_not_found"], "field": "store"})
		return nil, false
	}
	x.st = st
	x.lang = desk.PickLanguage(st.Language, r.URL.Query().Get("lang")+","+r.Header.Get("Accept-Language"))
	x.T = catalog(x.lang)
	origin := r.Header.Get("Origin")
	if !desk.OriginAllowed(st, origin, r.Host) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": x.T["err_csrf"], "field": "origin"})
		return nil, false
	}
	if origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return nil, false
	}
	return x, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiStrings are the widget part's texts in the visitor's language.
func (p *Portal) apiStrings(x *req, _ map[string]string) (any, error) {
	return map[string]any{"language": x.lang, "strings": x.T}, nil
}

// apiContinue mails the visitor a link that continues their chat on
// another device; the address becomes the visitor's (or is claimed, when
// another customer has it: opening the link proves it theirs). The
// answer is the same for any address.
func (p *Portal) apiContinue(x *req, body map[string]string) (any, error) {
	ctx := x.r.Context()
	visitor, ok := chat.VisitorIdentity(body["token"])
	if !ok {
		return nil, &apiErr{http.StatusBadRequest, "err_no_chat", "token"}
	}
	email, err := desk.NormalizeEmail(strings.TrimSpace(body["email"]))
	if err != nil {
		return nil, &apiErr{http.StatusBadRequest, "err_email", "email"}
	}
	if !p.mailByIP.Allow(clientIP(x.r)) || !p.mailByEmail.Allow(fmt.Sprint(x.st.ID, ":", email)) {
		return nil, &apiErr{http.StatusTooManyRequests, "err_fast", "email"}
	}
	if t, err := p.desk.CurrentTicket(ctx, visitor, "chat"); err != nil {
		return nil, err
	} else if t == nil {
		return nil, &apiErr{http.StatusBadRequest, "err_no_chat", "token"}
	}
	base := p.linkBase(x.r)
	if base == "" && x.st.Chat.PageURL == "" {
		return nil, &apiErr{http.StatusServiceUnavailable, "err_no_mail", ""}
	}
	if _, err := p.desk.Identify(ctx, visitor, "", email); err != nil {
		return nil, err
	}
	if err := p.sendLink(ctx, x, base, email, visitor.Value); err != nil {
		if errors.Is(err, desk.ErrNoSystemMail) {
			return nil, &apiErr{http.StatusServiceUnavailable, "err_no_mail", ""}
		}
		return nil, err
	}
	return map[string]any{"sent": true, "message": x.T["continue_sent"]}, nil
}

// apiContinueOpen is the other device's half: its widget found a continue
// link's code in the page's address and trades it, once, for a visitor
// token of its own, tied to the chat's customer, so it shows the whole
// thread and replies reach both devices. Opening the link proves the
// address it went to is the visitor's (continueChat). A code used
// already, expired or unknown is said plainly.
func (p *Portal) apiContinueOpen(x *req, body map[string]string) (any, error) {
	ctx := x.r.Context()
	if !p.openByIP.Allow(clientIP(x.r)) {
		return nil, &apiErr{http.StatusTooManyRequests, "err_fast", ""}
	}
	l, err := p.spendLink(ctx, x, body["code"], true)
	switch {
	case errors.Is(err, errLinkUsed):
		return nil, &apiErr{http.StatusGone, "continue_used", "code"}
	case errors.Is(err, errLinkExpired):
		return nil, &apiErr{http.StatusGone, "continue_expired", "code"}
	case errors.Is(err, errLinkUnknown):
		return nil, &apiErr{http.StatusNotFound, "continue_unknown", "code"}
	case err != nil:
		return nil, err
	}
	if _, err := p.continueChat(ctx, l); err != nil {
		return nil, err
	}
	token, device := chat.NewVisitor()
	if _, err := p.desk.JoinDevice(ctx, store.Identity{Kind: "visitor", Value: l.Visitor}, device); errors.Is(err, store.ErrNotFound) {
		return nil, &apiErr{http.StatusNotFound, "continue_unknown", "code"} // the chat's customer is gone (erased)
	} else if err != nil {
		return nil, err
	}
	return map[string]any{"token": token}, nil
}
