package desk

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"onedesk/i18n"
	"onedesk/store"
)

// MailboxInput creates or edits a mailbox. On edit, nil fields and empty
// passwords keep what the mailbox has.
type MailboxInput struct {
	Address      *string
	Name         *string
	StoreID      Optional[int64]
	IMAPHost     *string
	IMAPPort     *int
	IMAPSecurity *string
	IMAPUsername *string
	IMAPPassword string
	IMAPFolder   *string
	SMTPHost     *string
	SMTPPort     *int
	SMTPSecurity *string
	SMTPUsername *string
	SMTPPassword string
	PollSeconds  *int
	AfterImport  *string
	MoveTo       *string
	Active       *bool

	PlusAddressing *bool
	AutoAck        *bool
	AutoAckText    *string
	MaxMessageMB   *int

	// Auth is "password" or "oauth2" (nil keeps the mailbox's); OAuth is
	// the OAuth2 app it signs in with (mailbox_oauth.go).
	Auth  *string
	OAuth *OAuthInput

	// Where the mailbox starts reading (store.StartNew, StartHistory,
	// StartAll), the day its history starts at, and its Sent folder ("":
	// found by its \Sent flag; "-": none). Asking for history, or for
	// another day of it, starts a new history import.
	StartFrom    *string
	HistorySince *time.Time
	SentFolder   *string
}

var securities = []string{"tls", "starttls", "none"}

// SaveMailbox creates (id 0) or updates a support mailbox.
func (d *Desk) SaveMailbox(ctx context.Context, id int64, in MailboxInput) (*store.Mailbox, error) {
	for field, host := range map[string]*string{"imap_host": in.IMAPHost, "smtp_host": in.SMTPHost} {
		if host != nil && strings.TrimSpace(*host) != "" {
			if err := CheckOutboundHost(ctx, field, strings.TrimSpace(*host)); err != nil {
				return nil, err // before the write: DNS is not waited on holding the writer
			}
		}
	}
	if err := in.checkOAuthHosts(ctx); err != nil {
		return nil, err
	}
	var m *store.Mailbox
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		if id == 0 {
			m = &store.Mailbox{IMAPPort: 993, IMAPSecurity: "tls", IMAPFolder: "INBOX", SMTPPort: 587, SMTPSecurity: "starttls",
				PollSeconds: 60, AfterImport: "leave", Active: true, MaxMessageMB: 25, CreatedAt: store.Now(),
				StartFrom: store.StartNew}
		} else {
			var err error
			if m, err = tx.Mailbox(ctx, id); err != nil {
				return err
			}
		}
		was := *m
		in.apply(m)
		oauth, err := in.oauthFor(ctx, tx, m)
		if err != nil {
			return err
		}
		if err := checkMailbox(m); err != nil {
			return err
		}
		if err := checkStart(m); err != nil {
			return err
		}
		if m.StartFrom == store.StartHistory && (id == 0 || was.StartFrom != store.StartHistory || !sameTime(was.HistorySince, m.HistorySince)) {
			// A new import: it begins once the mailbox has connected.
			m.HistoryState = store.HistoryPending
			if id != 0 {
				if err := tx.ClearHistory(ctx, id); err != nil {
					return err
				}
			}
		} else if m.StartFrom != store.StartHistory && (m.HistoryState == store.HistoryPending || m.HistoryState == store.HistoryRunning) {
			m.HistoryState = store.HistoryCancelled // history no longer asked for
		}
		if err := exists(ctx, tx, "stores", "store_id", m.StoreID); err != nil {
			return err
		}
		if err := tx.SaveMailbox(ctx, m); err != nil {
			return err
		}
		return saveOAuth(ctx, tx, m, oauth)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, inputErr("address", "a mailbox for %s exists already", m.Address)
	}
	if err != nil {
		return nil, err
	}
	d.notifyAccounts("email")
	return m, nil
}

