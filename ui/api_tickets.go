package ui

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/store"
)

// listParam reads a comma-separated query parameter whose values must be
// among allowed (nil when absent).
func listParam(c *fiber.Ctx, name string, allowed []string) ([]string, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	list := strings.Split(v, ",")
	for _, x := range list {
		if !slices.Contains(allowed, x) {
			return nil, fieldErr(name, "%s must be one of %v, not %q", name, allowed, x)
		}
	}
	return list, nil
}

func (s *Server) listTickets(c *fiber.Ctx, p *principal) error {
	f := store.TicketFilter{
		Channel: c.Query("channel"), Query: c.Query("q"), Sort: c.Query("sort"),
		Cursor: c.Query("cursor"), ViewerID: p.agent.ID, Stores: p.stores(),
	}
	if len(f.Query) > 500 {
		return fieldErr("q", "the search is longer than 500 characters")
	}
	var err error
	if f.Statuses, err = listParam(c, "status", store.Statuses); err != nil {
		return err
	}
	if f.Priorities, err = listParam(c, "priority", store.Priorities); err != nil {
		return err
	}
	f.Snoozed = c.Query("snoozed") == "true"
	if f.SLA = c.Query("sla"); f.SLA != "" {
		if f.SLA != "at_risk" && f.SLA != "breached" {
			return fieldErr("sla", "sla must be at_risk or breached, not %q", f.SLA)
		}
		f.SLANow = store.Now()
	}
	if v := c.Query("tag"); v != "" {
		tags, err := desk.CleanTags(strings.Split(v, ","))
		if err != nil {
			if ie, ok := desk.IsInput(err); ok {
				return &desk.InputError{Field: "tag", Message: ie.Message, Sentence: ie.Sentence}
			}
			return err
		}
		f.Tags = tags
	}
	for k, v := range c.Queries() {
		name, ok := strings.CutPrefix(k, "field.")
		if !ok {
			continue
		}
		if !desk.FieldName(name) || len(v) > 500 {
			return fieldErr(k, "%s: a form field is named with lowercase letters, digits and _, and its value is at most 500 characters", k)
		}
		if f.Fields == nil {
			f.Fields = map[string]string{}
		}
		f.Fields[name] = map[string]string{"true": "1", "false": "0"}[v]
		if f.Fields[name] == "" {
			f.Fields[name] = v
		}
	}
	if f.Channel != "" && !slices.Contains(store.Channels, f.Channel) {
		return fieldErr("channel", "channel must be one of %v, not %q", store.Channels, f.Channel)
	}
	if f.Sort != "" && !slices.Contains(store.Sorts, f.Sort) {
		return fieldErr("sort", "sort must be one of %v, not %q", store.Sorts, f.Sort)
	}
	switch v := c.Query("assignee"); v {
	case "":
	case "none":
		f.Unassigned = true
	case "me":
		f.AssigneeID = &p.agent.ID
	default:
		id, err := queryID(c, "assignee")
		if err != nil {
			return fieldErr("assignee", "assignee must be an agent id, me or none, not %q", v)
		}
		f.AssigneeID = id
	}
	if c.Query("team") == "none" {
		f.NoTeam = true
	} else {
		id, err := queryID(c, "team")
		if err != nil {
			return err
		}
		f.TeamID = id
	}
	if f.StoreID, err = queryID(c, "store"); err != nil {
		return err
	}
	if f.CustomerID, err = queryID(c, "customer"); err != nil {
		return err
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return fieldErr("limit", "limit must be a number from 1 to 200")
		}
		f.Limit = n
	}
	list, next, err := s.db.ListTickets(c.UserContext(), f)
	if err != nil {
		return err
	}
	if f.Query != "" && !s.db.SearchReady() {
		// The same tickets, from the older and slower index.
		return c.JSON(fiber.Map{"tickets": list, "next_cursor": next, "search_indexing": true})
	}
	return c.JSON(fiber.Map{"tickets": list, "next_cursor": next})
}

