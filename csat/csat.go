// Package csat asks customers how satisfied they are once their ticket
// is resolved, on the channel they used, and records the answer on the
// ticket. It sits beside the desk like rules and sla: a hook inside the
// write transaction that resolves a ticket schedules the question (so it
// is durable with the resolution), a leased loop (Run) sends the ones
// that came due through the desk's outbox, and the answers come back as
// desk choices (buttons pressed on Telegram, WhatsApp, Messenger,
// Instagram, the chat widget) or as signed links in a mail (pages.go).
//
// Asked once per resolution: a ticket resolved again while its question
// still waits is not asked twice, and one that was asked in the last 24
// hours (reopened and resolved the same day) is not asked again; a ticket
// reopened before its question is due is not asked then (it is asked
// when resolved again). A rating is taken once: a link or button used
// again is refused and the first answer stays. A thumbs up is stored as
// 5 and down as 1, so the report averages both scales on one; "satisfied"
// is 4 or more.
package csat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/store"
)

// Tuning.
const (
	askAgainAfter = 24 * time.Hour      // a ticket asked within this is not asked again
	linkLife      = 30 * 24 * time.Hour // a question's links and buttons work this long
	maxComment    = 2000                // characters of a comment
	maxQuestion   = 300                 // characters of a store's question
	maxDelay      = 7 * 24 * 60         // minutes
	sendBatch     = 50                  // surveys per write transaction
	pollEvery     = time.Minute         // look for due surveys at least this often
)

// Service asks and records satisfaction ratings for one desk.
type Service struct {
	d   *desk.Desk
	db  *store.DB
	log *slog.Logger
	// Base is where the links in mails point (the public URL, without a
	// trailing /); it is read when a mail is sent.
	base func() string

	wake    chan struct{}
	limiter *limit.Limiter // public rating pages per address
}

// New returns the satisfaction surveys of d, plugged into its ticket
// changes and its choices. base gives the desk's public address for links.
func New(d *desk.Desk, log *slog.Logger, base func() string) *Service {
	s := &Service{d: d, db: d.DB(), log: log, base: base, wake: make(chan struct{}, 1),
		limiter: d.NewLimiter("csat address", 1, 20)}
	d.AddTxHook(s)
	d.SetChoices("csat", choicePrefix, s)
	return s
}

// ---- Settings

// Settings are a store's survey settings.
type Settings struct {
	Enabled bool   `json:"enabled"`
	Delay   int    `json:"delay_minutes"` // after the resolution
	Scale   string `json:"scale"`         // "five" (1-5) or "thumbs"
	// Questions by language; a language left out asks the catalog's.
	Questions map[string]string `json:"questions"`
}

// Defaults are a store's settings until it saves its own: off, an hour,
// 1-5.
func Defaults() Settings {
	return Settings{Delay: 60, Scale: "five", Questions: map[string]string{}}
}

func settingsKey(storeID int64) string { return "csat.store." + strconv.FormatInt(storeID, 10) }

// Settings reads a store's settings.
func (s *Service) Settings(ctx context.Context, storeID int64) (Settings, error) {
	out := Defaults()
	raw, err := s.db.Setting(ctx, settingsKey(storeID))
	if err != nil {
		return out, fmt.Errorf("csat settings of store %d: %w", storeID, err)
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			s.log.Warn("csat: stored settings unreadable, using the defaults", "store", storeID, "err", err)
			out = Defaults()
		}
	}
	if out.Questions == nil {
		out.Questions = map[string]string{}
	}
	return out, nil
}

