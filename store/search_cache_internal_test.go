package store

import (
	"fmt"
	"testing"
	"time"
)

// TestPgSearchCacheIsBounded: the PostgreSQL search's caches of folded
// words and known words keep at most their size, drop the least recently
// used first, and forget a known word after their memory.
func TestPgSearchCacheIsBounded(t *testing.T) {
	var c pgSearchCache
	c.initSized(100, time.Hour)
	for i := range 1000 {
		w := fmt.Sprintf("word%d", i)
		c.folded.Add(w, []pgWord{{parts: []string{w}}})
		c.words.Add(w, true)
		if i%10 == 0 {
			c.folded.Get("word0") // used all along: kept
			c.words.Get("word0")
		}
	}
	if n := c.folded.Len(); n > 100 {
		t.Fatalf("folded words kept: %d, want at most 100", n)
	}
	if n := c.words.Len(); n > 100 {
		t.Fatalf("known words kept: %d, want at most 100", n)
	}
	if _, ok := c.folded.Get("word0"); !ok {
		t.Fatal("the folded word used all along was dropped")
	}
	if !c.words.Contains("word0") || !c.words.Contains("word999") {
		t.Fatal("the known words used lately were dropped")
	}
	if c.words.Contains("word5") {
		t.Fatal("a known word not used since the start is still kept")
	}

	var short pgSearchCache
	short.initSized(100, 50*time.Millisecond)
	short.words.Add("refund", true)
	deadline := time.Now().Add(10 * time.Second)
	for short.words.Contains("refund") {
		if time.Now().After(deadline) {
			t.Fatal("a known word is still believed one past the cache's memory")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