// ticketDetail is a ticket with its whole story.
type ticketDetail struct {
	*store.Ticket
	Messages []store.Message `json:"messages"`
	Events   []store.Event   `json:"events"`
	Customer *store.Customer `json:"customer"`
	// Others on the ticket besides the customer (a colleague in Cc).
	Participants []store.Customer `json:"participants"`
	// WhatsApp's 24-hour window: open until when, and the templates that
	// may be sent when it is closed (absent on channels without one).
	ReplyWindow *desk.ReplyWindow `json:"reply_window,omitempty"`
	// ReplySignature is what the viewer's reply would be signed with
	// ("" on channels whose replies are not emailed, or with none set).
	ReplySignature string `json:"reply_signature"`
	// Snooze is the ticket's sleep, when it is snoozed.
	Snooze *store.Snooze `json:"snooze"`
}

func (s *Server) detail(c *fiber.Ctx, id int64) (*ticketDetail, error) {
	ctx := c.UserContext()
	t, err := s.db.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &ticketDetail{Ticket: t}
	if d.Messages, err = s.db.Messages(ctx, id); err != nil {
		return nil, err
	}
	lang := requestLanguage(c)
	for i := range d.Messages {
		sayMessage(lang, &d.Messages[i])
	}
	if d.Events, err = s.db.Events(ctx, id); err != nil {
		return nil, err
	}
	if d.Customer, err = s.db.Customer(ctx, t.CustomerID); err != nil {
		return nil, err
	}
	if d.Participants, err = s.db.Participants(ctx, id); err != nil {
		return nil, err
	}
	if d.ReplyWindow, err = s.desk.ReplyWindow(ctx, t); err != nil {
		return nil, err
	}
	if p, ok := c.Locals(principalKey).(*principal); ok {
		if d.ReplySignature, err = s.desk.ReplySignature(ctx, p.agent.ID, t); err != nil {
			return nil, err
		}
	}
	if d.Snooze, err = s.db.Snooze(ctx, id); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) getTicket(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	d, err := s.detail(c, id)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// customerBody names a ticket's customer by address (found or made).
type customerBody struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

type newTicket struct {
	Subject    string          `json:"subject"`
	Body       string          `json:"body"`
	Customer   customerBody    `json:"customer"`
	StoreID    *int64          `json:"store_id"`
	Priority   string          `json:"priority"`
	Tags       []string        `json:"tags"`
	Fields     json.RawMessage `json:"fields"`
	AssigneeID *int64          `json:"assignee_id"`
	TeamID     *int64          `json:"team_id"`
	ExternalID string          `json:"external_id"`

	// "outbound": the agent writes first (see startTicket); "" or
	// "inbound": the body is the customer's message.
	Direction  string              `json:"direction"`
	Channel    string              `json:"channel"`
	CustomerID int64               `json:"customer_id"`
	MailboxID  int64               `json:"mailbox_id"`
	AccountID  int64               `json:"account_id"`
	Template   *desk.TemplateReply `json:"template"`
	Status     string              `json:"status"`
	Signature  *bool               `json:"signature"`
}

func (s *Server) createTicket(c *fiber.Ctx, p *principal) error {
	var in newTicket
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.checkNewTicket(c.UserContext(), p, &in.StoreID, in.CustomerID); err != nil {
		return err
	}
	if err := s.checkUpdate(c.UserContext(), p, nil, desk.Update{AssigneeID: desk.Optional[int64]{Set: in.AssigneeID != nil, Value: in.AssigneeID},
		TeamID: desk.Optional[int64]{Set: in.TeamID != nil, Value: in.TeamID}}); err != nil {
		return err
	}
	switch in.Direction {
	case "outbound":
		return s.startTicket(c, p, in)
	case "", "inbound":
	default:
		return fieldErr("direction", "direction must be inbound or outbound, not %q", in.Direction)
	}
	for field, set := range map[string]bool{"channel": in.Channel != "", "customer_id": in.CustomerID != 0,
		"mailbox_id": in.MailboxID != 0, "account_id": in.AccountID != 0, "template": in.Template != nil,
		"status": in.Status != "", "signature": in.Signature != nil} {
		if set {
			return fieldErr(field, "%s goes with \"direction\": \"outbound\" (a conversation the agent starts)", field)
		}
	}
	if strings.TrimSpace(in.Subject) == "" {
		return fieldErr("subject", "subject is empty")
	}
	if strings.TrimSpace(in.Body) == "" {
		return fieldErr("body", "body is empty")
	}
	from := store.Identity{Kind: "email", Value: in.Customer.Email}
	var more []store.Identity
	switch {
	case in.Customer.Email != "" && in.Customer.Phone != "":
		more = append(more, store.Identity{Kind: "phone", Value: in.Customer.Phone})
	case in.Customer.Phone != "":
		from = store.Identity{Kind: "phone", Value: in.Customer.Phone}
	case in.Customer.Email == "":
		return fieldErr("customer.email", "the customer needs an email or a phone")
	}
	res, err := s.desk.Ingest(c.UserContext(), desk.Inbound{
		Channel: "api", StoreID: in.StoreID, From: from, Identities: more, Name: in.Customer.Name,
		Subject: in.Subject, Text: in.Body, Fields: in.Fields, Priority: in.Priority, Tags: in.Tags,
		AssigneeID: in.AssigneeID, TeamID: in.TeamID, ExternalID: in.ExternalID,
	})
	if err != nil {
		return prefixField(err, "customer.", "email", "phone")
	}
	if !p.seesStore(res.Ticket.StoreID) {
		// An external id already taken by a ticket of another store.
		return &store.NotFoundError{Thing: "ticket", ID: res.Ticket.ID}
	}
	d, err := s.detail(c, res.Ticket.ID)
	if err != nil {
		return err
	}
	if res.Created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(d)
}

// prefixField names nested fields as the request spells them.
func prefixField(err error, prefix string, names ...string) error {
	if ie, ok := desk.IsInput(err); ok && slices.Contains(names, ie.Field) {
		return &desk.InputError{Field: prefix + ie.Field, Message: ie.Message, Sentence: ie.Sentence}
	}
	return err
}

func (s *Server) updateTicket(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := decode(c, &raw); err != nil {
		return err
	}
	u, err := readUpdate(raw, "")
	if err != nil {
		return err
	}
	if err := s.checkUpdate(c.UserContext(), p, []int64{id}, u); err != nil {
		return err
	}
	if _, err := s.desk.UpdateTicket(c.UserContext(), desk.AgentActor(p.agent.ID), id, u); err != nil {
		return err
	}
	d, err := s.detail(c, id)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// readUpdate reads the fields of a ticket change (a PATCH of one ticket,
// or a bulk change, whose other fields are named in more).
func readUpdate(raw map[string]json.RawMessage, more string) (desk.Update, error) {
	var u desk.Update
	for k, v := range raw {
		var err error
		switch k {
		case "status":
			err = json.Unmarshal(v, &u.Status)
			if err == nil && u.Status == "" {
				return u, fieldErr("status", "status is empty")
			}
		case "priority":
			err = json.Unmarshal(v, &u.Priority)
			if err == nil && u.Priority == "" {
				return u, fieldErr("priority", "priority is empty")
			}
		case "assignee_id":
			u.AssigneeID.Set = true
			err = json.Unmarshal(v, &u.AssigneeID.Value)
		case "team_id":
			u.TeamID.Set = true
			err = json.Unmarshal(v, &u.TeamID.Value)
		case "tags":
			var tags []string
			err = json.Unmarshal(v, &tags)
			u.Tags = &tags
		case "add_tags":
			err = json.Unmarshal(v, &u.AddTags)
		case "remove_tags":
			err = json.Unmarshal(v, &u.RemoveTags)
		case "note":
			err = json.Unmarshal(v, &u.Note)
		default:
			return u, fieldErr(k, "unknown field %q: a ticket takes %sstatus, priority, assignee_id, team_id, tags, add_tags, remove_tags and note", k, more)
		}
		if err != nil {
			return u, fieldErr(k, "%s has the wrong type", k)
		}
	}
	if len(raw) == 0 {
		return u, fieldErr("", "nothing to change")
	}
	return u, nil
}

func (s *Server) postMessage(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Body     string `json:"body"`
		Internal bool   `json:"internal"`
		Status   string `json:"status"`
		Kind     string `json:"kind"` // "customer" relays the customer's own message
		From     string `json:"from"`
		// The newest message the agent had seen: a reply conflicts with
		// someone else's newer one unless confirmed.
		SeenMessageID *int64 `json:"seen_message_id"`
		Confirm       bool   `json:"confirm"`
		// false sends an emailed reply without the signature.
		Signature *bool `json:"signature"`
		// SendAt (RFC 3339) schedules the reply for then.
		SendAt string `json:"send_at"`
	}
	var files []store.Attachment
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		// The app's composer with files: fields as form values.
		form, err := multipartForm(c)
		if err != nil {
			return err
		}
		get := func(k string) string {
			if v := form.Value[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		in.Body, in.Status, in.Kind, in.From, in.SendAt = get("body"), get("status"), get("kind"), get("from"), get("send_at")
		in.Internal, in.Confirm = get("internal") == "true", get("confirm") == "true"
		if get("signature") == "false" {
			in.Signature = new(bool)
		}
		if v := get("seen_message_id"); v != "" {
			seen, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fieldErr("seen_message_id", "seen_message_id must be a message id")
			}
			in.SeenMessageID = &seen
		}
		if files, err = formFiles(form.File["files"]); err != nil {
			return err
		}
	} else if err := decode(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Body) == "" && len(files) == 0 {
		return fieldErr("body", "body is empty")
	}
	ctx := c.UserContext()
	switch {
	case in.Kind == "customer" || !in.Internal && in.Kind != "note":
		err = p.need(desk.PermTicketsReply) // to the customer, or in their name
	case in.Status != "":
		err = p.need(desk.PermTicketsEdit)
	}
	if err != nil {
		return err
	}
	sendAt, err := optionalTime("send_at", in.SendAt)
	if err != nil {
		return err
	}
	var m *store.Message
	switch in.Kind {
	case "", "agent", "note":
		m, err = s.desk.Reply(ctx, desk.AgentActor(p.agent.ID), id, desk.ReplyInput{
			Body: in.Body, Internal: in.Internal || in.Kind == "note", Status: in.Status, Attachments: files,
			SeenMessageID: in.SeenMessageID, Confirm: in.Confirm, NoSignature: in.Signature != nil && !*in.Signature,
			SendAt: sendAt})
		var conflict *desk.ReplyConflict
		if errors.As(err, &conflict) {
			// The app shows what was sent meanwhile and asks before sending.
			return c.Status(fiber.StatusConflict).JSON(fiber.Map{
				"error": conflict.Sentence().In(requestLanguage(c)), "field": "seen_message_id", "messages": conflict.Replies})
		}
	case "customer":
		if len(files) > 0 {
			return fieldErr("files", "files go with agent replies and notes")
		}
		m, err = s.customerMessage(c, id, in.Body, in.From)
	default:
		return fieldErr("kind", "kind must be agent, note or customer, not %q", in.Kind)
	}
	if err != nil {
		return err
	}
	c.Status(fiber.StatusCreated)
	return c.JSON(m)
}

// Limits on the files of one reply.
const (
	maxReplyFiles     = 10
	maxReplyFileBytes = 25 << 20
)

// formFiles reads the uploaded files of a reply.
func formFiles(list []*multipart.FileHeader) ([]store.Attachment, error) {
	if len(list) > maxReplyFiles {
		return nil, fieldErr("files", "a reply takes at most %d files", maxReplyFiles)
	}
	var total int64
	var out []store.Attachment
	for _, fh := range list {
		total += fh.Size
		if total > maxReplyFileBytes {
			return nil, fieldErr("files", "the files of one reply may add up to 25 MB")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fieldErr("files", "the file %s could not be read", fh.Filename)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fieldErr("files", "the file %s could not be read", fh.Filename)
		}
		ctype := fh.Header.Get("Content-Type")
		if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
			ctype = http.DetectContentType(data)
		}
		name := strings.TrimSpace(filepath.Base(strings.ReplaceAll(fh.Filename, "\\", "/")))
		if name == "" || name == "." || name == "/" {
			name = "file"
		}
		out = append(out, store.Attachment{Filename: name, ContentType: ctype, Data: data})
	}
	return out, nil
}

