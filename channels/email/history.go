package email

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// A mailbox's history import: the mail of its folder since a day, and the
// replies of its Sent folder, read in the background over a connection of
// its own, each folder with its own cursor (store.HistoryFolder), while
// the live poller goes on reading new mail. History is ingested silently
// (desk.Inbound.Historic): resolved tickets at their real dates, nothing
// set off.

// Roles of the folders a history reads.
const (
	roleInbox = "inbox"
	roleSent  = "sent"
)

// historyPauseFactor: after a batch that took d, the import waits d*historyPauseFactor
// so that it takes a share of the writer and the CPU, not all of them
// (as the search merge does, store/searchmerge.go).
var historyPauseFactor = 0.25

// historyWaitConnect is how often the import looks whether the live
// poller has connected yet (it starts where that one started).
var historyWaitConnect = time.Second

// errHistoryStopped: the import was cancelled (or the mailbox changed)
// between two batches.
var errHistoryStopped = errors.New("history import stopped")

// sentNames are usual names of the Sent folder, for servers without
// SPECIAL-USE (RFC 6154); the flag wins when a server has it.
var sentNames = []string{"Sent", "Sent Items", "Sent Messages", "Sent Mail", "[Gmail]/Sent Mail", "INBOX.Sent", "INBOX/Sent",
	"Gesendet", "Enviados", "Itens Enviados", "Gönderilmiş Öğeler", "Odeslané", "Отправленные"}

// historyLoop runs a mailbox's history import to its end (done or
// cancelled), retrying with backoff while it fails.
func (c *Channel) historyLoop(ctx context.Context, id int64) {
	wait := c.Backoff
	for ctx.Err() == nil {
		err := c.importHistory(ctx, id)
		if ctx.Err() != nil || err == nil || errors.Is(err, errHistoryStopped) {
			return
		}
		err = Explain(err)
		c.log.Warn("email: history import failed", "mailbox", id, "err", err, "retry_in", wait)
		if _, serr := c.desk.DB().SetHistoryState(ctx, id, store.HistoryRunning, store.HistoryRunning, err.Error(), i18n.Stored(err)); serr != nil {
			c.log.Warn("email: history state", "mailbox", id, "err", serr)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, c.MaxBackoff)
	}
}

