package desk

import (
	"context"
	"strconv"
	"time"

	"onedesk/metrics"
)

// deskStats are the counters the desk keeps for /metrics since it started.
type deskStats struct {
	ingested   *metrics.CounterVec // new inbound messages, by channel
	sends      *metrics.CounterVec // outbox attempts, by channel and outcome
	pollErrors *metrics.CounterVec // failed mailbox polls, by mailbox id

	mailImported *metrics.CounterVec // messages imported from a mailbox, by mailbox id
	mailPartial  *metrics.CounterVec // of them, those only partly read
}

func newDeskStats() *deskStats {
	return &deskStats{
		ingested:   metrics.NewCounterVec("channel"),
		sends:      metrics.NewCounterVec("channel", "outcome"),
		pollErrors: metrics.NewCounterVec("mailbox"),

		mailImported: metrics.NewCounterVec("mailbox"),
		mailPartial:  metrics.NewCounterVec("mailbox"),
	}
}

// Collect writes the desk's metrics: what it took in and sent, and the
// queues as they stand (read from the database now).
func (d *Desk) Collect(ctx context.Context, w *metrics.Writer) error {
	d.stats.ingested.Write(w, "onedesk_ingested_messages_total", "Inbound messages stored (not counting repeats a channel delivered twice), by channel.")
	d.stats.sends.Write(w, "onedesk_outbox_sends_total", "Attempts to send a reply, by the channel it left by (a chat reply emailed to a visitor gone counts once for chat, once for email) and outcome (sent, retry: failed and queued again, failed: given up).")
	d.stats.pollErrors.Write(w, "onedesk_mail_poll_errors_total", "Mailbox polls that failed, by mailbox id.")
	d.stats.mailImported.Write(w, "onedesk_mail_imported_total", "Messages imported from a mailbox since the server started, by mailbox id.")
	d.stats.mailPartial.Write(w, "onedesk_mail_partial_total", "Messages imported only partly read since the server started, by mailbox id.")
	q, err := d.db.Queues(ctx)
	if err != nil {
		return err
	}
	w.Gauge("onedesk_outbox_queued", "Replies waiting in the outbox to be sent.", float64(q.Outbox))
	w.Gauge("onedesk_outbox_retrying", "Replies in the outbox whose last attempt failed.", float64(q.OutboxRetrying))
	w.Gauge("onedesk_webhook_deliveries_queued", "Webhook posts waiting to be made.", float64(q.Webhooks))
	boxes, err := d.db.Mailboxes(ctx)
	if err != nil {
		return err
	}
	for _, m := range boxes {
		ok := 0.0
		if m.LastError == "" && m.LastPolledAt != nil {
			ok = 1
		}
		w.Gauge("onedesk_mailbox_poll_ok", "1 when the mailbox's last poll succeeded, by mailbox id and address.", ok,
			"mailbox", strconv.FormatInt(m.ID, 10), "address", m.Address)
	}
	partial, err := d.db.PartialCounts(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, m := range boxes {
		id := strconv.FormatInt(m.ID, 10)
		stuck := 0.0
		if s := MailboxStuck(m, now); s != "" {
			stuck = 1
		}
		w.Gauge("onedesk_mailbox_stuck", "1 when the mailbox has failed for several poll intervals or at the same message again and again, by mailbox id.", stuck, "mailbox", id)
	}
	for _, m := range boxes {
		w.Gauge("onedesk_mailbox_partial_messages", "Messages stored from the mailbox that were only partly read, by mailbox id.",
			float64(partial[m.ID]), "mailbox", strconv.FormatInt(m.ID, 10))
	}
	for _, m := range boxes {
		if m.LastPolledAt != nil {
			w.Gauge("onedesk_mailbox_last_poll_timestamp_seconds", "When the mailbox was last polled (Unix time), by mailbox id.",
				float64(m.LastPolledAt.Unix()), "mailbox", strconv.FormatInt(m.ID, 10))
		}
	}
	return nil
}