// SaveSettings checks and writes a store's settings.
func (s *Service) SaveSettings(ctx context.Context, storeID int64, in Settings) (Settings, error) {
	if _, err := s.db.Store(ctx, storeID); err != nil {
		return in, err
	}
	if in.Scale != "five" && in.Scale != "thumbs" {
		return in, desk.InputErrorf("scale", "scale must be one of %v, not %q", []string{"five", "thumbs"}, in.Scale)
	}
	if in.Delay < 0 || in.Delay > maxDelay {
		return in, desk.InputErrorf("delay_minutes", "the delay is 0 to %d minutes", maxDelay)
	}
	qs := map[string]string{}
	for lang, q := range in.Questions {
		if !i18n.Supported(lang) {
			return in, desk.InputErrorf("questions", "%q is not a language onedesk speaks", lang)
		}
		q = strings.TrimSpace(q)
		if utf8.RuneCountInString(q) > maxQuestion {
			return in, desk.InputErrorf("questions."+lang, "a question has at most %d characters", maxQuestion)
		}
		if q != "" {
			qs[lang] = q
		}
	}
	in.Questions = qs
	b, _ := json.Marshal(in)
	if err := s.db.SetSetting(ctx, settingsKey(storeID), string(b)); err != nil {
		return in, fmt.Errorf("save csat settings of store %d: %w", storeID, err)
	}
	return in, nil
}

// Question is what a store asks in lang.
func (st Settings) Question(lang string) string {
	if q := st.Questions[lang]; q != "" {
		return q
	}
	return DefaultQuestion(lang)
}

// DefaultQuestion is the catalog's question in lang.
func DefaultQuestion(lang string) string {
	return i18n.S("How would you rate the help you got?").In(lang)
}

// ---- Scheduling, inside the transaction that resolves a ticket (desk.TxHook)

// TicketChanged does nothing: a resolution is seen as the ticket is saved,
// whatever resolved it.
func (s *Service) TicketChanged(context.Context, *desk.TicketTx, string) error { return nil }

