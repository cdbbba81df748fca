package cli

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// shutdownTimeout is how long a stop may take, from the signal to the
// database closed: service managers wait longer (systemd's TimeoutStopSec
// is 20 s in our unit, Windows' about 20 s).
const shutdownTimeout = 10 * time.Second

// workers are the background loops of a running desk (pollers, outbox,
// sweeps...), each run with ctx and waited for by stop.
type workers struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool
}

func newWorkers() *workers {
	ctx, cancel := context.WithCancel(context.Background())
	return &workers{ctx: ctx, cancel: cancel, running: map[string]bool{}}
}

// Go runs f(ctx) as the worker name.
func (w *workers) Go(name string, f func(context.Context)) {
	w.mu.Lock()
	w.running[name] = true
	w.mu.Unlock()
	w.wg.Go(func() {
		defer func() {
			w.mu.Lock()
			delete(w.running, name)
			w.mu.Unlock()
		}()
		f(w.ctx)
	})
}

// stop ends the workers' context and waits for them until deadline; it
// logs those still running then, which are cut when the database closes.
func (w *workers) stop(deadline time.Time, log *slog.Logger) {
	w.cancel()
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		w.mu.Lock()
		var names []string
		for n := range w.running {
			names = append(names, n)
		}
		w.mu.Unlock()
		slices.Sort(names)
		log.Warn("shutdown: background work still running was cut", "workers", names)
	}
}
