package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"onedesk/store"
)

// Form limits.
const (
	maxFormFields   = 50
	maxFieldText    = 500  // a one-line field's value, in characters
	maxOrderNumber  = 50   // an order number's length
	maxFormFiles    = 5    // files per file field
	DefaultFormWait = 3    // seconds a person needs at least to fill a form in
	maxFormIntro    = 2000 // characters
)

var fieldNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// FieldName tells whether name can name a form field (and so a ticket's
// fields key): a lowercase letter, then letters, digits and _.
func FieldName(name string) bool { return fieldNameRE.MatchString(name) }

// SaveForm creates (f.ID 0) or replaces a form after checking it.
func (d *Desk) SaveForm(ctx context.Context, f *store.Form) (*store.Form, error) {
	f.Title, f.Slug = cleanLine(f.Title), strings.TrimSpace(f.Slug)
	if f.Slug == "" {
		f.Slug = slugify(f.Title)
	}
	if err := checkForm(f); err != nil {
		return nil, err
	}
	now := store.Now()
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		if err := exists(ctx, tx, "stores", "store_id", f.StoreID); err != nil {
			return err
		}
		teams := []*int64{f.Routing.TeamID}
		for _, r := range f.Routing.Rules {
			teams = append(teams, r.TeamID)
		}
		for i, id := range teams {
			field := "routing.team_id"
			if i > 0 {
				field = fmt.Sprintf("routing.rules[%d].team_id", i-1)
			}
			if err := exists(ctx, tx, "teams", field, id); err != nil {
				return err
			}
		}
		f.UpdatedAt = now
		if f.ID == 0 {
			f.CreatedAt = now
			return tx.InsertForm(ctx, f)
		}
		old, err := tx.Form(ctx, f.ID)
		if err != nil {
			return err
		}
		f.CreatedAt = old.CreatedAt
		return tx.UpdateForm(ctx, f)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, inputErr("slug", "a form with the slug %s exists already", f.Slug)
	}
	if err != nil {
		return nil, fmt.Errorf("save form: %w", err)
	}
	return f, nil
}

// DeleteForm removes a form; the tickets it made stay.
func (d *Desk) DeleteForm(ctx context.Context, id int64) error {
	return d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteForm(ctx, id) })
}

// checkForm checks a form before it is saved, tidying its texts.
func checkForm(f *store.Form) error {
	if err := checkFormTexts(f); err != nil {
		return err
	}
	if len(f.Fields) == 0 {
		return inputErr("fields", "a form needs at least one field")
	}
	if len(f.Fields) > maxFormFields {
		return inputErr("fields", "a form may have at most %d fields", maxFormFields)
	}
	names := map[string]bool{}
	contact := false
	for i := range f.Fields {
		if err := checkFormField(i, &f.Fields[i], names); err != nil {
			return err
		}
		contact = contact || f.Fields[i].Type == "email" || f.Fields[i].Type == "phone"
	}
	if !contact {
		return inputErr("fields", "a form needs an email or phone field, so that the team can answer")
	}
	if err := checkRouting(&f.Routing, names); err != nil {
		return err
	}
	if f.RedirectURL != "" {
		u, err := url.Parse(f.RedirectURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return inputErr("redirect_url", "the thank-you page must be a full address like https://shop.example.com/thanks")
		}
	}
	if f.MinSeconds < -1 || f.MinSeconds > 600 {
		return inputErr("min_seconds", "the minimum fill time is 0 to 600 seconds (-1 for none)")
	}
	return nil
}

// checkFormTexts checks the form's title, slug, intro and translations.
func checkFormTexts(f *store.Form) error {
	switch n := utf8.RuneCountInString(f.Title); {
	case n == 0:
		return inputErr("title", "a form needs a title")
	case n > 200:
		return inputErr("title", "title is longer than 200 characters")
	}
	if !slugRE.MatchString(f.Slug) {
		return inputErr("slug", "slug must be lowercase letters, digits and dashes, like returns")
	}
	if utf8.RuneCountInString(f.Intro) > maxFormIntro {
		return inputErr("intro", "intro is longer than %d characters", maxFormIntro)
	}
	return checkTranslations("translations", f.Translations, -1)
}

