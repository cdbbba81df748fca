package ui

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// drainListener stops accepting without resetting anyone. Closing a
// listening socket resets the connections the kernel has accepted but the
// server has not yet taken (a client that sent its request gets
// "connection reset"). So a stop first turns new connections away at the
// socket (where the system allows: refuseNew), then takes and serves
// what is already queued, and closes only once the queue is empty. A
// client turned away sees its connection refused, or reaches the next
// server when it comes up within its SYN retry. Where the system tells
// how many connections are queued (queued), the socket closes the moment
// the queue is seen empty; elsewhere once it stayed empty for drainQuiet.
type drainListener struct {
	*net.TCPListener

	draining  atomic.Bool
	drained   chan struct{} // closed when the queue is empty and the socket closed
	closed    chan struct{} // closed by Close
	drainOnce sync.Once
	closeOnce sync.Once
}

// drainQuiet is how long the queue must stay empty to count as drained.
const drainQuiet = 20 * time.Millisecond

func newDrainListener(ln net.Listener) (net.Listener, *drainListener) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return ln, nil
	}
	d := &drainListener{TCPListener: tl, drained: make(chan struct{}), closed: make(chan struct{})}
	return d, d
}

// drain turns new connections away and waits until every queued one has
// been handed to the server (or the deadline).
func (l *drainListener) drain(deadline time.Time) {
	if l.draining.Swap(true) {
		<-l.drained
		return
	}
	refuseNew(l.TCPListener)
	l.TCPListener.SetDeadline(time.Now().Add(drainQuiet))
	select {
	case <-l.drained:
	case <-time.After(time.Until(deadline)):
		l.finish()
	}
}

func (l *drainListener) Accept() (net.Conn, error) {
	for {
		c, err := l.TCPListener.Accept()
		if !l.draining.Load() {
			return c, err
		}
		n, known := queued(l.TCPListener)
		if err == nil {
			if known && n == 0 {
				l.finish() // this was the last one: close before another comes
			} else {
				l.TCPListener.SetDeadline(time.Now().Add(drainQuiet))
			}
			return c, nil
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && known && n > 0 {
			l.TCPListener.SetDeadline(time.Now().Add(drainQuiet))
			continue
		}
		// The queue is empty (or the socket closed): close the socket, and
		// keep the server's accept loop here until it is told to stop.
		l.finish()
		<-l.closed
		return nil, net.ErrClosed
	}
}

func (l *drainListener) finish() {
	l.drainOnce.Do(func() {
		l.TCPListener.Close()
		close(l.drained)
	})
}

func (l *drainListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	if !l.draining.Load() {
		l.finish()
	}
	return nil
}
