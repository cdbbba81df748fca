// Package httperr is the one shape of an HTTP error answer on every route
// of the port: the API (Fiber), the agent websocket's refusals and the
// channels' own handlers (chat, forms, the social webhooks) all answer
// {"error": "a sentence", "field": "the part at fault"}, field omitted
// when no one part is.
package httperr

import (
	"encoding/json"
	"net/http"
)

// Body is an error answer.
type Body struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// JSON is the answer's bytes.
func JSON(msg, field string) []byte {
	b, err := json.Marshal(Body{Error: msg, Field: field})
	if err != nil { // a string field cannot fail to encode; keep an answer anyway
		return []byte(`{"error":"error"}`)
	}
	return b
}

// Write answers with status and the error: JSON, never cached, never
// sniffed as anything else.
func Write(w http.ResponseWriter, status int, msg, field string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(JSON(msg, field))
}
