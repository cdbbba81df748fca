package store

import (
	"encoding/json"
	"fmt"
)

// EventType names what happened on a ticket. The constants below are the
// one list of them: Go code, the SQL in this package and the app (which
// is served EventTypes) spell them from here.
type EventType string

const (
	EventCreated          EventType = "created"
	EventReplied          EventType = "replied"
	EventNoted            EventType = "noted"
	EventAssigned         EventType = "assigned"
	EventTransferred      EventType = "transferred"
	EventPriorityChanged  EventType = "priority_changed"
	EventTagsChanged      EventType = "tags_changed"
	EventStatusChanged    EventType = "status_changed"
	EventParticipantAdded EventType = "participant_added"
	EventDeliveryFailed   EventType = "delivery_failed"
	EventDeliveryRetried  EventType = "delivery_retried"
	EventMerged           EventType = "merged" // customers merged, or tickets merged
	EventUnmerged         EventType = "unmerged"
	EventMessageEdited    EventType = "message_edited"
	EventStory            EventType = "story"
	EventRuleApplied      EventType = "rule_applied"
	EventSLABreached      EventType = "sla_breached"
	EventCallLogged       EventType = "call_logged"
	EventOrderAction      EventType = "order_action"
	EventMacroApplied     EventType = "macro_applied"
	EventSnoozed          EventType = "snoozed"
	EventWoke             EventType = "woke"
	EventReplyEdited      EventType = "reply_edited"
	EventReplyCancelled   EventType = "reply_cancelled"
	EventSurveySent       EventType = "survey_sent" // a satisfaction question went out, or was skipped
	EventRated            EventType = "rated"       // the customer rated the ticket, or commented
)

// EventTypes is every ticket event type, in the order of the list above.
var EventTypes = []EventType{EventCreated, EventReplied, EventNoted, EventAssigned, EventTransferred,
	EventPriorityChanged, EventTagsChanged, EventStatusChanged, EventParticipantAdded, EventDeliveryFailed,
	EventDeliveryRetried, EventMerged, EventUnmerged, EventMessageEdited, EventStory, EventRuleApplied,
	EventSLABreached, EventCallLogged, EventOrderAction, EventMacroApplied, EventSnoozed, EventWoke, EventReplyEdited,
	EventReplyCancelled, EventSurveySent, EventRated}

// EventData is the payload of one event type, stored as JSON in the
// event's data. Fields are declared in the alphabetical order of their
// JSON names, so they encode byte for byte as the maps that wrote the
// events stored before these types did.
type EventData interface {
	EventType() EventType
}

// CreatedData: a ticket was opened (follow_up_of: the closed ticket the
// customer wrote on again).
type CreatedData struct {
	// AgentStarted: an agent opened it, writing first (a conversation
	// they started, a call they logged).
	AgentStarted bool   `json:"agent_started,omitempty"`
	Channel      string `json:"channel"`
	FollowUpOf   *int64 `json:"follow_up_of,omitempty"`
}

// TemplateRef names the platform template a reply was sent as.
type TemplateRef struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params"`
}

// RepliedData: an agent's reply to the customer.
type RepliedData struct {
	Mentions  []int64 `json:"mentions,omitempty"`
	MessageID int64   `json:"message_id"`
	// ScheduledAt (RFC 3339, UTC) is when a scheduled reply goes.
	ScheduledAt string       `json:"scheduled_at,omitempty"`
	Template    *TemplateRef `json:"template,omitempty"`
}

