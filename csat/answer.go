package csat

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// A rating travels as a token "<survey id>.<rating>.<signature>": the
// signature is an HMAC-SHA256 (desk.Sign, the installation's secret) of
// the survey and the rating, so a link or button cannot be made for
// another survey or rating, nor found by counting. A comment's token is
// "<survey id>.<signature>" over another text.
const choicePrefix = "csat:"

// Errors of an answer, said to whoever sent it.
var (
	ErrInvalid  = desk.InputErrorf("token", "this rating link is not valid")
	ErrExpired  = desk.InputErrorf("token", "this rating link has expired")
	ErrAnswered = desk.InputErrorf("token", "this conversation was rated already: thank you")
)

// Scales: the ratings a customer picks from, with their labels.
var scales = map[string][]struct {
	rating int
	label  string
}{
	"five":   {{1, "1 😞"}, {2, "2 🙁"}, {3, "3 😐"}, {4, "4 🙂"}, {5, "5 😀"}},
	"thumbs": {{5, "👍"}, {1, "👎"}},
}

func (s *Service) sign(ctx context.Context, what string) (string, error) {
	return s.d.Sign(ctx, what)
}

// RatingToken is the token of rating r of survey id.
func (s *Service) RatingToken(ctx context.Context, id int64, r int) (string, error) {
	sig, err := s.sign(ctx, fmt.Sprintf("csat:%d:%d", id, r))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d.%d.%s", id, r, sig), nil
}

// CommentToken is the token of the comment on survey id.
func (s *Service) CommentToken(ctx context.Context, id int64) (string, error) {
	sig, err := s.sign(ctx, fmt.Sprintf("csat-comment:%d", id))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d.%s", id, sig), nil
}

