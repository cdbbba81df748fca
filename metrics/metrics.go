// Package metrics counts what onedesk does and writes it in Prometheus'
// text exposition format (version 0.0.4), by hand: counters and
// histograms kept in memory by whoever counts, gauges read when scraped.
package metrics

import (
	"bufio"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Writer writes metric families. Each family (name) is written once,
// with all its samples together.
type Writer struct {
	w    *bufio.Writer
	seen map[string]bool
}

// NewWriter writes to w; call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriter(w), seen: map[string]bool{}}
}

// Flush writes what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

// Labels are label names and values in pairs: "channel", "email", ...
type Labels []string

func (w *Writer) header(name, help, typ string) {
	if w.seen[name] {
		return
	}
	w.seen[name] = true
	w.w.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n# TYPE " + name + " " + typ + "\n")
}

func (w *Writer) sample(name string, labels Labels, v float64) {
	w.w.WriteString(name)
	if len(labels) > 0 {
		w.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.w.WriteByte(',')
			}
			w.w.WriteString(labels[i] + `="` + escapeValue(labels[i+1]) + `"`)
		}
		w.w.WriteByte('}')
	}
	w.w.WriteString(" " + formatValue(v) + "\n")
}

// Gauge writes one sample of a gauge (call again for more label sets,
// before any other family).
func (w *Writer) Gauge(name, help string, v float64, labels ...string) {
	w.header(name, help, "gauge")
	w.sample(name, labels, v)
}

// Counter writes one sample of a counter.
func (w *Writer) Counter(name, help string, v float64, labels ...string) {
	w.header(name, help, "counter")
	w.sample(name, labels, v)
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeValue(s string) string { return valueEscaper.Replace(s) }

// key joins label values into a map key.
func key(values []string) string { return strings.Join(values, "\x00") }

// CounterVec is a counter per set of label values.
type CounterVec struct {
	labels []string
	mu     sync.Mutex
	m      map[string]float64
}

// NewCounterVec counts per the named labels.
func NewCounterVec(labels ...string) *CounterVec {
	return &CounterVec{labels: labels, m: map[string]float64{}}
}

// Inc adds one for the label values (one per label, in order).
func (c *CounterVec) Inc(values ...string) { c.Add(1, values...) }

// Add adds n for the label values.
func (c *CounterVec) Add(n float64, values ...string) {
	c.mu.Lock()
	c.m[key(values)] += n
	c.mu.Unlock()
}

// Value is the count for the label values.
func (c *CounterVec) Value(values ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key(values)]
}

// Write writes every series, sorted by label values; a counter with no
// series yet writes its header alone.
func (c *CounterVec) Write(w *Writer, name, help string) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vals := make([]float64, len(keys))
	for i, k := range keys {
		vals[i] = c.m[k]
	}
	c.mu.Unlock()
	w.header(name, help, "counter")
	for i, k := range keys {
		w.sample(name, pairs(c.labels, k), vals[i])
	}
}

func pairs(names []string, k string) Labels {
	values := strings.Split(k, "\x00")
	l := make(Labels, 0, 2*len(names))
	for i, n := range names {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		l = append(l, n, v)
	}
	return l
}

// DefBuckets are latency buckets in seconds, from 1 ms to 10 s.
var DefBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// HistogramVec is a histogram per set of label values.
type HistogramVec struct {
	labels  []string
	buckets []float64 // upper bounds, ascending
	mu      sync.Mutex
	m       map[string]*histogram
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

// NewHistogramVec makes a histogram with these bucket bounds per set of
// values of the named labels.
func NewHistogramVec(buckets []float64, labels ...string) *HistogramVec {
	return &HistogramVec{labels: labels, buckets: buckets, m: map[string]*histogram{}}
}

// Observe records v for the label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	i, _ := slices.BinarySearch(h.buckets, v) // the first bound >= v
	k := key(values)
	h.mu.Lock()
	x := h.m[k]
	if x == nil {
		x = &histogram{counts: make([]uint64, len(h.buckets)+1)}
		h.m[k] = x
	}
	x.counts[i]++
	x.sum += v
	x.n++
	h.mu.Unlock()
}

// Write writes the _bucket, _sum and _count series of every label set.
func (h *HistogramVec) Write(w *Writer, name, help string) {
	h.mu.Lock()
	keys := make([]string, 0, len(h.m))
	for k := range h.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	snap := make([]histogram, len(keys))
	for i, k := range keys {
		x := h.m[k]
		snap[i] = histogram{counts: slices.Clone(x.counts), sum: x.sum, n: x.n}
	}
	h.mu.Unlock()
	w.header(name, help, "histogram")
	for i, k := range keys {
		labels := pairs(h.labels, k)
		var cum uint64
		for j, c := range snap[i].counts {
			cum += c
			le := math.Inf(1)
			if j < len(h.buckets) {
				le = h.buckets[j]
			}
			w.sample(name+"_bucket", append(slices.Clone(labels), "le", formatValue(le)), float64(cum))
		}
		w.sample(name+"_sum", labels, snap[i].sum)
		w.sample(name+"_count", labels, float64(snap[i].n))
	}
}