// checkFormField checks field i of a form, whose names so far are names.
func checkFormField(i int, fl *store.FormField, names map[string]bool) error {
	at := func(part string) string { return fmt.Sprintf("fields[%d].%s", i, part) }
	fl.Label, fl.Help = cleanLine(fl.Label), strings.TrimSpace(fl.Help)
	if !fieldNameRE.MatchString(fl.Name) {
		return inputErr(at("name"), "field name %q must be lowercase letters, digits and _ (like order_number)", fl.Name)
	}
	if names[fl.Name] {
		return inputErr(at("name"), "two fields are named %s", fl.Name)
	}
	names[fl.Name] = true
	if err := oneOf(at("type"), fl.Type, store.FieldTypes); err != nil {
		return err
	}
	if fl.Label == "" || utf8.RuneCountInString(fl.Label) > 200 {
		return inputErr(at("label"), "each field needs a label of at most 200 characters")
	}
	if utf8.RuneCountInString(fl.Help) > 500 {
		return inputErr(at("help"), "help text is longer than 500 characters")
	}
	n := -1
	if fl.Type == "select" {
		if len(fl.Options) == 0 || len(fl.Options) > 100 {
			return inputErr(at("options"), "a choice needs 1 to 100 options")
		}
		for j, o := range fl.Options {
			fl.Options[j] = cleanLine(o)
			if fl.Options[j] == "" || utf8.RuneCountInString(o) > 200 || slices.Contains(fl.Options[:j], fl.Options[j]) {
				return inputErr(at("options"), "options must be different, each of 1 to 200 characters")
			}
		}
		n = len(fl.Options)
	} else {
		fl.Options = nil
	}
	return checkTranslations(at("translations"), fl.Translations, n)
}

// checkRouting checks a form's routing, whose rules name its fields.
func checkRouting(r *store.FormRouting, names map[string]bool) error {
	if r.Priority != "" {
		if err := oneOf("routing.priority", r.Priority, store.Priorities); err != nil {
			return err
		}
	}
	var err error
	if r.Tags, err = CleanTags(r.Tags); err != nil {
		return err
	}
	for i := range r.Rules {
		rule := &r.Rules[i]
		at := func(part string) string { return fmt.Sprintf("routing.rules[%d].%s", i, part) }
		if !names[rule.Field] {
			return inputErr(at("field"), "the rule names no field of the form: %q", rule.Field)
		}
		if rule.Value = cleanLine(rule.Value); rule.Value == "" {
			return inputErr(at("value"), "a rule needs the value it routes")
		}
		if rule.Priority != "" {
			if err := oneOf(at("priority"), rule.Priority, store.Priorities); err != nil {
				return err
			}
		}
		if rule.Tags, err = CleanTags(rule.Tags); err != nil {
			return err
		}
	}
	if r.Rules == nil {
		r.Rules = []store.RouteRule{}
	}
	return nil
}

// checkTranslations checks texts by language; options, when n >= 0, must
// translate all n options or none.
func checkTranslations(field string, m map[string]store.FormText, n int) error {
	for lang, t := range m {
		if !slices.Contains(Languages, lang) {
			return inputErr(field, "no language %q: one of %s", lang, strings.Join(Languages, ", "))
		}
		for _, s := range []string{t.Title, t.Label, t.Help} {
			if utf8.RuneCountInString(s) > 500 {
				return inputErr(field, "a translation is longer than 500 characters")
			}
		}
		if utf8.RuneCountInString(t.Intro) > maxFormIntro {
			return inputErr(field, "a translated intro is longer than %d characters", maxFormIntro)
		}
		if len(t.Options) > 0 && len(t.Options) != n {
			return inputErr(field, "translate every option of the choice (%d), in the same order", max(n, 0))
		}
	}
	return nil
}

// Submission is what a customer sent on a form: values by field name (a
// checkbox's "on", or absent), files by field name.
type Submission struct {
	Values map[string]string
	Files  map[string][]store.Attachment
	// ID makes a post idempotent: the page's own nonce, or the
	// Idempotency-Key of a JSON post. "" for none.
	ID string
	// AckText is the confirmation sent by email when the form asks for
	// one ({{ticket}}, {{name}} and {{subject}} filled in).
	AckText string
	// Suspicious is a post sent faster than the form's minimum fill time:
	// it is taken, with the tag SuspiciousTag for the agent to judge.
	Suspicious bool
}

// SuspiciousTag marks a form ticket sent faster than people usually can.
const SuspiciousTag = "suspicious"

