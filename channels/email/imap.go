package email

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/netguard"
	"onedesk/store"
)

const fetchBatch = 25

// dialIMAP connects and logs in to a mailbox's IMAP server. newMail, when
// set, is signalled when the server reports new messages (during IDLE).
// With an oauth login (mailbox_oauth), the login is by token.
func dialIMAP(mb *store.Mailbox, newMail chan<- struct{}, oauth ...*oauthLogin) (*imapclient.Client, error) {
	opts := &imapclient.Options{
		TLSConfig: &tls.Config{ServerName: mb.IMAPHost, MinVersion: tls.VersionTLS12},
		Dialer:    netguard.Default.Dialer(), // not into the desk's own network
	}
	if newMail != nil {
		opts.UnilateralDataHandler = &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case newMail <- struct{}{}:
					default:
					}
				}
			},
		}
	}
	addr := net.JoinHostPort(mb.IMAPHost, strconv.Itoa(mb.IMAPPort))
	var c *imapclient.Client
	var err error
	switch mb.IMAPSecurity {
	case "tls":
		c, err = imapclient.DialTLS(addr, opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(addr, opts)
	default:
		c, err = imapclient.DialInsecure(addr, opts)
	}
	if err != nil {
		var netErr net.Error
		var recordErr tls.RecordHeaderError
		if mb.IMAPSecurity == "starttls" && !errors.As(err, &netErr) && !errors.As(err, &recordErr) && !strings.Contains(err.Error(), "tls:") {
			// Connected, but the greeting or STARTTLS was not IMAP.
			return nil, &protocolError{"IMAP", addr, err}
		}
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if err := waitGreeting(c); err != nil {
		c.Close()
		return nil, &protocolError{"IMAP", addr, err}
	}
	if len(oauth) > 0 && oauth[0] != nil {
		if err := oauth[0].imap(c, mb); err != nil {
			c.Close()
			return nil, err // said in the sign-in's words (oauth.go)
		}
		return c, nil
	}
	if err := c.Login(mb.IMAPUsername, mb.IMAPPassword).Wait(); err != nil {
		c.Close()
		var refused *imap.Error
		if !errors.As(err, &refused) {
			// Not an IMAP answer at all: a web server, say, on that port.
			return nil, &protocolError{"IMAP", addr, err}
		}
		return nil, &loginError{err}
	}
	return c, nil
}

// greetTimeout is how long a server has to greet after the connection
// is made; a peer that says nothing (a web server waits for a request)
// is not the IMAP or SMTP server asked for.
var greetTimeout = 15 * time.Second

var errNoGreeting = i18n.Errorf("it said nothing after the connection was made")

// waitGreeting waits for the IMAP server's greeting.
func waitGreeting(c *imapclient.Client) error {
	done := make(chan error, 1)
	go func() { done <- c.WaitGreeting() }()
	select {
	case err := <-done:
		return err
	case <-time.After(greetTimeout):
		c.Close()
		<-done
		return errNoGreeting
	}
}

// protocolError is a peer that took the connection but did not speak
// the protocol asked for (a web server on the port, a wrong port).
type protocolError struct {
	protocol, addr string
	err            error
}

func (e *protocolError) Error() string {
	return fmt.Sprintf("%s did not answer as an %s server: %v", e.addr, e.protocol, e.err)
}
func (e *protocolError) Unwrap() error { return e.err }

type loginError struct{ err error }

func (e *loginError) Error() string { return "login: " + e.err.Error() }
func (e *loginError) Unwrap() error { return e.err }

type folderError struct {
	folder string
	err    error
}

func (e *folderError) Error() string { return fmt.Sprintf("open folder %q: %v", e.folder, e.err) }
func (e *folderError) Unwrap() error { return e.err }

// session imports a mailbox and then waits for more mail, with IDLE where
// the server has it and by polling otherwise, until an error or ctx ends.
func (c *Channel) session(ctx context.Context, id int64) error {
	mb, err := c.desk.DB().Mailbox(ctx, id)
	if err != nil {
		return err
	}
	newMail := make(chan struct{}, 1)
	oauth, err := c.oauthOf(ctx, mb)
	if err != nil {
		return err
	}
	cl, err := dialIMAP(mb, newMail, oauth)
	if err != nil {
		return err
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	sel, err := cl.Select(mb.IMAPFolder, nil).Wait()
	if err != nil {
		return &folderError{mb.IMAPFolder, err}
	}
	uidValidity := sel.UIDValidity
	if mb.UIDValidity == 0 && mb.LastUID == 0 && mb.StartFrom != store.StartAll {
		// The first connect: mail already in the folder is not new. The
		// live cursor starts at the folder's end; the past, when asked
		// for, comes by the history import (history.go).
		if err := c.startAtEnd(ctx, cl, mb, sel); err != nil {
			return err
		}
	}
	idle := cl.Caps().Has(imap.CapIdle)
	for ctx.Err() == nil {
		if mb, err = c.desk.DB().Mailbox(ctx, id); err != nil {
			return err
		}
		if err := c.importNew(ctx, cl, mb, uidValidity); err != nil {
			return err
		}
		c.desk.RecordPoll(ctx, id, nil, 0)
		wait := time.Duration(mb.PollSeconds) * time.Second
		if idle {
			// NOOP first: servers that queue news for the next command (rather
			// than at IDLE's start) tell of mail that came during the import.
			// IDLE is left at each poll interval to look again anyway, in
			// case news arrived in the instant between the two.
			if err := cl.Noop().Wait(); err != nil {
				return fmt.Errorf("noop: %w", err)
			}
			err := idleFor(ctx, cl, newMail, wait)
			var refused *imap.Error
			if errors.As(err, &refused) {
				// The server says it has IDLE but refuses it: poll instead.
				c.log.Warn("email: IDLE refused, polling instead", "mailbox", id, "err", err)
				idle = false
			} else if err != nil {
				return fmt.Errorf("idle: %w", err)
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		if ctx.Err() == nil {
			if err := cl.Noop().Wait(); err != nil {
				return fmt.Errorf("noop: %w", err)
			}
		}
	}
	return nil
}

// startAtEnd sets a new mailbox's cursor at the folder's last message
// (UIDNEXT-1), so that only mail arriving later is read as new.
func (c *Channel) startAtEnd(ctx context.Context, cl *imapclient.Client, mb *store.Mailbox, sel *imap.SelectData) error {
	next := sel.UIDNext
	if next == 0 {
		// Not in the SELECT answer (IMAP4rev2 servers may leave it out).
		st, err := cl.Status(mb.IMAPFolder, &imap.StatusOptions{UIDNext: true}).Wait()
		if err != nil {
			return &folderError{mb.IMAPFolder, err}
		}
		next = st.UIDNext
	}
	last := uint32(max(next, 1) - 1)
	c.log.Info("email: new mailbox starts at the folder's end", "mailbox", mb.ID, "uid", last, "start_from", mb.StartFrom)
	return c.desk.AdvanceCursor(ctx, mb.ID, desk.Cursor{UIDValidity: sel.UIDValidity, UID: last})
}

// idleFor waits in IDLE until new mail, the timeout or ctx.
func idleFor(ctx context.Context, cl *imapclient.Client, newMail <-chan struct{}, timeout time.Duration) error {
	cmd, err := cl.Idle()
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-newMail:
	case <-time.After(timeout):
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	return cmd.Wait()
}

// importNew fetches every message after the cursor, oldest first, and
// commits each with the cursor moved past it. Sizes come first, so that
// a batch stays small in memory and mail over the limit is fetched as its
// header only. (A FETCH of "last+1:*" rather than a SEARCH: servers that
// answer SEARCH or ESEARCH badly all fetch.)
func (c *Channel) importNew(ctx context.Context, cl *imapclient.Client, mb *store.Mailbox, uidValidity uint32) error {
	last := imap.UID(mb.LastUID)
	if mb.UIDValidity != uidValidity {
		// The folder was rebuilt: its UIDs mean something else now. Read it
		// all again; Message-IDs keep what is already stored from coming twice.
		last = 0
	}
	set := imap.UIDSet{imap.UIDRange{Start: last + 1, Stop: 0}}
	found, err := cl.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("list new mail: %w", err)
	}
	var news []*imapclient.FetchMessageBuffer
	for _, m := range found {
		if m.UID > last { // "n:*" always matches the newest message
			news = append(news, m)
		}
	}
	return c.importList(ctx, cl, mb, target{uidValidity: uidValidity}, news)
}

// target is where imported mail goes: live mail moves the mailbox's
// cursor and is marked or moved as the mailbox says; history (hist set)
// moves its folder's own cursor, leaves the server's mail as it is, and
// passes over mail older than since.
type target struct {
	uidValidity uint32
	hist        *store.HistoryFolder
	since       time.Time
	agents      map[string]bool // the agents' addresses: never a customer of our sent mail
}

// importList imports the messages listed (UID and size known), oldest
// first, in batches bounded in count and bytes.
func (c *Channel) importList(ctx context.Context, cl *imapclient.Client, mb *store.Mailbox, tg target, news []*imapclient.FetchMessageBuffer) error {
	slices.SortFunc(news, func(a, b *imapclient.FetchMessageBuffer) int { return cmp.Compare(a.UID, b.UID) })
	mailboxes, err := c.desk.DB().Mailboxes(ctx)
	if err != nil {
		return err
	}
	limit := int64(mb.MaxMessageMB) << 20
	full := &imap.FetchItemBodySection{Peek: true}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	var batch []imap.UID
	var batchBytes int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		started := time.Now()
		msgs, err := cl.Fetch(imap.UIDSetNum(batch...), &imap.FetchOptions{
			UID: true, RFC822Size: true, Envelope: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{full},
		}).Collect()
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return cmp.Compare(a.UID, b.UID) })
		for _, m := range msgs {
			if err := c.importOne(ctx, mb, mailboxes, tg, m, m.FindBodySection(full), i18n.Sentence{}); err != nil {
				return err
			}
		}
		if err := c.afterImport(cl, mb, tg, batch); err != nil {
			return err
		}
		batch, batchBytes = batch[:0], 0
		return c.historyBreak(ctx, mb.ID, tg, time.Since(started))
	}
	// alone imports one message by itself, after what is batched so far.
	alone := func(uid imap.UID, importIt func() error) error {
		if err := flush(); err != nil {
			return err
		}
		started := time.Now()
		if err := importIt(); err != nil {
			return err
		}
		if err := c.afterImport(cl, mb, tg, []imap.UID{uid}); err != nil {
			return err
		}
		return c.historyBreak(ctx, mb.ID, tg, time.Since(started))
	}
	for _, m := range news {
		var err error
		switch {
		case m.RFC822Size > limit:
			err = alone(m.UID, func() error { return c.importHeader(ctx, cl, mb, mailboxes, tg, m.UID, header) })
		case m.RFC822Size > memPart:
			// Large mail is fetched alone, straight to a file, and parsed
			// from there: memory stays flat whatever its size.
			err = alone(m.UID, func() error { return c.importLarge(ctx, cl, mb, mailboxes, tg, m.UID) })
		default:
			if len(batch) > 0 && (len(batch) == fetchBatch || batchBytes+m.RFC822Size > maxBatchBytes) {
				err = flush()
			}
			batch = append(batch, m.UID)
			batchBytes += m.RFC822Size
		}
		if err != nil {
			return err
		}
	}
	return flush()
}

