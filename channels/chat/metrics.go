package chat

import "onedesk/metrics"

// Collect writes the chat's metrics for /metrics: the visitor websockets
// open now.
func (c *Channel) Collect(w *metrics.Writer) {
	c.mu.Lock()
	n := 0
	for _, set := range c.visitors {
		n += len(set)
	}
	c.mu.Unlock()
	w.Gauge("onedesk_visitor_websockets", "Chat widget websockets open.", float64(n))
}