// customerMessage adds a message from the ticket's customer, relayed by an
// integration; it reopens a resolved ticket like any customer reply.
func (s *Server) customerMessage(c *fiber.Ctx, ticketID int64, body, from string) (*store.Message, error) {
	ctx := c.UserContext()
	t, err := s.db.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	cust, err := s.db.Customer(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	var id store.Identity
	for _, i := range cust.Identities {
		if from == "" || i.Value == from {
			id = i
			break
		}
	}
	if id.Kind == "" {
		return nil, fieldErr("from", "from must be one of the customer's addresses")
	}
	res, err := s.desk.Ingest(ctx, desk.Inbound{Channel: t.Channel, From: id, Text: body, TicketID: t.ID})
	if err != nil {
		return nil, err
	}
	return res.Message, nil
}

func (s *Server) markRead(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if _, err := s.db.Ticket(c.UserContext(), id); err != nil {
		return err
	}
	if err := s.desk.MarkRead(c.UserContext(), p.agent.ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) retryMessage(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	m, err := s.desk.Retry(c.UserContext(), desk.AgentActor(p.agent.ID), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// Types a browser may show inline; anything else downloads.
var inlineTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}

func (s *Server) attachment(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, _, err := s.db.AttachmentData(c.UserContext(), id)
	if err != nil {
		return err
	}
	ctype, _, _ := mime.ParseMediaType(a.ContentType)
	disposition := "attachment"
	if slices.Contains(inlineTypes, ctype) && c.Query("download") == "" {
		disposition = "inline"
	} else {
		ctype = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": a.Filename}))
	// Customer files never run as part of our origin.
	c.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	return c.Send(a.Data)
}

// messageHTML serves a message's sanitized HTML for the app's sandboxed
// frame, under a policy that allows no script, no form and no request
// beyond inline images.
func (s *Server) messageHTML(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	m, err := s.db.Message(c.UserContext(), id)
	if err != nil {
		return err
	}
	if m.HTML == "" {
		return &apiError{Status: fiber.StatusNotFound, Message: "this message has no HTML part"}
	}
	body, err := s.inlineImages(c, m)
	if err != nil {
		return err
	}
	c.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'")
	c.Set("X-Frame-Options", "SAMEORIGIN")
	c.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
	return c.SendString("<!doctype html><meta charset=utf-8><base target=_blank>" + body)
}

// maxInlineImage bounds an image written into the page as a data: URL.
const maxInlineImage = 5 << 20

// inlineImages puts the message's own images where its HTML names them by
// cid:, as data: URLs: the sandboxed frame has no session to fetch them.
func (s *Server) inlineImages(c *fiber.Ctx, m *store.Message) (string, error) {
	if !strings.Contains(m.HTML, "cid:") {
		return m.HTML, nil
	}
	var pairs []string
	for _, a := range m.Attachments {
		if a.ContentID == "" || !strings.HasPrefix(a.ContentType, "image/") || a.Size > maxInlineImage {
			continue
		}
		file, _, err := s.db.AttachmentData(c.UserContext(), a.ID)
		if err != nil {
			return "", err
		}
		url := "data:" + a.ContentType + ";base64," + base64.StdEncoding.EncodeToString(file.Data)
		pairs = append(pairs, `"cid:`+a.ContentID+`"`, `"`+url+`"`, `'cid:`+a.ContentID+`'`, `'`+url+`'`)
	}
	return strings.NewReplacer(pairs...).Replace(m.HTML), nil
}

// agentTyping tells a chat visitor that an agent is writing to them.
func (s *Server) agentTyping(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	t, err := s.db.Ticket(c.UserContext(), id)
	if err != nil {
		return err
	}
	s.desk.Bus().Publish(desk.Change{Type: "agent_typing", TicketID: t.ID, Ticket: t})
	return c.SendStatus(fiber.StatusNoContent)
}