// importHeader imports a message over the mailbox's size limit from its
// header alone, with a note of what stayed on the server.
func (c *Channel) importHeader(ctx context.Context, cl *imapclient.Client, mb *store.Mailbox, mailboxes []*store.Mailbox,
	tg target, uid imap.UID, header *imap.FetchItemBodySection) error {
	msgs, err := cl.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
		UID: true, RFC822Size: true, Envelope: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{header},
	}).Collect()
	if err != nil {
		return fmt.Errorf("fetch header: %w", err)
	}
	for _, h := range msgs {
		dropped := i18n.S("The message was %s, over this mailbox's limit of %d MB: only its header was imported; the full message is still on the mail server.",
			sizeText(h.RFC822Size), mb.MaxMessageMB)
		if err := c.importOne(ctx, mb, mailboxes, tg, h, h.FindBodySection(header), dropped); err != nil {
			return err
		}
	}
	return nil
}

// maxBatchBytes keeps one fetch's messages to a bounded amount of memory.
const maxBatchBytes = 8 << 20

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}

// importLarge fetches one message into a temporary folder, parses it
// from there (large attachments spooled to files beside it) and imports
// it. The folder goes with the message: removed when it is stored, and
// by the next start when the process died meanwhile (spool.go).
func (c *Channel) importLarge(ctx context.Context, cl *imapclient.Client, mb *store.Mailbox, mailboxes []*store.Mailbox,
	tg target, uid imap.UID) error {
	dir, release, err := newSpool()
	if err != nil {
		return &uidError{uint32(uid), fmt.Errorf("import uid %d: %w", uid, err)}
	}
	defer release()
	f, err := os.Create(filepath.Join(dir, "message.eml"))
	if err != nil {
		return &uidError{uint32(uid), fmt.Errorf("import uid %d: %w", uid, err)}
	}
	defer f.Close()
	cmd := cl.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
		UID: true, RFC822Size: true, Envelope: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	m := &imapclient.FetchMessageBuffer{}
	got := false
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				m.UID = it.UID
			case imapclient.FetchItemDataRFC822Size:
				m.RFC822Size = it.Size
			case imapclient.FetchItemDataEnvelope:
				m.Envelope = it.Envelope
			case imapclient.FetchItemDataInternalDate:
				m.InternalDate = it.Time
			case imapclient.FetchItemDataBodySection:
				if it.Literal != nil && !got {
					if _, err := io.Copy(f, it.Literal); err != nil {
						cmd.Close()
						return fmt.Errorf("fetch uid %d: %w", uid, err)
					}
					got = true
				}
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("fetch uid %d: %w", uid, err)
	}
	if m.UID == 0 {
		return nil // gone from the folder since it was listed
	}
	open := func() (io.Reader, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return bufio.NewReader(stoppable{ctx, f}), nil
	}
	in, recipients, err := safely(func() (desk.Inbound, []string, error) { return parseSource(open, dir) })
	if ctx.Err() != nil {
		// The server is stopping: the parse was cut, and the message is
		// read again at the next start (its folder goes now).
		return fmt.Errorf("read uid %d: %w", uid, ctx.Err())
	}
	if err != nil {
		if notTheMessage(err) {
			return &uidError{uint32(uid), fmt.Errorf("read uid %d: %w", uid, err)}
		}
		in = unreadable(m, tg, err)
	}
	in.Mail.RawPath = f.Name()
	return c.importParsed(ctx, mb, mailboxes, tg, m, in, recipients, i18n.Sentence{})
}

