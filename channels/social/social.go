// Package social is what the social channels (Telegram, WhatsApp, Meta)
// share: the worker that turns their queued webhook deliveries into
// messages, waiting out a platform's 429s, multipart uploads, size-capped
// downloads, the JSON errors their webhooks answer with, their Options and
// the test of a saved account (TestAccount).
package social

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/httperr"
	"onedesk/store"
)

// Inbox works off a platform's webhook deliveries queued by
// desk.QueueSocialUpdate (committed before the platform got its 200): in
// batches, by Lanes goroutines, each conversation's deliveries in one
// lane and in order, conversations side by side. A failing delivery is
// retried with the outbox's backoff.
type Inbox struct {
	Desk     *desk.Desk
	Log      *slog.Logger
	Platform string
	// Lane names the conversation a delivery belongs to ("" for none).
	Lane func(payload []byte) string
	// HandleQueued commits one queued delivery of an account (each
	// channel's handleQueued). An *desk.InputError is logged and dropped
	// (retrying would not change it).
	HandleQueued func(ctx context.Context, a *store.SocialAccount, payload []byte) error

	once sync.Once
	wake chan struct{}
}

// Queued deliveries are worked off in batches of inboxBatch, by
// inboxLanes goroutines.
const (
	inboxBatch = 256
	inboxLanes = 4
)

func (in *Inbox) init() { in.once.Do(func() { in.wake = make(chan struct{}, 1) }) }

// Wake makes the worker look at the queue now (a delivery was queued),
// on whichever node runs it.
func (in *Inbox) Wake() {
	in.init()
	if in.Desk != nil {
		in.Desk.AnnounceQueued(in.Platform)
	}
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// Run works off queued deliveries until ctx ends.
func (in *Inbox) Run(ctx context.Context) {
	in.init()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-in.wake:
		case <-in.Desk.QueuedElsewhere(in.Platform):
		}
		list, err := in.Desk.DB().DueSocialUpdates(ctx, in.Platform, store.Now(), inboxBatch)
		if err != nil {
			in.Log.Error(in.Platform+": queued deliveries", "err", err)
		}
		outcomes := in.work(ctx, list)
		if ctx.Err() != nil {
			return // shutting down: what was not recorded stays queued
		}
		if err := in.Desk.FinishSocialUpdates(ctx, list, outcomes); err != nil {
			in.Log.Error(in.Platform+": record queued deliveries", "err", err)
		}
		wait := time.Minute
		if len(list) == inboxBatch {
			wait = 0
		} else if next, err := in.Desk.DB().NextSocialUpdateAt(ctx); err == nil && !next.IsZero() {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		timer.Reset(wait)
	}
}

// work handles a batch in lanes by conversation and returns each
// delivery's outcome.
func (in *Inbox) work(ctx context.Context, list []store.SocialUpdate) []error {
	outcomes := make([]error, len(list))
	lanes := make([][]int, inboxLanes)
	accounts := map[int64]*store.SocialAccount{}
	unread := map[int64]error{} // accounts that could not be read now
	for i, q := range list {
		h := fnv.New32a()
		h.Write([]byte(in.Lane(q.Payload)))
		lane := int(h.Sum32() % inboxLanes)
		lanes[lane] = append(lanes[lane], i)
		if _, ok := accounts[q.AccountID]; ok {
			continue
		}
		if _, ok := unread[q.AccountID]; ok {
			continue
		}
		a, err := in.Desk.DB().SocialAccount(ctx, q.AccountID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			in.Log.Info(in.Platform+": deliveries for a removed account dropped", "account", q.AccountID)
			accounts[q.AccountID] = nil // removed meanwhile (its queue goes with it)
		case err != nil:
			// Kept for the queue's next try: a message is never dropped
			// because the database could not answer this once.
			in.Log.Warn(in.Platform+": read the account of queued deliveries", "account", q.AccountID, "err", err)
			unread[q.AccountID] = err
		default:
			accounts[q.AccountID] = a
		}
	}
	for i, q := range list {
		if err, ok := unread[q.AccountID]; ok {
			outcomes[i] = fmt.Errorf("read account %d: %w", q.AccountID, err)
		}
	}
	var wg sync.WaitGroup
	for _, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range lane {
				a := accounts[list[i].AccountID]
				if a == nil || ctx.Err() != nil {
					continue
				}
				err := in.HandleQueued(ctx, a, list[i].Payload)
				if ie, ok := desk.IsInput(err); ok {
					in.Log.Warn(in.Platform+": message refused", "account", a.Handle, "key", list[i].Key, "err", ie.Message)
					err = nil
				} else if err != nil {
					in.Log.Warn(in.Platform+": queued delivery failed", "account", a.Handle, "key", list[i].Key, "err", err)
				}
				outcomes[i] = err
			}
		}()
	}
	wg.Wait()
	return outcomes
}

