package httperr

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, 400, `the "email" is <empty>`, "email")
	var b Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Error != `the "email" is <empty>` || b.Field != "email" {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
	}
	if got := string(JSON("gone", "")); got != `{"error":"gone"}` {
		t.Fatalf("without a field: %s", got)
	}
}