func (c *Channel) importOne(ctx context.Context, mb *store.Mailbox, mailboxes []*store.Mailbox, tg target,
	m *imapclient.FetchMessageBuffer, raw []byte, dropped i18n.Sentence) error {
	in, recipients, err := safely(func() (desk.Inbound, []string, error) { return parse(raw) })
	if err != nil {
		if notTheMessage(err) {
			return &uidError{uint32(m.UID), fmt.Errorf("read uid %d: %w", m.UID, err)}
		}
		in = unreadable(m, tg, err)
	}
	in.Mail.Raw = raw
	return c.importParsed(ctx, mb, mailboxes, tg, m, in, recipients, dropped)
}

// stoppable reads r until ctx ends: a stop cuts the parse of a large
// message rather than waiting for it.
type stoppable struct {
	ctx context.Context
	r   io.Reader
}

func (s stoppable) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	return s.r.Read(p)
}

// safely runs a parse, turning a panic on hostile mail into an error:
// the message is stored unread rather than the server brought down.
func safely(parse func() (desk.Inbound, []string, error)) (in desk.Inbound, recipients []string, err error) {
	defer func() {
		if v := recover(); v != nil {
			in, recipients, err = desk.Inbound{}, nil, fmt.Errorf("the parser failed on it: %v", v)
		}
	}()
	return parse()
}