// OrderActionData: an agent acted on a shop order from the ticket (a
// refund, a cancellation...): what, on which order, how it ended (done,
// refused with the platform's sentence in message, failed), the money
// back (amount in currency) and what was made (ref: a refund's id, a
// discount code, a draft order).
type OrderActionData struct {
	Action   string `json:"action"`
	ActionID int64  `json:"action_id"`
	Amount   string `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	Message  string `json:"message,omitempty"`
	Order    string `json:"order"`
	Ref      string `json:"ref,omitempty"`
	Status   string `json:"status"`
}

// CallLoggedData: an agent logged a phone call on the ticket (the
// message holds the notes).
type CallLoggedData struct {
	Direction string `json:"direction"`
	Duration  int    `json:"duration_s"`
	MessageID int64  `json:"message_id"`
	Outcome   string `json:"outcome"`
}

// NotedData: an internal note.
type NotedData struct {
	Mentions  []int64 `json:"mentions,omitempty"`
	MessageID int64   `json:"message_id"`
}

// AssignedData: the assignee changed (by hand with a note, on reply, or
// round-robin).
type AssignedData struct {
	From       *int64 `json:"from"`
	Note       string `json:"note,omitempty"`
	OnReply    bool   `json:"on_reply,omitempty"`
	RoundRobin bool   `json:"round_robin,omitempty"`
	To         *int64 `json:"to"`
}

// TransferredData: the team changed, with a handoff note.
type TransferredData struct {
	From *int64 `json:"from"`
	Note string `json:"note,omitempty"`
	To   *int64 `json:"to"`
}

// PriorityChangedData: the priority changed.
type PriorityChangedData struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// TagsChangedData: the tags changed.
type TagsChangedData struct {
	From []string `json:"from"`
	To   []string `json:"to"`
}

// StatusChangedData: the status changed.
type StatusChangedData struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ParticipantAddedData: someone joined the ticket's conversation.
type ParticipantAddedData struct {
	CustomerID int64  `json:"customer_id"`
	Identity   string `json:"identity"`
}

// DeliveryFailedData: a reply could not be delivered (attempts: by the
// outbox; none when the platform reported it later).
type DeliveryFailedData struct {
	Attempts  int    `json:"attempts,omitempty"`
	Error     string `json:"error"`
	MessageID int64  `json:"message_id"`
}

// DeliveryRetriedData: an agent sent a failed reply again.
type DeliveryRetriedData struct {
	MessageID int64 `json:"message_id"`
}

// MergedData: the ticket's customer was merged into another
// (customer_id, merged_id), or the ticket took in another (ticket_id) or
// went into one (into_ticket_id).
type MergedData struct {
	CustomerID   int64 `json:"customer_id,omitempty"`
	IntoTicketID int64 `json:"into_ticket_id,omitempty"`
	MergedID     int64 `json:"merged_id,omitempty"`
	TicketID     int64 `json:"ticket_id,omitempty"`
}

// UnmergedData: a customer merge was undone.
type UnmergedData struct {
	CustomerID int64 `json:"customer_id"`
	MergedID   int64 `json:"merged_id"`
}

// MessageEditedData: the customer edited a message on their platform
// (key tells edits apart, so a repeated webhook adds none).
type MessageEditedData struct {
	Key       string `json:"key"`
	MessageID int64  `json:"message_id"`
	Text      string `json:"text"`
}

// StoryData: the customer's message answered or mentioned a story.
type StoryData struct {
	Key       string `json:"key"`
	Kind      string `json:"kind"`
	MessageID int64  `json:"message_id"`
	URL       string `json:"url"`
}

// RuleAppliedData: a rule carried out one action. From and To hold what
// the action moved (a status or priority, tags, or a team or agent id
// that may be null); the other fields belong to one action each.
type RuleAppliedData struct {
	Action     string  `json:"action"`
	Agents     []int64 `json:"agents,omitempty"`
	DeliveryID int64   `json:"delivery_id,omitempty"`
	From       any     `json:"from,omitempty"`
	MessageID  int64   `json:"message_id,omitempty"`
	Rule       string  `json:"rule"`
	RuleID     int64   `json:"rule_id"`
	To         any     `json:"to,omitempty"`
	Webhook    string  `json:"webhook,omitempty"`
	WebhookID  int64   `json:"webhook_id,omitempty"`
}

// SLABreachedData: an SLA target passed unmet.
type SLABreachedData struct {
	Due      string `json:"due"` // RFC 3339, UTC
	PolicyID *int64 `json:"policy_id,omitempty"`
	Target   string `json:"target"` // "first_response" or "resolution"
}

// MacroAppliedData: an agent applied a macro (the changes it made are
// events of their own, each naming the macro); an order action's outcome
// is here.
type MacroAppliedData struct {
	Macro       string `json:"macro"`
	MacroID     int64  `json:"macro_id"`
	OrderAction string `json:"order_action,omitempty"`
	OrderError  string `json:"order_error,omitempty"`
	OrderResult string `json:"order_result,omitempty"`
}

// SnoozedData: the ticket was put to sleep until a time (RFC 3339, UTC),
// or until the customer writes (no until).
type SnoozedData struct {
	Until string `json:"until,omitempty"`
}

// WokeData: a snoozed ticket woke: its time came ("time"), its customer
// wrote ("customer"), or an agent woke it or changed its status ("agent").
type WokeData struct {
	Reason string `json:"reason"`
}

// ReplyEditedData: a scheduled reply's text or time was changed.
type ReplyEditedData struct {
	MessageID   int64  `json:"message_id"`
	ScheduledAt string `json:"scheduled_at"`
}

// ReplyCancelledData: a scheduled reply was cancelled before it went.
type ReplyCancelledData struct {
	MessageID   int64  `json:"message_id"`
	ScheduledAt string `json:"scheduled_at"`
}

// SurveySentData: the satisfaction question went out (via: the channel
// it took), or was skipped (skipped: why, e.g. "reopened", "no_channel").
type SurveySentData struct {
	MessageID int64  `json:"message_id,omitempty"`
	Skipped   string `json:"skipped,omitempty"`
	SurveyID  int64  `json:"survey_id"`
	Via       string `json:"via,omitempty"`
}

// RatedData: the customer rated the ticket (rating 1-5; a thumbs up is 5,
// down 1), or added a comment to their rating.
type RatedData struct {
	Comment  string `json:"comment,omitempty"`
	Rating   int    `json:"rating"`
	Scale    string `json:"scale"` // five or thumbs
	SurveyID int64  `json:"survey_id"`
	Via      string `json:"via"` // the channel the answer came by
}

func (CreatedData) EventType() EventType          { return EventCreated }
func (RepliedData) EventType() EventType          { return EventReplied }
func (NotedData) EventType() EventType            { return EventNoted }
func (AssignedData) EventType() EventType         { return EventAssigned }
func (TransferredData) EventType() EventType      { return EventTransferred }
func (PriorityChangedData) EventType() EventType  { return EventPriorityChanged }
func (TagsChangedData) EventType() EventType      { return EventTagsChanged }
func (StatusChangedData) EventType() EventType    { return EventStatusChanged }
func (ParticipantAddedData) EventType() EventType { return EventParticipantAdded }
func (DeliveryFailedData) EventType() EventType   { return EventDeliveryFailed }
func (DeliveryRetriedData) EventType() EventType  { return EventDeliveryRetried }
func (MergedData) EventType() EventType           { return EventMerged }
func (UnmergedData) EventType() EventType         { return EventUnmerged }
func (MessageEditedData) EventType() EventType    { return EventMessageEdited }
func (StoryData) EventType() EventType            { return EventStory }
func (RuleAppliedData) EventType() EventType      { return EventRuleApplied }
func (SLABreachedData) EventType() EventType      { return EventSLABreached }
func (CallLoggedData) EventType() EventType       { return EventCallLogged }
func (OrderActionData) EventType() EventType      { return EventOrderAction }
func (MacroAppliedData) EventType() EventType     { return EventMacroApplied }
func (SnoozedData) EventType() EventType          { return EventSnoozed }
func (WokeData) EventType() EventType             { return EventWoke }
func (ReplyEditedData) EventType() EventType      { return EventReplyEdited }
func (ReplyCancelledData) EventType() EventType   { return EventReplyCancelled }
func (SurveySentData) EventType() EventType       { return EventSurveySent }
func (RatedData) EventType() EventType            { return EventRated }

// newEventData is an empty payload of each type, to decode into.
var newEventData = map[EventType]func() EventData{
	EventCreated:          func() EventData { return &CreatedData{} },
	EventReplied:          func() EventData { return &RepliedData{} },
	EventNoted:            func() EventData { return &NotedData{} },
	EventAssigned:         func() EventData { return &AssignedData{} },
	EventTransferred:      func() EventData { return &TransferredData{} },
	EventPriorityChanged:  func() EventData { return &PriorityChangedData{} },
	EventTagsChanged:      func() EventData { return &TagsChangedData{} },
	EventStatusChanged:    func() EventData { return &StatusChangedData{} },
	EventParticipantAdded: func() EventData { return &ParticipantAddedData{} },
	EventDeliveryFailed:   func() EventData { return &DeliveryFailedData{} },
	EventDeliveryRetried:  func() EventData { return &DeliveryRetriedData{} },
	EventMerged:           func() EventData { return &MergedData{} },
	EventUnmerged:         func() EventData { return &UnmergedData{} },
	EventMessageEdited:    func() EventData { return &MessageEditedData{} },
	EventStory:            func() EventData { return &StoryData{} },
	EventRuleApplied:      func() EventData { return &RuleAppliedData{} },
	EventSLABreached:      func() EventData { return &SLABreachedData{} },
	EventCallLogged:       func() EventData { return &CallLoggedData{} },
	EventOrderAction:      func() EventData { return &OrderActionData{} },
	EventMacroApplied:     func() EventData { return &MacroAppliedData{} },
	EventSnoozed:          func() EventData { return &SnoozedData{} },
	EventWoke:             func() EventData { return &WokeData{} },
	EventReplyEdited:      func() EventData { return &ReplyEditedData{} },
	EventReplyCancelled:   func() EventData { return &ReplyCancelledData{} },
	EventSurveySent:       func() EventData { return &SurveySentData{} },
	EventRated:            func() EventData { return &RatedData{} },
}

// DecodeEventData reads an event's stored data as its type's payload
// (a pointer to one of the *Data structs).
func DecodeEventData(typ EventType, data []byte) (EventData, error) {
	mk, ok := newEventData[typ]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	v := mk()
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s event data: %w", typ, err)
	}
	return v, nil
}

// Payload is the event's data as its type's payload.
func (e *Event) Payload() (EventData, error) { return DecodeEventData(e.Type, e.Data) }

// CustomerEventType names what happened to a customer as a whole (the
// customer's page shows them). The constants are the one list, served to
// the app beside EventTypes.
type CustomerEventType string

const (
	CustomerMerged              CustomerEventType = "merged"   // another customer was merged in, or this one away
	CustomerUnmerged            CustomerEventType = "unmerged" // a merge was undone
	CustomerIdentityAdded       CustomerEventType = "identity_added"
	CustomerSuggestionDismissed CustomerEventType = "suggestion_dismissed"
)

// CustomerEventTypes is every customer event type, in the order above.
var CustomerEventTypes = []CustomerEventType{CustomerMerged, CustomerUnmerged, CustomerIdentityAdded, CustomerSuggestionDismissed}

// CustomerEventData is the payload of one customer event type (fields in
// the alphabetical order of their JSON names, as the maps wrote them).
type CustomerEventData interface {
	CustomerEventType() CustomerEventType
}

// CustomerMergedData: customer merged_id went into customer customer_id,
// with those identities and tickets; written on both customers.
type CustomerMergedData struct {
	CustomerID int64      `json:"customer_id"`
	Identities []Identity `json:"identities"`
	MergedID   int64      `json:"merged_id"`
	Tickets    []int64    `json:"tickets"`
}

// CustomerUnmergedData: the merge of merged_id into customer_id was
// undone, moving those identities and tickets back.
type CustomerUnmergedData CustomerMergedData

// IdentityAddedData: an agent added an identifier to the customer.
type IdentityAddedData struct {
	Identity Identity `json:"identity"`
}

// SuggestionDismissedData: an agent decided customer_id does not own an
// identifier the customer claimed.
type SuggestionDismissedData struct {
	CustomerID int64    `json:"customer_id"`
	Identity   Identity `json:"identity"`
}

func (CustomerMergedData) CustomerEventType() CustomerEventType   { return CustomerMerged }
func (CustomerUnmergedData) CustomerEventType() CustomerEventType { return CustomerUnmerged }
func (IdentityAddedData) CustomerEventType() CustomerEventType    { return CustomerIdentityAdded }
func (SuggestionDismissedData) CustomerEventType() CustomerEventType {
	return CustomerSuggestionDismissed
}

// newCustomerEventData is an empty payload of each type, to decode into.
var newCustomerEventData = map[CustomerEventType]func() CustomerEventData{
	CustomerMerged:              func() CustomerEventData { return &CustomerMergedData{} },
	CustomerUnmerged:            func() CustomerEventData { return &CustomerUnmergedData{} },
	CustomerIdentityAdded:       func() CustomerEventData { return &IdentityAddedData{} },
	CustomerSuggestionDismissed: func() CustomerEventData { return &SuggestionDismissedData{} },
}

// DecodeCustomerEventData reads a customer event's stored data as its
// type's payload (a pointer to one of the structs above).
func DecodeCustomerEventData(typ CustomerEventType, data []byte) (CustomerEventData, error) {
	mk, ok := newCustomerEventData[typ]
	if !ok {
		return nil, fmt.Errorf("unknown customer event type %q", typ)
	}
	v := mk()
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s customer event data: %w", typ, err)
	}
	return v, nil
}

// Payload is the customer event's data as its type's payload.
func (e *CustomerEvent) Payload() (CustomerEventData, error) {
	return DecodeCustomerEventData(e.Type, e.Data)
}