// readRating checks a rating token and returns its survey and rating.
func (s *Service) readRating(ctx context.Context, token string) (int64, int, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > 80 {
		return 0, 0, ErrInvalid
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	r, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || id <= 0 || r < 1 || r > 5 {
		return 0, 0, ErrInvalid
	}
	want, err := s.RatingToken(ctx, id, r)
	if err != nil {
		return 0, 0, err
	}
	if !hmac.Equal([]byte(want), []byte(token)) {
		return 0, 0, ErrInvalid
	}
	return id, r, nil
}

// readComment checks a comment's token and returns its survey. A rating
// token is one too (the widget's card holds the one pressed): then the
// survey must carry that rating (want, 0 for a comment token).
func (s *Service) readComment(ctx context.Context, token string) (id int64, want int, err error) {
	if strings.Count(token, ".") == 2 {
		return s.readRating(ctx, token)
	}
	num, _, ok := strings.Cut(token, ".")
	id, err = strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || id <= 0 || len(token) > 80 {
		return 0, 0, ErrInvalid
	}
	expected, err := s.CommentToken(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	if !hmac.Equal([]byte(expected), []byte(token)) {
		return 0, 0, ErrInvalid
	}
	return id, 0, nil
}

// Choices are the buttons of a question message (desk.ChoiceSource): one
// per rating of its scale, each with its signed token, and a link for
// mail. None once the question was answered.
func (s *Service) Choices(ctx context.Context, m *store.Message) ([]desk.Choice, error) {
	sv, err := s.db.SurveyOfMessage(ctx, m.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || sv.Status != "sent" {
		return nil, err
	}
	base := ""
	if s.base != nil {
		base = strings.TrimRight(s.base(), "/")
	}
	var out []desk.Choice
	for _, opt := range scales[sv.Scale] {
		tok, err := s.RatingToken(ctx, sv.ID, opt.rating)
		if err != nil {
			return nil, err
		}
		ch := desk.Choice{Label: opt.label, Data: choicePrefix + tok}
		if base != "" {
			ch.URL = base + "/csat/r/" + tok
		}
		out = append(out, ch)
	}
	return out, nil
}

// Chosen records a rating pressed on a channel's button and returns the
// thanks to show (desk.ChoiceSource).
func (s *Service) Chosen(ctx context.Context, channel, data string) (string, error) {
	tok, _ := strings.CutPrefix(data, choicePrefix)
	sv, err := s.RateToken(ctx, tok, channel)
	if err != nil {
		return "", err
	}
	return i18n.S("Thank you for your rating!").In(s.surveyLanguage(ctx, sv)), nil
}

// RateToken records the rating a token carries, answered by channel via.
func (s *Service) RateToken(ctx context.Context, token, via string) (*store.Survey, error) {
	id, r, err := s.readRating(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.Rate(ctx, id, r, via)
}

// Rate records rating r (1-5) of survey id, with a "rated" event on its
// ticket that sets off the "rated" rules and the webhooks' ticket.rated.
// A survey is rated once.
func (s *Service) Rate(ctx context.Context, id int64, r int, via string) (*store.Survey, error) {
	if r < 1 || r > 5 {
		return nil, desk.InputErrorf("rating", "a rating is 1 to 5")
	}
	var sv *store.Survey
	var c *desk.TicketTx
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if sv, err = surveyIn(ctx, tx, id); err != nil {
			return err
		}
		now := store.Now()
		switch {
		case sv.Status == "rated":
			return ErrAnswered
		case sv.Status != "sent" || sv.SentAt == nil:
			return ErrInvalid
		case now.Sub(*sv.SentAt) > linkLife:
			return ErrExpired
		}
		sv.Status, sv.Rating, sv.RatedAt = "rated", r, &now
		if err := tx.UpdateSurvey(ctx, sv); err != nil {
			return err
		}
		t, err := tx.Ticket(ctx, sv.TicketID)
		if err != nil {
			return err
		}
		c = s.d.TicketTx(tx, t, nil, now)
		if _, err := c.Event(ctx, desk.Customer, store.RatedData{Rating: r, Scale: sv.Scale, SurveyID: sv.ID, Via: via}); err != nil {
			return err
		}
		if err := c.Changed(ctx, TriggerRated); err != nil {
			return err
		}
		if thanksByMessage[via] {
			if _, err := c.QueueAutoReplyVia(ctx, via, i18n.S("Thank you for your rating!").In(s.surveyLanguage(ctx, sv)), "csat_thanks"); err != nil {
				return err
			}
		}
		return c.Save(ctx)
	})
	if err != nil {
		return nil, refusedOr(err, "rate survey %d: %w", id)
	}
	c.Publish(ctx)
	return sv, nil
}

// thanksByMessage are the channels whose buttons show no answer of their
// own (Telegram shows a notice, the widget and the mail page say thanks):
// a short message thanks the customer there.
var thanksByMessage = map[string]bool{"whatsapp": true, "messenger": true, "instagram": true}

// TriggerRated is the rules' trigger of a rating.
const TriggerRated = "rated"

// Comment records a comment on a rated survey, once: token is the
// survey's comment token (the mail's page) or the rating token that rated
// it (the widget's card).
func (s *Service) Comment(ctx context.Context, token, text, via string) (*store.Survey, error) {
	id, want, err := s.readComment(ctx, token)
	if err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return nil, desk.InputErrorf("comment", "the comment is empty")
	case utf8.RuneCountInString(text) > maxComment:
		return nil, desk.InputErrorf("comment", "a comment has at most %d characters", maxComment)
	case !utf8.ValidString(text):
		return nil, desk.InputErrorf("comment", "the comment is not valid text")
	}
	var sv *store.Survey
	var c *desk.TicketTx
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if sv, err = surveyIn(ctx, tx, id); err != nil {
			return err
		}
		now := store.Now()
		switch {
		case sv.Status != "rated" || sv.RatedAt == nil || want != 0 && sv.Rating != want:
			return ErrInvalid
		case sv.CommentedAt != nil:
			return ErrAnswered
		case now.Sub(*sv.RatedAt) > linkLife:
			return ErrExpired
		}
		sv.Comment, sv.CommentedAt = text, &now
		if err := tx.UpdateSurvey(ctx, sv); err != nil {
			return err
		}
		t, err := tx.Ticket(ctx, sv.TicketID)
		if err != nil {
			return err
		}
		c = s.d.TicketTx(tx, t, nil, now)
		_, err = c.Event(ctx, desk.Customer, store.RatedData{Rating: sv.Rating, Scale: sv.Scale, SurveyID: sv.ID, Via: via, Comment: text})
		return err
	})
	if err != nil {
		return nil, refusedOr(err, "comment on survey %d: %w", id)
	}
	c.Publish(ctx)
	return sv, nil
}

// surveyIn reads a survey an answer names: one not there is a link not
// valid.
func surveyIn(ctx context.Context, tx *store.Tx, id int64) (*store.Survey, error) {
	sv, err := tx.Survey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalid
	}
	return sv, err
}

// refusedOr is a refusal as it is (said to the customer as it is), any
// other error wrapped with what failed.
func refusedOr(err error, format string, id int64) error {
	var ie *desk.InputError
	if errors.As(err, &ie) {
		return ie
	}
	return fmt.Errorf(format, id, err)
}

// surveyLanguage is the language a survey's customer reads: the one the
// question went out in (language).
func (s *Service) surveyLanguage(ctx context.Context, sv *store.Survey) string {
	if l := s.customerLanguage(ctx, sv); l != "" {
		return l
	}
	if sv.StoreID != nil {
		if st, err := s.db.Store(ctx, *sv.StoreID); err == nil {
			return desk.PickLanguage(st.Language, "")
		}
	}
	return "en"
}

// customerLanguage is the language a survey's customer reads, as their
// channels told ("" when none did).
func (s *Service) customerLanguage(ctx context.Context, sv *store.Survey) string {
	t, err := s.db.Ticket(ctx, sv.TicketID)
	if err != nil {
		return ""
	}
	cu, err := s.db.Customer(ctx, t.CustomerID)
	if err != nil || !i18n.Supported(cu.Language) {
		return ""
	}
	return cu.Language
}

// Surveys lists a ticket's surveys (the ticket view's badge).
func (s *Service) Surveys(ctx context.Context, ticketID int64) ([]*store.Survey, error) {
	return s.db.TicketSurveys(ctx, ticketID)
}