// uidError is a failure while importing one message (of ours, never the
// message's: those are stored anyway). The mailbox's status counts the
// polls in a row that fail at the same UID.
type uidError struct {
	uid uint32
	err error
}

func (e *uidError) Error() string { return e.err.Error() }
func (e *uidError) Unwrap() error { return e.err }

// failedUID is the message a poll failed at, 0 when not at a message.
func failedUID(err error) uint32 {
	var ue *uidError
	if errors.As(err, &ue) {
		return ue.uid
	}
	return 0
}

// notTheMessage tells a parse failure that is ours (the disk, a spool
// file that cannot be read, a stop) from a message that cannot be read.
// Ours are retried and skip nothing; the message's are stored anyway.
func notTheMessage(err error) bool {
	var pathErr *fs.PathError
	return errors.As(err, &pathErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EIO)
}

func (c *Channel) importParsed(ctx context.Context, mb *store.Mailbox, mailboxes []*store.Mailbox, tg target,
	m *imapclient.FetchMessageBuffer, in desk.Inbound, recipients []string, dropped i18n.Sentence) error {
	// A message fetched is stored even when the server is stopping (the
	// stop waits for it): only database work is left.
	ctx = context.WithoutCancel(ctx)
	cursor := desk.Cursor{UIDValidity: tg.uidValidity, UID: uint32(m.UID)}
	if in.From.Value == "" {
		// The message names no sender the parser could read: the server's
		// envelope may still have one.
		in.From = store.Identity{Kind: "email", Value: envelopeSender(m)}
	}
	if tg.hist != nil {
		var skip bool
		if in, skip = historic(in, tg, m, mb, mailboxes); skip {
			return c.desk.DB().SetHistoryCursor(ctx, mb.ID, tg.hist.Folder, tg.uidValidity, uint32(m.UID))
		}
		in.Mail.HistoryFolder = tg.hist.Folder
	} else if in.From.Value != "" && ourAddress(mailboxes, in.From.Value) {
		// Our own mail (a reply copied to the inbox, a loop): never a ticket.
		return c.desk.AdvanceCursor(ctx, mb.ID, cursor)
	}
	in.Mail.MailboxID, in.Mail.Cursor, in.StoreID = mb.ID, &cursor, mb.StoreID
	if in.From.Value == "" {
		in.From, in.Name = unknownSender(mb), ""
		if len(in.Partial) == 0 {
			in.Partial = in.Partial.Add(i18n.S("No sender address could be read."))
		}
		in.Partial = in.Partial.Add(i18n.S("The message is filed under the mailbox's unknown sender, and replies cannot be sent."))
	}
	if in.Subject == "" && m.Envelope != nil {
		in.Subject = m.Envelope.Subject // the server read one where the parser could not
	}
	if !dropped.IsZero() {
		// Said in the notes, not the text: the text stays the customer's.
		in.Partial = in.Partial.Add(dropped)
		in.Mail.Raw = nil
	}
	if strings.TrimSpace(in.Text) == "" && strings.TrimSpace(in.HTML) == "" && len(in.Attachments) == 0 && len(in.Partial) == 0 {
		// A message of a subject alone is a message all the same. (With
		// notes, the notes say what became of its text.)
		in.Text = desk.NoTextBody
	}
	// Our addresses among the recipients are us, not participants; a
	// plus-address of ours may name the ticket this answers.
	cc := in.CC[:0]
	for _, p := range in.CC {
		if !ourAddress(mailboxes, p.Identity.Value) {
			cc = append(cc, p)
		}
	}
	in.CC = cc
	for _, r := range recipients {
		for _, our := range mailboxes {
			if id := c.desk.TicketOfReplyAddress(ctx, our.Address, r); id != 0 {
				in.TicketID = id
			}
		}
	}
	if mb.AutoAck && !in.Historic {
		in.AckText = mb.AutoAckText
	}
	_, err := c.desk.Ingest(ctx, in)
	// Mail the desk cannot take as it is still becomes a ticket message:
	// first mended (sender, lengths, text), then, should that not do,
	// as a bare note with the source. Nothing about one message may stop
	// the mail after it.
	for attempt := 1; attempt <= 2; attempt++ {
		ie, ok := desk.IsInput(err)
		if !ok {
			break
		}
		c.log.Warn("email: message stored as partly read", "mailbox", mb.ID, "uid", m.UID, "err", ie, "attempt", attempt)
		if attempt == 1 {
			in = mended(in, ie, m, mb)
		} else {
			in = bare(in, ie, m, mb)
		}
		_, err = c.desk.Ingest(ctx, in)
	}
	if err != nil {
		return &uidError{uint32(m.UID), fmt.Errorf("import uid %d: %w", m.UID, err)}
	}
	return nil
}

