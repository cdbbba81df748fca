package desk

import (
	"context"
	"strings"

	"onedesk/store"
)

// Choices: buttons an automatic message offers the customer instead of
// typing (a satisfaction survey's ratings). A package beside the desk
// (csat) makes the messages and says what their buttons are; channels
// show them their own way (inline buttons, quick replies, links in a
// mail, a card in the widget) and hand back what was pressed. Desk only
// carries them between the two.

// Choice is one button: channels with buttons show Label and hand Data
// back to Choose when it is pressed; mail shows Label as a link to URL.
type Choice struct {
	Label string `json:"label"`
	Data  string `json:"data"`
	URL   string `json:"url,omitempty"`
}

// ChoiceSource makes the choices of one kind of automatic message and
// takes a choice pressed.
type ChoiceSource interface {
	// Choices are the buttons of message m (nil: none, e.g. answered).
	Choices(ctx context.Context, m *store.Message) ([]Choice, error)
	// Chosen records a pressed choice's data that came by channel, and
	// returns a short text to show the customer ("" for none).
	Chosen(ctx context.Context, channel, data string) (string, error)
}

type choiceSource struct {
	auto, prefix string
	src          ChoiceSource
}

// SetChoices plugs in the source of the choices of messages whose Auto is
// auto and whose choices' Data starts with prefix.
func (d *Desk) SetChoices(auto, prefix string, src ChoiceSource) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.choiceSources = append(d.choiceSources, choiceSource{auto: auto, prefix: prefix, src: src})
}

// Choices are the buttons a message offers (nil: none).
func (d *Desk) Choices(ctx context.Context, m *store.Message) ([]Choice, error) {
	if m.Auto == "" {
		return nil, nil
	}
	d.mu.RLock()
	var src ChoiceSource
	for _, s := range d.choiceSources {
		if s.auto == m.Auto {
			src = s.src
		}
	}
	d.mu.RUnlock() // the source may use the desk (its secret)
	if src == nil {
		return nil, nil
	}
	return src.Choices(ctx, m)
}

// IsChoice tells whether data is a choice's (a channel then hands it to
// Choose instead of taking it as the customer's words).
func (d *Desk) IsChoice(data string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, s := range d.choiceSources {
		if strings.HasPrefix(data, s.prefix) {
			return true
		}
	}
	return false
}

// Choose records a pressed choice that came by channel and returns what
// to show the customer; ok is false when data is no choice's.
func (d *Desk) Choose(ctx context.Context, channel, data string) (reply string, ok bool, err error) {
	d.mu.RLock()
	var src ChoiceSource
	for _, s := range d.choiceSources {
		if strings.HasPrefix(data, s.prefix) {
			src = s.src
		}
	}
	d.mu.RUnlock()
	if src == nil {
		return "", false, nil
	}
	reply, err = src.Chosen(ctx, channel, data)
	return reply, true, err
}