// Throttled is an error of a platform asking to slow down: Wait is how
// long (zero for any other refusal).
type Throttled interface {
	error
	Wait() time.Duration
}

// Retry calls try, waiting out up to two throttled answers in place when
// they ask for no more than maxWait; a longer wait is returned as the
// error, for the outbox or the inbox to retry later.
func Retry(ctx context.Context, maxWait time.Duration, try func() error) error {
	for n := 0; ; n++ {
		err := try()
		var th Throttled
		if !errors.As(err, &th) || th.Wait() <= 0 || n == 2 || th.Wait() > maxWait {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(th.Wait()):
		}
	}
}

// Multipart encodes fields and one file as multipart/form-data and
// returns the body and its Content-Type. contentType "" is
// application/octet-stream.
func Multipart(fields map[string]string, fileField, filename, contentType string, data []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			return nil, "", err
		}
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", multipart.FileContentDisposition(fileField, filename))
	h.Set("Content-Type", contentType)
	fw, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := fw.Write(data); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// ErrTooLarge refuses a download over the size taken.
var ErrTooLarge = errors.New("the file is larger than onedesk takes")

// Download fetches a file (GET req) within two minutes, refusing one over
// max bytes with ErrTooLarge. The error names what, never the URL (which
// may carry a token).
func Download(ctx context.Context, client *http.Client, req *http.Request, what string, max int64) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	resp, err := client.Do(req.WithContext(rctx))
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return nil, errors.New("download " + what + ": " + err.Error())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("download " + what + ": HTTP " + resp.Status)
	}
	if resp.ContentLength > max {
		return nil, ErrTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, errors.New("download " + what + ": " + err.Error())
	}
	if int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, nil
}

// FileName is a file name a platform gave, safe to keep: no folders, at
// most 200 characters, never empty.
func FileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	return name
}

// WriteError answers a webhook request with a status and {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	httperr.Write(w, status, msg, "")
}

// SplitText cuts a long reply into messages of at most limit UTF-16
// units (what Telegram counts; WhatsApp's characters are no fewer), at
// line ends or spaces where it can.
func SplitText(s string, limit int) []string {
	var parts []string
	for s != "" {
		n, units := 0, 0
		for i, r := range s {
			w := len(utf16.Encode([]rune{r}))
			if units+w > limit {
				break
			}
			units += w
			n = i + utf8.RuneLen(r)
		}
		if n < len(s) {
			if cut := strings.LastIndexAny(s[:n], "\n "); cut > n/2 {
				n = cut + 1
			}
		}
		if part := strings.TrimSpace(s[:n]); part != "" {
			parts = append(parts, part)
		}
		s = s[n:]
	}
	return parts
}

// TestAccount checks a saved account of platform p with the platform
// again (p's Check with nothing new): the social channels' part of
// desk.AccountSettings.
func TestAccount(ctx context.Context, d *desk.Desk, p desk.SocialPlatform, id int64) error {
	a, err := d.DB().SocialAccount(ctx, id)
	if err != nil {
		return err
	}
	if a.Platform != p.TicketChannel() {
		return &store.NotFoundError{Thing: "social account", ID: id}
	}
	_, err = p.Check(ctx, a, nil)
	return err
}