// unknownSender is the identity mail without any usable sender address
// is stored under: one per mailbox, so such mail is found together (on
// one customer) and never mixed with a real person's. The .invalid
// domain cannot receive mail, and Send says so rather than trying. The
// customer has no name: the app names this address "Unknown sender" in
// each agent's language (assets/app/people.js).
func unknownSender(mb *store.Mailbox) store.Identity {
	return store.Identity{Kind: "email", Value: fmt.Sprintf("unknown-sender.%d@onedesk.invalid", mb.ID)}
}

// mended is a message the desk refused (ie), with what it refused made
// acceptable: a sender that cannot be answered is replaced by the
// envelope's or the unknown sender, and text that is too long or not
// UTF-8 is cut or cleaned. Why is noted on the message.
func mended(in desk.Inbound, ie *desk.InputError, m *imapclient.FetchMessageBuffer, mb *store.Mailbox) desk.Inbound {
	note := i18n.S("The desk refused the message as it was (%s), so it was stored mended.", refusal(ie))
	if _, err := desk.NormalizeIdentity("email", in.From.Value); err != nil {
		if env := envelopeSender(m); env != "" && !strings.EqualFold(env, in.From.Value) {
			note = i18n.S("The sender's address %s is not an email address; the address the mail server read from it is used.", in.From.Value)
			in.From = store.Identity{Kind: "email", Value: env}
		} else {
			note = i18n.S("The sender's address %s is not an email address; the message is filed under the mailbox's unknown sender, and replies cannot be sent.", in.From.Value)
			in.From, in.Name = unknownSender(mb), ""
		}
	}
	in.Partial = in.Partial.Add(note)
	var ids []store.Identity
	for _, id := range in.Identities {
		if _, err := desk.NormalizeIdentity(id.Kind, id.Value); err == nil {
			ids = append(ids, id)
		}
	}
	in.Identities = ids
	in.Subject = cutRunes(strings.ToValidUTF8(in.Subject, "\uFFFD"), desk.MaxSubject)
	in.Text = cutBytes(strings.ToValidUTF8(in.Text, "\uFFFD"), desk.MaxBody)
	if len(in.HTML) > 4*desk.MaxBody {
		in.HTML = ""
	}
	if strings.TrimSpace(in.Text) == "" && strings.TrimSpace(in.HTML) == "" && len(in.Attachments) == 0 {
		in.Text = "" // the notes stand in for it
		in.Partial = in.Partial.Add(i18n.S("The message had no readable text; its source is kept."))
	}
	if ie.Field == "store_id" {
		in.StoreID = nil // the mailbox's store is gone: the message is not to blame
	}
	return in
}

