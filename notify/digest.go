package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// The email digest: a mention or an assignment that found its agent
// away waits their email delay; then, if they are still away, what waits
// for them goes out in one mail through the system mail settings. What
// they opened meanwhile (the ticket read after the item) is left out. A
// mail that cannot be sent is tried again every few minutes; items a few
// days old are dropped unsent. The items are rows: a restart loses none.

// mailDue sends the digests due by now.
func (n *Notifier) mailDue(ctx context.Context, now time.Time) error {
	ids, err := n.db.NotifyMailDue(ctx, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil
		}
		n.mu.Lock()
		wait := n.mailWait[id]
		n.mu.Unlock()
		if now.Before(wait) || n.present(id) {
			continue // back in the app: the items wait until they leave again, or open the tickets
		}
		if err := n.digest(ctx, id, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// digest mails an agent what waits for them.
func (n *Notifier) digest(ctx context.Context, agentID int64, now time.Time) error {
	items, err := n.db.NotifyMailOf(ctx, agentID)
	if err != nil {
		return err
	}
	a, err := n.db.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	var send, drop []*store.NotifyMail
	for _, it := range items {
		read, err := n.db.TicketReadAt(ctx, agentID, it.TicketID)
		if err != nil {
			return err
		}
		switch {
		case !a.Active || !read.Before(it.CreatedAt) || now.Sub(it.CreatedAt) > mailKeep:
			drop = append(drop, it)
		default:
			send = append(send, it)
		}
	}
	if len(send) > 0 {
		m := desk.SystemMail{To: a.Email, Subject: n.digestSubject(a, len(send)), Text: n.digestText(a, send)}
		if err := n.d.SendSystemMail(ctx, m); err != nil {
			n.mails.Inc("retry")
			n.mu.Lock()
			n.mailWait[agentID] = now.Add(mailRetry)
			n.mu.Unlock()
			// The items stay: tried again in a few minutes.
			n.log.Warn("notification digest not sent", "agent", agentID, "items", len(send), "err", err)
			return nil
		}
		n.mails.Inc("sent")
		n.log.Info("notification digest sent", "agent", agentID, "items", len(send))
	}
	n.mu.Lock()
	delete(n.mailWait, agentID)
	n.mu.Unlock()
	var ids []int64
	for _, it := range append(send, drop...) {
		ids = append(ids, it.ID)
	}
	return n.db.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.DeleteNotifyMail(ctx, ids) })
}

func (n *Notifier) digestSubject(a *store.Agent, count int) string {
	return i18n.S("onedesk: what waits for you (%d)", count).In(a.Language)
}

func (n *Notifier) digestText(a *store.Agent, items []*store.NotifyMail) string {
	var b strings.Builder
	b.WriteString(i18n.S("Hello %s,\n\nwhile you were away:", a.Name).In(a.Language))
	b.WriteString("\n\n")
	for _, it := range items {
		fmt.Fprintf(&b, "- %s\n  %s\n", it.Text, n.link(it.TicketID))
	}
	b.WriteString("\n")
	b.WriteString(i18n.S("You get this mail because you were away from the app. Change what reaches you by email under My settings → Notifications.").In(a.Language))
	b.WriteString("\n")
	return b.String()
}