// importHistory imports what is left of a mailbox's history; nil when it
// is done, or there is none to do.
func (c *Channel) importHistory(ctx context.Context, id int64) error {
	db := c.desk.DB()
	mb, err := db.Mailbox(ctx, id)
	if err != nil {
		return err
	}
	// The history ends where the live poller began: wait for its first connect.
	for mb.UIDValidity == 0 {
		if mb.HistoryState != store.HistoryPending && mb.HistoryState != store.HistoryRunning {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(historyWaitConnect):
		}
		if mb, err = db.Mailbox(ctx, id); err != nil {
			return err
		}
	}
	if mb.HistoryState != store.HistoryPending && mb.HistoryState != store.HistoryRunning {
		return nil
	}
	oauth, err := c.oauthOf(ctx, mb) // a Gmail or Microsoft 365 mailbox signs in with its token
	if err != nil {
		return err
	}
	cl, err := dialIMAP(mb, nil, oauth)
	if err != nil {
		return err
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	folders, err := db.HistoryFolders(ctx, id)
	if err != nil {
		return err
	}
	if len(folders) == 0 {
		if folders, err = c.planHistory(ctx, cl, mb); err != nil {
			return err
		}
	}
	if ok, err := db.SetHistoryState(ctx, id, mb.HistoryState, store.HistoryRunning, "", ""); err != nil || !ok {
		return err // cancelled meanwhile
	}
	since := time.Time{}
	if mb.HistorySince != nil {
		since = *mb.HistorySince
	}
	c.log.Info("email: history import", "mailbox", id, "since", since, "folders", len(folders))
	for i := range folders {
		if err := c.importHistoryFolder(ctx, cl, mb, &folders[i], since); err != nil {
			return err
		}
	}
	if _, err := db.SetHistoryState(ctx, id, store.HistoryRunning, store.HistoryDone, "", ""); err != nil {
		return err
	}
	c.log.Info("email: history import done", "mailbox", id)
	return cl.Logout().Wait()
}

// planHistory decides which folders the history reads and where each
// ends: the mailbox's folder up to the live cursor, and the Sent folder up
// to its newest message now (later mail there is not history).
func (c *Channel) planHistory(ctx context.Context, cl *imapclient.Client, mb *store.Mailbox) ([]store.HistoryFolder, error) {
	folders := []store.HistoryFolder{{MailboxID: mb.ID, Folder: mb.IMAPFolder, Role: roleInbox, UIDValidity: mb.UIDValidity, StopUID: mb.LastUID}}
	sent, err := findSent(cl, mb)
	if err != nil {
		return nil, err
	}
	if sent != "" && sent != mb.IMAPFolder {
		st, err := cl.Status(sent, &imap.StatusOptions{UIDNext: true, UIDValidity: true}).Wait()
		if err != nil {
			return nil, &folderError{sent, err}
		}
		folders = append(folders, store.HistoryFolder{MailboxID: mb.ID, Folder: sent, Role: roleSent,
			UIDValidity: st.UIDValidity, StopUID: uint32(max(st.UIDNext, 1) - 1)})
	}
	err = c.desk.DB().Write(ctx, func(tx *store.Tx) error {
		for _, f := range folders {
			if err := tx.SaveHistoryFolder(ctx, f); err != nil {
				return err
			}
		}
		return nil
	})
	return folders, err
}

// findSent names the mailbox's Sent folder: the one chosen, else the one
// flagged \Sent (RFC 6154), else one of the usual names; "" for none.
func findSent(cl *imapclient.Client, mb *store.Mailbox) (string, error) {
	switch mb.SentFolder {
	case "-":
		return "", nil
	case "":
	default:
		return mb.SentFolder, nil
	}
	opts := &imap.ListOptions{}
	if cl.Caps().Has(imap.CapSpecialUse) {
		opts.ReturnSpecialUse = true
	}
	list, err := cl.List("", "*", opts).Collect()
	if err != nil {
		return "", i18n.Errorf("the list of folders could not be read (%w)", err)
	}
	for _, l := range list {
		for _, a := range l.Attrs {
			if strings.EqualFold(string(a), string(imap.MailboxAttrSent)) {
				return l.Mailbox, nil
			}
		}
	}
	for _, name := range sentNames {
		for _, l := range list {
			if strings.EqualFold(l.Mailbox, name) {
				return l.Mailbox, nil
			}
		}
	}
	return "", nil
}

// importHistoryFolder imports one folder's history from its cursor to its
// end, the messages since the history's day.
func (c *Channel) importHistoryFolder(ctx context.Context, cl *imapclient.Client, mb *store.Mailbox, f *store.HistoryFolder, since time.Time) error {
	db := c.desk.DB()
	sel, err := cl.Select(f.Folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return &folderError{f.Folder, err}
	}
	if sel.UIDValidity != f.UIDValidity {
		// The folder was rebuilt since the history began: its UIDs mean
		// something else now. Read it again to its newest message;
		// Message-IDs keep what is stored from coming twice.
		f.UIDValidity, f.LastUID, f.StopUID = sel.UIDValidity, 0, uint32(max(sel.UIDNext, 1)-1)
		if f.Role == roleInbox && mb.UIDValidity == sel.UIDValidity {
			f.StopUID = mb.LastUID
		}
	}
	if f.LastUID >= f.StopUID {
		return db.Write(ctx, func(tx *store.Tx) error { return tx.SaveHistoryFolder(ctx, *f) })
	}
	// Servers search by the Date header (SENTSINCE) and by arrival
	// (SINCE); either may be what the shop means by "since", so both are
	// asked and each message's own date decides.
	criteria := &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(f.LastUID + 1), Stop: imap.UID(f.StopUID)}}}}
	if !since.IsZero() {
		criteria.Or = [][2]imap.SearchCriteria{{{SentSince: since}, {Since: since}}}
	}
	res, err := cl.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return i18n.Errorf("the search of the folder %q failed (%w)", f.Folder, err)
	}
	uids := res.AllUIDs()
	f.Total = f.Done + len(uids)
	if err := db.Write(ctx, func(tx *store.Tx) error { return tx.SaveHistoryFolder(ctx, *f) }); err != nil {
		return err
	}
	agents, err := db.Agents(ctx)
	if err != nil {
		return err
	}
	tg := target{uidValidity: f.UIDValidity, hist: f, since: since, agents: map[string]bool{}}
	for _, a := range agents {
		tg.agents[strings.ToLower(a.Email)] = true
	}
	// Sizes first, a chunk at a time, so memory stays flat over a large
	// folder; importList fetches each chunk in small batches.
	const chunk = 500
	for start := 0; start < len(uids); start += chunk {
		part := uids[start:min(start+chunk, len(uids))]
		sized, err := cl.Fetch(imap.UIDSetNum(part...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		if err != nil {
			return i18n.Errorf("the messages of the folder %q could not be listed (%w)", f.Folder, err)
		}
		if err := c.importList(ctx, cl, mb, tg, sized); err != nil {
			return err
		}
	}
	return nil
}

// historyBreak comes after each batch of history: a pause that leaves the
// writer to live mail, and a look whether the import was cancelled.
func (c *Channel) historyBreak(ctx context.Context, id int64, tg target, took time.Duration) error {
	if tg.hist == nil {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(float64(took) * historyPauseFactor)):
	}
	mb, err := c.desk.DB().Mailbox(ctx, id)
	if err != nil {
		return err
	}
	if mb.HistoryState != store.HistoryRunning {
		return errHistoryStopped
	}
	return nil
}