// apply sets on m what the input gives: texts trimmed, passwords only
// when given (they are write-only).
func (in MailboxInput) apply(m *store.Mailbox) {
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&m.Address, in.Address}, {&m.Name, in.Name}, {&m.IMAPHost, in.IMAPHost}, {&m.IMAPSecurity, in.IMAPSecurity},
		{&m.IMAPUsername, in.IMAPUsername}, {&m.IMAPFolder, in.IMAPFolder}, {&m.SMTPHost, in.SMTPHost},
		{&m.SMTPSecurity, in.SMTPSecurity}, {&m.SMTPUsername, in.SMTPUsername}, {&m.AfterImport, in.AfterImport},
		{&m.MoveTo, in.MoveTo}, {&m.AutoAckText, in.AutoAckText}, {&m.StartFrom, in.StartFrom}, {&m.SentFolder, in.SentFolder}} {
		if f.v != nil {
			*f.dst = strings.TrimSpace(*f.v)
		}
	}
	if in.IMAPPassword != "" {
		m.IMAPPassword = in.IMAPPassword
	}
	if in.SMTPPassword != "" {
		m.SMTPPassword = in.SMTPPassword
	}
	for _, f := range []struct {
		dst *int
		v   *int
	}{{&m.IMAPPort, in.IMAPPort}, {&m.SMTPPort, in.SMTPPort}, {&m.PollSeconds, in.PollSeconds}, {&m.MaxMessageMB, in.MaxMessageMB}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	for _, f := range []struct {
		dst *bool
		v   *bool
	}{{&m.Active, in.Active}, {&m.PlusAddressing, in.PlusAddressing}, {&m.AutoAck, in.AutoAck}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if in.StoreID.Set {
		m.StoreID = in.StoreID.Value
	}
	if in.HistorySince != nil {
		since := in.HistorySince.UTC().Truncate(time.Millisecond)
		m.HistorySince = &since
	}
}

// earliestHistory is as far back as a history import goes.
var earliestHistory = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// checkStart checks where the mailbox starts, and its history's day.
func checkStart(m *store.Mailbox) error {
	if m.StartFrom == "" {
		m.StartFrom = store.StartNew
	}
	if err := oneOf("start_from", m.StartFrom, []string{store.StartNew, store.StartHistory, store.StartAll}); err != nil {
		return err
	}
	if m.StartFrom == store.StartHistory {
		if m.HistorySince == nil {
			return inputErr("history_since", "choose the day the history starts at")
		}
		if m.HistorySince.Before(earliestHistory) || m.HistorySince.After(store.Now()) {
			return inputErr("history_since", "the history must start between 1990 and today")
		}
	}
	if len(m.SentFolder) > 200 {
		return inputErr("sent_folder", "the Sent folder's name is longer than 200 characters")
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// CancelHistory stops a mailbox's history import; what it imported stays.
// The import sees it between two batches.
func (d *Desk) CancelHistory(ctx context.Context, id int64) (*store.Mailbox, error) {
	m, err := d.db.Mailbox(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.HistoryState != store.HistoryPending && m.HistoryState != store.HistoryRunning {
		return nil, inputErr("history_state", "no history import is running")
	}
	for _, from := range []string{store.HistoryPending, store.HistoryRunning} {
		if _, err := d.db.SetHistoryState(ctx, id, from, store.HistoryCancelled, "", ""); err != nil {
			return nil, err
		}
	}
	return d.db.Mailbox(ctx, id)
}

// HistoryProgress is how far a mailbox's history import has come (nil
// when it has none).
func (d *Desk) HistoryProgress(ctx context.Context, m *store.Mailbox) (*store.HistoryProgress, error) {
	if m.HistoryState == "" {
		return nil, nil
	}
	folders, err := d.db.HistoryFolders(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	return store.Progress(m, folders, store.Now()), nil
}

func checkMailbox(m *store.Mailbox) error {
	if a, err := mail.ParseAddress(m.Address); err != nil || a.Address != m.Address {
		return inputErr("address", "%q is not an email address", m.Address)
	}
	m.Address = strings.ToLower(m.Address)
	if m.IMAPHost == "" {
		return inputErr("imap_host", "imap_host is empty")
	}
	if m.SMTPHost == "" {
		return inputErr("smtp_host", "smtp_host is empty")
	}
	for field, port := range map[string]int{"imap_port": m.IMAPPort, "smtp_port": m.SMTPPort} {
		if port < 1 || port > 65535 {
			return inputErr(field, "%s must be from 1 to 65535", field)
		}
	}
	if err := oneOf("imap_security", m.IMAPSecurity, securities); err != nil {
		return err
	}
	if err := oneOf("smtp_security", m.SMTPSecurity, securities); err != nil {
		return err
	}
	if err := oneOf("after_import", m.AfterImport, []string{"leave", "seen", "move"}); err != nil {
		return err
	}
	if m.AfterImport == "move" && m.MoveTo == "" {
		return inputErr("move_to", "after_import move needs the folder to move to")
	}
	if m.IMAPFolder == "" {
		m.IMAPFolder = "INBOX"
	}
	if m.PollSeconds < 5 || m.PollSeconds > 3600 {
		return inputErr("poll_seconds", "poll_seconds must be from 5 to 3600")
	}
	if m.MaxMessageMB < 1 || m.MaxMessageMB > 200 {
		return inputErr("max_message_mb", "max_message_mb must be from 1 to 200")
	}
	if m.AutoAck && m.AutoAckText == "" {
		return inputErr("auto_ack_text", "write the acknowledgement text, or turn acknowledgements off")
	}
	if len(m.AutoAckText) > 10000 {
		return inputErr("auto_ack_text", "the acknowledgement text is longer than 10000 characters")
	}
	return nil
}

// RecordPoll notes a mailbox poll's outcome for the app (nil = success);
// uid is the message the poll failed at (0 when not at a message).
func (d *Desk) RecordPoll(ctx context.Context, mailboxID int64, pollErr error, uid uint32) {
	msg := ""
	if pollErr != nil {
		msg = pollErr.Error()
		d.stats.pollErrors.Inc(strconv.FormatInt(mailboxID, 10))
	}
	if err := d.db.SetMailboxPollError(ctx, mailboxID, msg, i18n.Stored(pollErr), uid); err != nil {
		d.log.Warn("record poll", "mailbox", mailboxID, "err", err)
	}
}

// stuckPolls is how many poll intervals a mailbox may fail for, or how
// many polls in a row may fail at the same message, before it is stuck.
const stuckPolls = 3

// MailboxStuck says why an active mailbox is stuck ("" when it is not):
// it has failed for longer than a few poll intervals, or at the same
// message again and again. A stuck mailbox imports nothing new until
// someone acts, so the app, /healthz and /metrics all name it.
func MailboxStuck(m *store.Mailbox, now time.Time) string {
	if !m.Active || m.FailingSince == nil {
		return ""
	}
	if m.FailingUID != 0 && m.FailingCount >= stuckPolls {
		return fmt.Sprintf("the message with UID %d failed to import %d times in a row: %s", m.FailingUID, m.FailingCount, m.LastError)
	}
	interval := time.Duration(max(m.PollSeconds, 5)) * time.Second
	if failing := now.Sub(*m.FailingSince); failing >= stuckPolls*interval {
		return fmt.Sprintf("nothing has been imported for %s: %s", failing.Round(time.Second), m.LastError)
	}
	return ""
}

// RecordExternalID stores the id an outbound message left with.
func (d *Desk) RecordExternalID(ctx context.Context, messageID int64, externalID string) error {
	return d.db.SetMessageExternalID(ctx, messageID, externalID)
}