// FieldError is what is wrong with one field's value. Code names the
// sentence (a catalog key of the hosted form); Max fills its {max}.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"-"`
	Max   int    `json:"-"`
}

// FieldErrors are all the faults of a submission, in field order.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	var b strings.Builder
	for i, f := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", f.Field, f.Code)
	}
	return b.String()
}

// SubmitForm checks a submission against its form and, when every field
// is right, makes it a ticket in one transaction: the customer found or
// made by email or phone, the values as the ticket's fields, the text and
// files as its first message, team, priority and tags by the routing. A
// submission with faults returns FieldErrors and stores nothing.
func (d *Desk) SubmitForm(ctx context.Context, f *store.Form, sub Submission) (*Ingested, error) {
	s := &submission{d: d, f: f, sub: sub, values: map[string]any{}}
	for _, fl := range f.Fields {
		s.read(ctx, fl)
	}
	s.needContact()
	if len(s.faults) > 0 {
		return nil, s.faults
	}
	in, err := s.inbound()
	if err != nil {
		return nil, err
	}
	s.route(&in)
	return d.Ingest(ctx, in)
}

// submission is a form being read: what the steps of SubmitForm share.
type submission struct {
	d   *Desk
	f   *store.Form
	sub Submission

	values                      map[string]any // the ticket's fields by name
	faults                      FieldErrors
	email, phone, name, subject string
	texts, summary              []string // the message, and the values as lines
	files                       []store.Attachment
}

// fault notes what is wrong with fl's value.
func (s *submission) fault(fl store.FormField, code string, max int) {
	s.faults = append(s.faults, FieldError{Field: fl.Name, Code: code, Max: max})
}

// read takes one field's value, or notes its fault.
func (s *submission) read(ctx context.Context, fl store.FormField) {
	raw := strings.TrimSpace(s.sub.Values[fl.Name])
	if fl.Type == "file" {
		list := s.sub.Files[fl.Name]
		if len(list) == 0 && fl.Required {
			s.fault(fl, "err_required", 0)
		} else if len(list) > maxFormFiles {
			s.fault(fl, "err_files_many", maxFormFiles)
		}
		s.files = append(s.files, list...)
		return
	}
	if fl.Type == "checkbox" {
		on := raw != "" && raw != "false" && raw != "0" && raw != "off"
		if fl.Required && !on {
			s.fault(fl, "err_check", 0)
		}
		s.values[fl.Name] = on
		return
	}
	if raw == "" {
		if fl.Required {
			s.fault(fl, "err_required", 0)
		}
		return
	}
	switch fl.Type {
	case "textarea":
		if len(raw) > MaxBody || !utf8.ValidString(raw) {
			s.fault(fl, "err_long", MaxBody)
			return
		}
		s.texts = append(s.texts, raw) // the message, not a field
	case "number":
		n, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", "."), 64)
		if err != nil || n != n || n > 1e15 || n < -1e15 {
			s.fault(fl, "err_number", 0)
			return
		}
		s.values[fl.Name] = n
		s.summary = append(s.summary, fl.Label+": "+strconv.FormatFloat(n, 'f', -1, 64))
	default:
		if v, ok := s.readLine(ctx, fl, raw); ok {
			s.values[fl.Name] = v
			s.summary = append(s.summary, fl.Label+": "+v)
		}
	}
}

// readLine takes the value of a field written on one line (text, email,
// phone, choice, order number), or notes its fault.
func (s *submission) readLine(ctx context.Context, fl store.FormField, raw string) (string, bool) {
	switch fl.Type {
	case "text":
		raw = cleanLine(raw)
		if utf8.RuneCountInString(raw) > maxFieldText {
			s.fault(fl, "err_long", maxFieldText)
			return "", false
		}
		if s.name == "" && strings.Contains(fl.Name, "name") {
			s.name = raw
		}
		if fl.Name == "subject" {
			s.subject = raw
		}
	case "email", "phone":
		return s.readContact(ctx, fl, raw)
	case "select":
		v, ok := optionValue(fl, raw)
		if !ok {
			s.fault(fl, "err_choice", 0)
			return "", false
		}
		raw = v
		if s.subject == "" {
			s.subject = s.f.Title + ": " + v
		}
	case "order":
		raw = strings.TrimSpace(strings.TrimPrefix(raw, "#"))
		if raw == "" || utf8.RuneCountInString(raw) > maxOrderNumber || strings.ContainsFunc(raw, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("-_./", r))
		}) {
			s.fault(fl, "err_order", 0)
			return "", false
		}
	}
	return raw, true
}