// TicketSaving schedules the question of a ticket resolved by this change.
func (s *Service) TicketSaving(ctx context.Context, c *desk.TicketTx) error {
	t := c.Ticket
	// Just resolved: a resolution of a minute ago at most (desk sets the
	// time a moment before the save); an older one was looked at then.
	if t.Status != "resolved" || t.ResolvedAt == nil || c.Now.Sub(*t.ResolvedAt) > time.Minute || t.StoreID == nil {
		return nil
	}
	st, err := s.Settings(ctx, *t.StoreID)
	if err != nil || !st.Enabled {
		return err
	}
	last, err := c.Tx.LastSurvey(ctx, t.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if last != nil && (last.Status == "scheduled" || !last.CreatedAt.Before(*t.ResolvedAt)) {
		return nil // asked once for both resolutions, or this one was seen (a later save)
	}
	sent, err := c.Tx.LastSentSurvey(ctx, t.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if sent != nil && c.Now.Sub(*sent.SentAt) < askAgainAfter {
		return nil
	}
	sv := &store.Survey{TicketID: t.ID, StoreID: t.StoreID, AgentID: t.AssigneeID, TeamID: t.TeamID,
		Channel: t.Channel, Scale: st.Scale, Status: "scheduled",
		DueAt: t.ResolvedAt.Add(time.Duration(st.Delay) * time.Minute), CreatedAt: *t.ResolvedAt}
	return c.Tx.InsertSurvey(ctx, sv)
}

func (s *Service) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ---- Sending what came due

// Run sends the questions that come due until ctx ends (one node runs it:
// cli leases it). Scheduled surveys are rows, so a restart sends what
// came due while the desk was down.
func (s *Service) Run(ctx context.Context) {
	// A resolution, once committed, may have scheduled a question: look
	// again then (a missed change looks again too).
	go s.d.Committed(ctx, func(c desk.Change) {
		if c.Type == "" || c.Type == "event" && c.Event != nil && (c.Event.Type == store.EventStatusChanged || c.Event.Type == store.EventRuleApplied) {
			s.wakeUp()
		}
	})
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
		if _, err := s.SendDue(ctx, store.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("csat: send due questions", "err", err)
		}
		wait := pollEvery
		if next, err := s.db.NextSurveyDue(ctx); err == nil && !next.IsZero() {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		timer.Stop()
		timer.Reset(wait)
	}
}

// SendDue sends (or skips) the questions due by now and tells how many
// it handled.
func (s *Service) SendDue(ctx context.Context, now time.Time) (int, error) {
	done := 0
	for {
		ids, err := s.db.DueSurveys(ctx, now, sendBatch)
		if err != nil || len(ids) == 0 {
			return done, err
		}
		var changed []*desk.TicketTx
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			changed = nil
			for _, id := range ids {
				c, err := s.send(ctx, tx, id, now)
				if err != nil {
					return fmt.Errorf("survey %d: %w", id, err)
				}
				if c != nil {
					changed = append(changed, c)
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		for _, c := range changed {
			c.Publish(ctx)
		}
		done += len(ids)
		if len(ids) < sendBatch {
			return done, nil
		}
	}
}

// send queues one survey's question on its ticket (or skips it, saying
// why on the ticket).
func (s *Service) send(ctx context.Context, tx *store.Tx, id int64, now time.Time) (*desk.TicketTx, error) {
	sv, err := tx.Survey(ctx, id)
	if err != nil || sv.Status != "scheduled" {
		return nil, err
	}
	t, err := tx.Ticket(ctx, sv.TicketID)
	if err != nil {
		return nil, err
	}
	c := s.d.TicketTx(tx, t, nil, now)
	via, skip, err := s.route(ctx, tx, t)
	if err != nil {
		return nil, err
	}
	if t.Status != "resolved" && t.Status != "closed" {
		skip = "reopened"
	}
	data := store.SurveySentData{SurveyID: sv.ID}
	if skip != "" {
		sv.Status, sv.SkipReason, data.Skipped = "skipped", skip, skip
	} else {
		st, err := s.Settings(ctx, derefID(t.StoreID))
		if err != nil {
			return nil, err
		}
		lang, err := s.language(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		m, err := c.QueueAutoReplyVia(ctx, via, st.Question(lang), "csat")
		if err != nil {
			return nil, err
		}
		sv.Status, sv.AskedVia, sv.MessageID, sv.SentAt = "sent", via, &m.ID, &now
		data.MessageID, data.Via = m.ID, via
	}
	if err := tx.UpdateSurvey(ctx, sv); err != nil {
		return nil, err
	}
	if _, err := c.Event(ctx, desk.System, data); err != nil {
		return nil, err
	}
	return c, nil
}

// route is the channel a ticket's question goes by, or why it cannot go:
// its own channel when that has buttons and may write now; a platform
// whose reply window closed (WhatsApp's 24 hours) and every channel
// without buttons ask by email when the customer has an address.
func (s *Service) route(ctx context.Context, tx *store.Tx, t *store.Ticket) (via, skip string, err error) {
	switch t.Channel {
	case "chat", "telegram":
		return t.Channel, "", nil
	case "whatsapp", "messenger", "instagram":
		w, err := s.d.ReplyWindow(ctx, t)
		if err != nil {
			return "", "", err
		}
		if w == nil || w.Open {
			return t.Channel, "", nil
		}
	}
	cu, err := tx.Customer(ctx, t.CustomerID)
	if err != nil {
		return "", "", err
	}
	for _, id := range cu.Identities {
		if id.Kind == "email" && !strings.HasSuffix(id.Value, "@onedesk.invalid") {
			return "email", "", nil
		}
	}
	if t.Channel == "whatsapp" || t.Channel == "messenger" || t.Channel == "instagram" {
		return "", "window_closed", nil
	}
	return "", "no_email", nil
}

// language is the language a ticket's customer is asked in: the one
// their channels told (the widget's, the portal's, their mail's), else
// the store's.
func (s *Service) language(ctx context.Context, tx *store.Tx, t *store.Ticket) (string, error) {
	cu, err := tx.Customer(ctx, t.CustomerID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if cu != nil && i18n.Supported(cu.Language) {
		return cu.Language, nil
	}
	if t.StoreID == nil {
		return "en", nil
	}
	st, err := tx.Store(ctx, *t.StoreID)
	if errors.Is(err, store.ErrNotFound) {
		return "en", nil
	}
	if err != nil {
		return "", err
	}
	return desk.PickLanguage(st.Language, ""), nil
}

func derefID(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}
