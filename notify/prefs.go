package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// Kinds of notification, in the order the app lists them.
const (
	KindNewChat       = "new_chat"       // a chat a visitor started
	KindCustomerReply = "customer_reply" // a customer wrote on a ticket assigned to the agent
	KindAssigned      = "assigned"       // someone else assigned a ticket to the agent
	KindMention       = "mention"        // a colleague's @name in a note
	KindSLARisk       = "sla_risk"       // a target of the agent's ticket is about to pass
)

// Kinds lists every kind.
var Kinds = []string{KindNewChat, KindCustomerReply, KindAssigned, KindMention, KindSLARisk}

// mailKinds are the kinds the email digest may carry: what is addressed
// to the agent by name. A new chat or a reply is stale by the time a
// digest arrives.
var mailKinds = []string{KindAssigned, KindMention}

// Sounds the app can play (synthesized in the browser), or "off".
var Sounds = []string{"chime", "bell", "pop", "off"}

// Channels is where one kind of notification goes.
type Channels struct {
	Push  bool `json:"push"`
	Email bool `json:"email"`
}

// Quiet is a daily stretch of quiet hours in the agent's own time zone
// (their profile's; UTC when unset): no push and no sound then. It may
// cross midnight (22:00 to 07:00).
type Quiet struct {
	On   bool   `json:"on"`
	From string `json:"from"` // "HH:MM"
	To   string `json:"to"`
}

// Prefs are an agent's notification preferences.
type Prefs struct {
	Events map[string]Channels `json:"events"`
	// PushWhen is "away" (only when no tab of the app is open and visible
	// on any device) or "always".
	PushWhen string `json:"push_when"`
	Quiet    Quiet  `json:"quiet"`
	// EmailDelay is how long a mention or assignment waits for the agent
	// to come back before it goes into an email digest.
	EmailDelay int `json:"email_delay_minutes"`
	// Sound is played in the open app for a new chat and for a customer's
	// new message on the ticket open on screen.
	Sound           string `json:"sound"`
	SoundNewChat    bool   `json:"sound_new_chat"`
	SoundOpenTicket bool   `json:"sound_open_ticket"`
}

// Defaults are the preferences of an agent who never changed them.
func Defaults() Prefs {
	ev := map[string]Channels{}
	for _, k := range Kinds {
		ev[k] = Channels{Push: true, Email: slices.Contains(mailKinds, k)}
	}
	return Prefs{Events: ev, PushWhen: "away", Quiet: Quiet{From: "22:00", To: "07:00"}, EmailDelay: 15,
		Sound: "chime", SoundNewChat: true, SoundOpenTicket: true}
}

// parsePrefs reads stored preferences over the defaults ("" is the
// defaults); what cannot be read falls back to them.
func parsePrefs(raw string) Prefs {
	p := Defaults()
	if raw == "" {
		return p
	}
	var in Prefs
	if json.Unmarshal([]byte(raw), &in) != nil || in.Check() != nil {
		return p
	}
	for k, c := range in.Events {
		p.Events[k] = c
	}
	in.Events = p.Events
	return in
}

// Check refuses preferences that make no sense, naming the field.
func (p *Prefs) Check() error {
	for k, c := range p.Events {
		if !slices.Contains(Kinds, k) {
			return desk.InputErrorf("events", "%q is not a kind of notification (%v)", k, Kinds)
		}
		if c.Email && !slices.Contains(mailKinds, k) {
			return desk.InputErrorf("events."+k+".email", "only mentions and assignments go by email")
		}
	}
	if p.PushWhen != "away" && p.PushWhen != "always" {
		return desk.InputErrorf("push_when", "push_when must be away or always")
	}
	if _, err := clock(p.Quiet.From); err != nil {
		return desk.InputErrorf("quiet.from", "quiet hours start at a time of day written HH:MM, not %q", p.Quiet.From)
	}
	if _, err := clock(p.Quiet.To); err != nil {
		return desk.InputErrorf("quiet.to", "quiet hours end at a time of day written HH:MM, not %q", p.Quiet.To)
	}
	if p.EmailDelay < 1 || p.EmailDelay > 24*60 {
		return desk.InputErrorf("email_delay_minutes", "the email delay is from 1 to %d minutes", 24*60)
	}
	if !slices.Contains(Sounds, p.Sound) {
		return desk.InputErrorf("sound", "sound must be one of %v", Sounds)
	}
	return nil
}

// clock reads "HH:MM" as minutes after midnight.
func clock(s string) (int, error) {
	var h, m int
	if len(s) != 5 {
		return 0, fmt.Errorf("not HH:MM")
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 23 || m > 59 || h < 0 || m < 0 {
		return 0, fmt.Errorf("not HH:MM")
	}
	return h*60 + m, nil
}

// quietAt tells whether now falls in the agent's quiet hours, in the
// agent's time zone.
func (p *Prefs) quietAt(a *store.Agent, now time.Time) bool {
	if !p.Quiet.On {
		return false
	}
	from, err1 := clock(p.Quiet.From)
	to, err2 := clock(p.Quiet.To)
	if err1 != nil || err2 != nil || from == to {
		return false
	}
	loc := time.UTC
	if a.Timezone != "" {
		if l, err := time.LoadLocation(a.Timezone); err == nil {
			loc = l
		}
	}
	local := now.In(loc)
	m := local.Hour()*60 + local.Minute()
	if from < to {
		return m >= from && m < to
	}
	return m >= from || m < to // across midnight
}
