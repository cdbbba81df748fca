package desk

import "context"

// Committed is the one subscription to what the desk commits, for the
// parts beside it (reports, webhooks): it calls f with each change the
// bus carries, on one goroutine and in order, until ctx ends. Those parts
// keep their own cursor over the store and read what is new from there,
// so a change is only a sign to look: when the subscription falls behind
// and is dropped, f gets a zero Change (something was missed) and the
// subscription starts again. f must not block.
func (d *Desk) Committed(ctx context.Context, f func(Change)) {
	for ctx.Err() == nil {
		ch, stop := d.bus.Subscribe(64)
		for open := true; open; {
			var c Change
			select {
			case <-ctx.Done():
				stop()
				return
			case c, open = <-ch:
			}
			f(c) // the zero Change when dropped
		}
		stop()
	}
}