// historic makes a message of a history import what the desk stores:
// dated by its Date header (else its arrival on the server), silent, and,
// from the Sent folder, a reply to the first person it was sent to. It
// reports a message to pass over: older than the history's day, our own
// mail in the inbox, sent mail to nobody but us.
func historic(in desk.Inbound, tg target, m *imapclient.FetchMessageBuffer, mb *store.Mailbox, mailboxes []*store.Mailbox) (desk.Inbound, bool) {
	in.Historic = true
	// A [#123] in an old subject is most likely the helpdesk before's
	// number, not our ticket 123: history threads by its headers.
	in.TicketHint = 0
	if in.Date.IsZero() || in.Date.Year() < 1980 {
		in.Date = m.InternalDate
	}
	if !tg.since.IsZero() && !in.Date.IsZero() && in.Date.Before(tg.since) {
		return in, true
	}
	if tg.hist.Role != roleSent {
		return in, in.From.Value != "" && ourAddress(mailboxes, in.From.Value)
	}
	var to *desk.Contact
	var cc []desk.Contact
	for _, p := range in.CC {
		switch {
		case ourAddress(mailboxes, p.Identity.Value) || tg.agents[strings.ToLower(p.Identity.Value)]:
		case to == nil:
			to = &p
		default:
			cc = append(cc, p)
		}
	}
	if to == nil {
		return in, true // a note to ourselves: no customer to file it under
	}
	in.SentBy = in.From.Value
	if in.SentBy == "" {
		in.SentBy = envelopeSender(m)
	}
	if in.SentBy == "" {
		in.SentBy = mb.Address
	}
	in.From, in.Name, in.CC, in.Identities = to.Identity, to.Name, cc, nil
	in.Auto = "" // what we sent is no machine mail of the customer's
	return in, false
}