// bare is the last resort for a message the desk refused even mended:
// the sender (or the unknown sender), the subject and a note, with the
// raw source kept, so that an agent can still read it.
func bare(in desk.Inbound, ie *desk.InputError, m *imapclient.FetchMessageBuffer, mb *store.Mailbox) desk.Inbound {
	from := in.From
	if _, err := desk.NormalizeIdentity("email", from.Value); err != nil {
		from = unknownSender(mb)
	}
	return desk.Inbound{Channel: "email", From: from, Name: in.Name, Subject: in.Subject,
		ExternalID: in.ExternalID, Auto: in.Auto, Historic: in.Historic, Date: in.Date, SentBy: in.SentBy,
		Mail: desk.MailSource{MailboxID: in.Mail.MailboxID, Cursor: in.Mail.Cursor, HistoryFolder: in.Mail.HistoryFolder,
			Raw: in.Mail.Raw, RawPath: in.Mail.RawPath},
		Partial: in.Partial.Add(i18n.S("The desk refused the message (%s), so only its subject and source were kept.", refusal(ie)))}
}

// refusal is why the desk refused a message, as a sentence when the desk
// said it as one (so it is translated with the note around it).
func refusal(ie *desk.InputError) any {
	if ie.Sentence.IsZero() {
		return ie.Message
	}
	return ie.Sentence
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// cutBytes cuts s to at most n bytes, at a character boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// unreadable is what we know of a message that cannot be parsed: the
// envelope's details; its raw source is kept beside it.
func unreadable(m *imapclient.FetchMessageBuffer, tg target, why error) desk.Inbound {
	in := desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: envelopeSender(m)},
		Partial: i18n.Sentences{i18n.S("The message could not be read (%s); its source is kept.", why)}}
	if m.Envelope != nil {
		in.Subject, in.ExternalID = m.Envelope.Subject, m.Envelope.MessageID
	}
	if in.ExternalID == "" {
		// With the folder's UIDVALIDITY: a rebuilt folder reuses UIDs for
		// other messages, which must not be taken for this one.
		in.ExternalID = fmt.Sprintf("uid-%d-%d@onedesk.invalid", tg.uidValidity, m.UID)
		if tg.hist != nil && tg.hist.Role == roleSent {
			// Another folder's UIDs: the Sent folder's own id space.
			in.ExternalID = fmt.Sprintf("uid-%d-%d.sent@onedesk.invalid", tg.uidValidity, m.UID)
		}
	}
	return in
}

