package email

import (
	"errors"
	"io"
	"time"
)

// Limits on the structure of one message. Past them the rest of the
// message is left out (the raw source is kept) and in.Partial says so:
// real mail stays far within them, hostile mail is cut short.
const (
	// MaxDepth is how deeply multiparts may nest (real mail: under 10).
	MaxDepth = 40
	// MaxParts is how many MIME parts of a message are read.
	MaxParts = 500
)

// parseBudget is the time one parse may take, plus parsePerMB for every
// megabyte read (so that a legitimately large attachment is not cut on a
// slow or busy machine). Ordinary mail parses in well under a
// millisecond, and the structural limits above already keep hostile mail
// under 0.1 s; the budget is the backstop for shapes nobody foresaw.
var (
	parseBudget = 500 * time.Millisecond
	parsePerMB  = 100 * time.Millisecond
)

// errTooComplex is what every read returns once the budget is spent.
var errTooComplex = errors.New("message too complex to parse in time")

// budgetReader reads the message source until the parse's time is up;
// after that every read fails, so every reader stacked on it (one per
// multipart level) stops at once. It also remembers a failure of the
// source itself, which is not the message's fault.
type budgetReader struct {
	r        io.Reader
	deadline time.Time
	read     int64
	timedOut bool
	err      error // the source's own failure
}

func newBudgetReader(r io.Reader) *budgetReader {
	return &budgetReader{r: r, deadline: time.Now().Add(parseBudget)}
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.timedOut || time.Now().After(b.deadline.Add(time.Duration(b.read>>20)*parsePerMB)) {
		b.timedOut = true
		return 0, errTooComplex
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}
