package portal

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

type ticketRow struct {
	ID                                int64
	Subject, Status, Channel, Updated string
	Snippet                           string
}

type ticketView struct {
	ticketRow
	Messages []messageView
}

type messageView struct {
	ID          int64
	Mine        bool
	Who, When   string
	Body        string // plain text: the page never shows HTML from outside
	Attachments []store.Attachment
}

// sentence is a desk error in the reader's language.
func sentence(lang string, err error) string { return i18n.SentenceOf(err).In(lang) }

// ownTicket reads a ticket of the signed-in customer in this store (or of
// no store); nil when it is anyone else's, or there is no such ticket.
func (p *Portal) ownTicket(x *req, idText string) (*store.Ticket, error) {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || x.customer == 0 {
		return nil, nil
	}
	t, err := p.db.Ticket(x.r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t.CustomerID != x.customer || t.StoreID != nil && *t.StoreID != x.st.ID {
		return nil, nil
	}
	return t, nil
}

// pathTicket is the customer's ticket the path names; nil when it names
// none of theirs, and the page then says so (404).
func (p *Portal) pathTicket(x *req) (*store.Ticket, error) {
	t, err := p.ownTicket(x, x.r.PathValue("id"))
	if err == nil && t == nil {
		p.fail(x, http.StatusNotFound, "err_not_found")
	}
	return t, err
}

// ticket is one ticket's thread: the customer's and the agents' messages
// (never internal notes nor machine mail), with its files and a reply form.
func (p *Portal) ticket(x *req) error {
	if x.session == nil {
		http.Redirect(x.w, x.r, "/portal/"+x.st.Slug, http.StatusSeeOther)
		return nil
	}
	t, err := p.pathTicket(x)
	if err != nil || t == nil {
		return err
	}
	v := p.newView(x, "ticket")
	if v.Ticket, err = p.thread(x, t); err != nil {
		return err
	}
	v.FormID = randomID()
	switch x.r.URL.Query().Get("sent") {
	case "1":
		v.Notice = x.T["sent_reply"]
	}
	p.render(x, http.StatusOK, v)
	return nil
}

func (p *Portal) thread(x *req, t *store.Ticket) (*ticketView, error) {
	msgs, err := p.db.Messages(x.r.Context(), t.ID)
	if err != nil {
		return nil, err
	}
	tv := &ticketView{ticketRow: ticketRow{ID: t.ID, Subject: t.Subject, Status: t.Status, Channel: t.Channel, Updated: date(t.UpdatedAt)}}
	agents := map[int64]string{}
	zone, err := time.LoadLocation(x.st.Timezone) // times as the shop tells them
	if err != nil || x.st.Timezone == "" {
		zone = time.UTC
	}
	for _, m := range msgs {
		if m.Kind != "customer" && m.Kind != "agent" || m.Auto != "" {
			continue
		}
		mv := messageView{ID: m.ID, Mine: m.Kind == "customer", When: m.CreatedAt.In(zone).Format("2006-01-02 15:04"), Body: m.Body, Attachments: m.Attachments}
		if m.Body == desk.NoTextBody {
			mv.Body = ""
		}
		switch {
		case mv.Mine:
			mv.Who = x.T["you"]
		case m.AuthorID != nil:
			name, ok := agents[*m.AuthorID]
			if !ok {
				if a, err := p.db.Agent(x.r.Context(), *m.AuthorID); err == nil {
					name, _, _ = strings.Cut(a.Name, " ") // the first name: agents' full names stay in the team
				}
				agents[*m.AuthorID] = name
			}
			mv.Who = strings.TrimSpace(name + " · " + x.st.Name)
		default:
			mv.Who = x.st.Name
		}
		tv.Messages = append(tv.Messages, mv)
	}
	return tv, nil
}

// reply adds the customer's message (and files) to their ticket through
// desk.Ingest on the ticket's channel; a ticket closed (or long resolved)
// opens its follow-up, as any customer message does.
func (p *Portal) reply(x *req) error {
	if x.session == nil {
		http.Redirect(x.w, x.r, "/portal/"+x.st.Slug, http.StatusSeeOther)
		return nil
	}
	if err := x.r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		p.fail(x, http.StatusRequestEntityTooLarge, "err_files_size")
		return nil
	}
	if x.r.MultipartForm != nil {
		defer x.r.MultipartForm.RemoveAll()
	}
	if !csrfOK(x) {
		p.fail(x, http.StatusForbidden, "err_csrf")
		return nil
	}
	t, err := p.pathTicket(x)
	if err != nil || t == nil {
		return err
	}
	again := func(status int, problem string) error {
		v := p.newView(x, "ticket")
		var err error
		if v.Ticket, err = p.thread(x, t); err != nil {
			return err
		}
		v.FormID, v.Error, v.HelpMessage = randomID(), problem, x.r.PostFormValue("body")
		p.render(x, status, v)
		return nil
	}
	if !p.replyLimit.Allow(clientIP(x.r)) {
		return again(http.StatusTooManyRequests, x.T["err_fast"])
	}
	files, problem := readFiles(x)
	if problem != "" {
		return again(http.StatusBadRequest, problem)
	}
	text := strings.TrimSpace(x.r.PostFormValue("body"))
	if text == "" && len(files) == 0 {
		return again(http.StatusBadRequest, x.T["err_empty"])
	}
	formID := x.r.PostFormValue("form_id")
	if len(formID) < 16 || len(formID) > 64 {
		formID = randomID()
	}
	res, err := p.desk.Ingest(x.r.Context(), desk.Inbound{Channel: t.Channel, StoreID: t.StoreID,
		From: store.Identity{Kind: "email", Value: x.session.Email}, Text: text, Attachments: files,
		// A form sent twice is stored once; the id is the customer's own
		// (a form id they chose cannot name anyone else's message).
		TicketID: t.ID, ExternalID: "portal:" + desk.HashToken(x.session.Email)[:12] + ":" + formID,
		Language: readerLanguage(x.r)})
	if err != nil {
		if _, ok := desk.IsInput(err); ok {
			return again(http.StatusBadRequest, sentence(x.lang, err))
		}
		return err
	}
	http.Redirect(x.w, x.r, fmt.Sprintf("/portal/%s/tickets/%d?sent=1", x.st.Slug, res.Ticket.ID), http.StatusSeeOther)
	return nil
}