// readContact takes an email address or phone number, normalized; the
// first of each is how the desk answers.
func (s *submission) readContact(ctx context.Context, fl store.FormField, raw string) (string, bool) {
	if fl.Type == "phone" {
		id, err := s.d.normalize(ctx, "phone", raw, s.f.StoreID)
		if err != nil {
			s.fault(fl, "err_phone", 0)
			return "", false
		}
		if s.phone == "" {
			s.phone = id.Value
		}
		return id.Value, true
	}
	id, err := NormalizeIdentity("email", raw)
	if ie, ok := IsInput(err); ok && ie.Reason == ReasonEmailDomain {
		s.fault(fl, "err_email_domain", 0)
		return "", false
	} else if err != nil {
		s.fault(fl, "err_email", 0)
		return "", false
	}
	if s.email == "" {
		s.email = id.Value
	}
	return id.Value, true
}

// needContact faults a submission with no way to answer it (on the first
// email or phone field), when it has no other faults.
func (s *submission) needContact() {
	if len(s.faults) > 0 || s.email != "" || s.phone != "" {
		return
	}
	for _, fl := range s.f.Fields {
		if fl.Type == "email" || fl.Type == "phone" {
			s.faults = append(s.faults, FieldError{Field: fl.Name, Code: "err_contact"})
			return
		}
	}
}

// inbound makes the submission a message from the customer.
func (s *submission) inbound() (Inbound, error) {
	f, sub := s.f, s.sub
	fields, err := json.Marshal(s.values)
	if err != nil {
		return Inbound{}, err
	}
	text := strings.Join(s.texts, "\n\n")
	if text == "" {
		text = strings.Join(s.summary, "\n")
	}
	if text == "" && len(s.files) == 0 {
		text = f.Title
	}
	subject := s.subject
	if subject == "" {
		subject = f.Title
	}
	in := Inbound{Channel: "form", StoreID: f.StoreID, Name: s.name, Subject: subject, Text: text,
		Attachments: s.files, Fields: fields, Priority: f.Routing.Priority, Tags: slices.Clone(f.Routing.Tags),
		TeamID: f.Routing.TeamID}
	if sub.Suspicious && !slices.Contains(in.Tags, SuspiciousTag) {
		in.Tags = append(in.Tags, SuspiciousTag)
	}
	switch {
	case s.email != "":
		in.From = store.Identity{Kind: "email", Value: s.email}
		if s.phone != "" {
			in.Identities = []store.Identity{{Kind: "phone", Value: s.phone}}
		}
		if f.Confirmation {
			in.AckText = sub.AckText
		}
	default:
		in.From = store.Identity{Kind: "phone", Value: s.phone}
	}
	if sub.ID != "" {
		in.ExternalID = f.Slug + ":" + sub.ID
	}
	return in, nil
}

// route applies the first routing rule the values match.
func (s *submission) route(in *Inbound) {
	for _, r := range s.f.Routing.Rules {
		if v, ok := s.values[r.Field]; ok && fmt.Sprint(v) == r.Value {
			if r.TeamID != nil {
				in.TeamID = r.TeamID
			}
			if r.Priority != "" {
				in.Priority = r.Priority
			}
			for _, t := range r.Tags {
				if !slices.Contains(in.Tags, t) {
					in.Tags = append(in.Tags, t)
				}
			}
			return
		}
	}
}

// optionValue is the option a select's value names: the option as
// written, or its translation in any language.
func optionValue(fl store.FormField, v string) (string, bool) {
	for i, o := range fl.Options {
		if strings.EqualFold(o, v) {
			return o, true
		}
		for _, t := range fl.Translations {
			if i < len(t.Options) && strings.EqualFold(t.Options[i], v) {
				return o, true
			}
		}
	}
	return "", false
}

// PublicForm reads the form a hosted page names and its store (nil when
// it has none, or when the store could not be read: err says why).
func (d *Desk) PublicForm(ctx context.Context, slug string) (*store.Form, *store.Store, error) {
	f, err := d.db.FormBySlug(ctx, slug)
	if err != nil || f.StoreID == nil {
		return f, nil, err
	}
	st, err := d.db.Store(ctx, *f.StoreID)
	return f, st, err
}