// envelopeSender is the first usable address of the envelope the IMAP
// server parsed (From, Sender, Reply-To), "" when none is.
func envelopeSender(m *imapclient.FetchMessageBuffer) string {
	if m.Envelope == nil {
		return ""
	}
	for _, list := range [][]imap.Address{m.Envelope.From, m.Envelope.Sender, m.Envelope.ReplyTo} {
		for _, a := range list {
			if a.Mailbox == "" || a.Host == "" {
				continue
			}
			if id, err := desk.NormalizeIdentity("email", a.Mailbox+"@"+a.Host); err == nil {
				return id.Value
			}
		}
	}
	return ""
}

// afterImport marks or moves what was imported, as the mailbox says.
// History is read, never changed.
func (c *Channel) afterImport(cl *imapclient.Client, mb *store.Mailbox, tg target, uids []imap.UID) error {
	if tg.hist != nil {
		return nil
	}
	set := imap.UIDSetNum(uids...)
	switch mb.AfterImport {
	case "seen":
		if err := cl.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
	case "move":
		if _, err := cl.Move(set, mb.MoveTo).Wait(); err != nil {
			return &folderError{mb.MoveTo, err}
		}
	}
	return nil
}

// Explain turns a connection error into words an admin can act on.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var login *loginError
	var folder *folderError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var proto *protocolError
	switch {
	case errors.Is(err, netguard.ErrForbidden):
		return netguard.ErrForbidden
	case errors.As(err, &proto):
		// What answered is not repeated: the mailbox test must not be a
		// way to read what some other service says.
		return i18n.Errorf("%s did not answer as an %s server: check the host, port and security setting", proto.addr, proto.protocol)
	case errors.As(err, &login):
		return i18n.Errorf("the server refused the user name or password (%v)", login.err)
	case errors.As(err, &folder):
		return i18n.Errorf("the folder %q is missing or cannot be opened (%v)", folder.folder, folder.err)
	case errors.As(err, &dnsErr):
		return i18n.Errorf("the host %s was not found: check the server name", dnsErr.Name)
	case errors.As(err, &certErr):
		return i18n.Errorf("TLS failed: the server's certificate is not valid for this host (%v)", certErr.Err)
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "tls:"):
		return i18n.Errorf("TLS failed: check the port and security setting (%v)", err)
	case errors.As(err, &opErr) && strings.Contains(err.Error(), "connection refused"):
		return i18n.Errorf("the server refused the connection: check the host and port (%v)", err)
	case errors.As(err, &opErr) && opErr.Timeout():
		return i18n.Errorf("the server did not answer in time: check the host, port and firewall (%v)", err)
	}
	return err
}

// Test logs in to a mailbox's IMAP server (opening its folder and the
// move-to folder) and to its SMTP server (no mail is sent), and says in
// plain words which one failed and why.
func Test(ctx context.Context, mb *store.Mailbox, oauth ...*oauthLogin) error {
	var errs []error
	if err := testIMAP(ctx, mb, oauth...); err != nil {
		errs = append(errs, &TestError{Field: "imap_host", Err: i18n.Errorf("receiving (IMAP %s): %w", mb.IMAPHost, err)})
	}
	if err := testSMTP(ctx, mb, oauth...); err != nil {
		errs = append(errs, &TestError{Field: "smtp_host", Err: i18n.Errorf("sending (SMTP %s): %w", mb.SMTPHost, err)})
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &TestError{Field: "imap_host", Err: i18n.Errorf("%w\n%w", errs[0], errs[1])} // as errors.Join writes them
}

// TestError is a mailbox test that failed, with the settings field that
// names the server at fault (imap_host or smtp_host).
type TestError struct {
	Field string
	Err   error
}

func (e *TestError) Error() string { return e.Err.Error() }
func (e *TestError) Unwrap() error { return e.Err }

// TestField names the settings field of the server at fault, for the app.
func (e *TestError) TestField() string { return e.Field }

func testIMAP(ctx context.Context, mb *store.Mailbox, oauth ...*oauthLogin) error {
	cl, err := dialIMAP(mb, nil, oauth...)
	if err != nil {
		return Explain(err)
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	if _, err := cl.Select(mb.IMAPFolder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return Explain(&folderError{mb.IMAPFolder, err})
	}
	if mb.AfterImport == "move" {
		if _, err := cl.Status(mb.MoveTo, &imap.StatusOptions{NumMessages: true}).Wait(); err != nil {
			return Explain(&folderError{mb.MoveTo, err})
		}
	}
	if err := cl.Logout().Wait(); err != nil {
		return Explain(err)
	}
	return nil
}