// readFiles reads a reply's files within the limits; problem says (in
// the reader's language) what is wrong.
func readFiles(x *req) ([]store.Attachment, string) {
	if x.r.MultipartForm == nil {
		return nil, ""
	}
	heads := x.r.MultipartForm.File["files"]
	var out []store.Attachment
	for _, h := range heads {
		if h.Size == 0 && h.Filename == "" {
			continue // the empty input of a browser that sends one
		}
		if len(out) == MaxFiles {
			return nil, strings.ReplaceAll(x.T["err_files"], "{n}", strconv.Itoa(MaxFiles))
		}
		if h.Size > MaxFileMB<<20 {
			return nil, strings.ReplaceAll(x.T["err_file_size"], "{mb}", strconv.Itoa(MaxFileMB))
		}
		f, err := h.Open()
		if err != nil {
			return nil, x.T["err_generic"]
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxFileMB<<20+1))
		f.Close()
		if err != nil || len(data) > MaxFileMB<<20 {
			return nil, strings.ReplaceAll(x.T["err_file_size"], "{mb}", strconv.Itoa(MaxFileMB))
		}
		ct := h.Header.Get("Content-Type")
		if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
			ct = "application/octet-stream"
		}
		out = append(out, store.Attachment{Filename: h.Filename, ContentType: ct, Size: int64(len(data)), Data: data})
	}
	return out, ""
}

// file sends a file of the customer's own ticket (a public message's),
// always as a download.
func (p *Portal) file(x *req) error {
	id, err := strconv.ParseInt(x.r.PathValue("id"), 10, 64)
	if x.session == nil || x.customer == 0 || err != nil {
		p.fail(x, http.StatusNotFound, "err_not_found")
		return nil
	}
	a, ticketID, err := p.db.AttachmentData(x.r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		p.fail(x, http.StatusNotFound, "err_not_found")
		return nil
	}
	if err != nil {
		return err
	}
	t, err := p.ownTicket(x, strconv.FormatInt(ticketID, 10))
	if err != nil {
		return err
	}
	m, err := p.db.Message(x.r.Context(), a.MessageID)
	if err != nil {
		return err
	}
	if t == nil || m.Kind != "customer" && m.Kind != "agent" {
		p.fail(x, http.StatusNotFound, "err_not_found")
		return nil
	}
	h := x.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	x.w.Write(a.Data)
	return nil
}
