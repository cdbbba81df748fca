package desk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"onedesk/store"
)

// MaxSignature is how long a signature may be, in characters.
const MaxSignature = 2000

// mailChannels are the ticket channels whose replies leave by email:
// only their replies are signed. Chat, WhatsApp, Telegram, Messenger and
// Instagram replies are conversation, where a signature is noise.
var mailChannels = []string{"email", "form", "api", "phone"}

// Signed tells whether replies on a ticket of channel get a signature.
func Signed(channel string) bool { return slices.Contains(mailChannels, channel) }

func checkSignature(s *string) error {
	if s == nil {
		return nil
	}
	*s = strings.TrimSpace(strings.ReplaceAll(*s, "\r\n", "\n"))
	if utf8.RuneCountInString(*s) > MaxSignature {
		return inputErr("signature", "the signature is longer than %d characters", MaxSignature)
	}
	return nil
}

// RenderSignature is the signature a reply by agent on a ticket of st
// goes out with: the agent's own above the store's (a personal sign-off,
// then the shop's footer), each with its placeholders filled —
// {agent_name}, {agent_first_name}, {agent_email} and {store_name}.
// Either may be nil or empty; "" when both are.
func RenderSignature(agent *store.Agent, st *store.Store) string {
	var name, first, email, storeName string
	if agent != nil {
		name, email = agent.Name, agent.Email
		first, _, _ = strings.Cut(strings.TrimSpace(name), " ")
	}
	if st != nil {
		storeName = st.Name
	}
	fill := strings.NewReplacer("{agent_name}", name, "{agent_first_name}", first,
		"{agent_email}", email, "{store_name}", storeName)
	var parts []string
	for _, s := range []string{agentSignature(agent), storeSignature(st)} {
		if s = strings.TrimSpace(fill.Replace(s)); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func agentSignature(a *store.Agent) string {
	if a == nil {
		return ""
	}
	return a.Signature
}

func storeSignature(s *store.Store) string {
	if s == nil {
		return ""
	}
	return s.Signature
}

// signatureReader reads what a signature needs, in a transaction or not.
type signatureReader interface {
	Agent(ctx context.Context, id int64) (*store.Agent, error)
	Store(ctx context.Context, id int64) (*store.Store, error)
}

// signatureOf is the signature of agentID's replies on t ("" on a ticket
// whose replies are not emailed).
func signatureOf(ctx context.Context, q signatureReader, agentID int64, t *store.Ticket) (string, error) {
	if !Signed(t.Channel) || agentID == 0 {
		return "", nil
	}
	a, err := q.Agent(ctx, agentID)
	if err != nil {
		return "", err
	}
	var st *store.Store
	if t.StoreID != nil {
		if st, err = q.Store(ctx, *t.StoreID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return RenderSignature(a, st), nil
}

// ReplySignature is the signature agentID's reply on t would go out
// with, for the reply box to show before sending.
func (d *Desk) ReplySignature(ctx context.Context, agentID int64, t *store.Ticket) (string, error) {
	return signatureOf(ctx, d.db, agentID, t)
}
