package assets

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"testing"
)

// TestWidgetSize: the chat widget stays under 20 KB gzipped (issue #27),
// counting widget.js and every part it may load later (widget/*.js), as
// if a shop used them all.
func TestWidgetSize(t *testing.T) {
	const budget = 20 << 10
	names, err := fs.Glob(Files, "widget/*.js")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, name := range append([]string{"widget.js"}, names...) {
		data, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(data)
		w.Close()
		t.Logf("%s: %d bytes, %d gzipped", name, len(data), buf.Len())
		total += buf.Len()
	}
	t.Logf("the widget with all its parts: %d bytes gzipped (budget %d)", total, budget)
	if total >= budget {
		t.Fatalf("the widget with all its parts is %d bytes gzipped, over the %d of issue #27", total, budget)
	}
}
