package metrics

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestWriteParses(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	c := NewCounterVec("channel")
	c.Inc("email")
	c.Add(2, "chat")
	c.Inc(`we"ird\chan` + "\nnel")
	c.Write(w, "x_ingested_total", "Messages taken in.\nBy channel.")
	h := NewHistogramVec([]float64{0.01, 0.1, 1}, "group")
	for _, v := range []float64{0.005, 0.01, 0.05, 0.5, 3} {
		h.Observe(v, "api")
	}
	h.Observe(0.2, "app")
	h.Write(w, "x_duration_seconds", "Latency.")
	w.Gauge("x_up", "Up.", 1)
	w.Gauge("x_inf", "Infinite.", math.Inf(1), "a", "b")
	NewCounterVec("none").Write(w, "x_empty_total", "Nothing yet.")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(&buf)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	want := map[string]float64{
		`x_ingested_total{channel="email"}`:                1,
		`x_ingested_total{channel="chat"}`:                 2,
		`x_ingested_total{channel="we\"ird\\chan\nnel"}`:   1,
		`x_duration_seconds_bucket{group="api",le="0.01"}`: 2,
		`x_duration_seconds_bucket{group="api",le="0.1"}`:  3,
		`x_duration_seconds_bucket{group="api",le="1"}`:    4,
		`x_duration_seconds_bucket{group="api",le="+Inf"}`: 5,
		`x_duration_seconds_count{group="api"}`:            5,
		`x_duration_seconds_sum{group="api"}`:              3.565,
		`x_duration_seconds_bucket{group="app",le="0.1"}`:  0,
		`x_duration_seconds_bucket{group="app",le="1"}`:    1,
		`x_up`:         1,
		`x_inf{a="b"}`: math.Inf(1),
	}
	for k, v := range want {
		if got[k] != v && !(math.Abs(got[k]-v) < 1e-9) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestParseRefusesBadText(t *testing.T) {
	for _, text := range []string{
		"x 1\n# TYPE x counter\n",            // TYPE after the samples
		"# TYPE x counter\n# TYPE x gauge\n", // twice
		"x{a=\"1\" 1\n",                      // unclosed
		"x{a=1} 1\n",                         // unquoted
		"x{a=\"\\q\"} 1\n",                   // bad escape
		"x one\n",                            // bad value
		"1x 1\n",                             // bad name
		"x 1\ny 1\nx{a=\"b\"} 2\n",           // family split
		"x 1\nx 2\n",                         // series twice
		"x{a=\"1\"}1\n",                      // no space
	} {
		if _, err := Parse(strings.NewReader(text)); err == nil {
			t.Errorf("accepted %q", text)
		}
	}
}
