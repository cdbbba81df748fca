package chat

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"onedesk/greetings"
	"onedesk/store"
)

// maxBeacon is the most a greeting beacon may weigh: {"id": N, "event": "..."}.
const maxBeacon = 256

// widgetGreetings are the store's active greetings in the widget's
// language, for the config answer (nil: none, and the widget loads no
// greeting code).
func (c *Channel) widgetGreetings(r *http.Request, st *store.Store, lang string) []greetings.Widget {
	list, err := c.desk.DB().Greetings(r.Context(), st.ID)
	if err != nil {
		c.log.Error("chat: greetings", "store", st.ID, "err", err)
		return nil
	}
	return greetings.ForWidget(list, lang, st.Language)
}

// serveGreet counts what a widget did with a greeting: shown, opened or a
// chat started. Sent as text/plain (no CORS preflight) by navigator's
// sendBeacon or fetch; rate limited by address like every /chat/ request,
// and by greeting and address so that one page cannot inflate a count.
func (c *Channel) serveGreet(w http.ResponseWriter, r *http.Request, st *store.Store) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "use POST", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBeacon)
	var in struct {
		ID    int64  `json:"id"`
		Event string `json:"event"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "a greeting beacon is at most 256 bytes", "")
			return
		}
		writeError(w, http.StatusBadRequest, "the beacon is not valid JSON", "")
		return
	}
	switch in.Event {
	case store.GreetingShown, store.GreetingOpened, store.GreetingChat:
	default:
		writeError(w, http.StatusBadRequest, "event is shown, opened or chat", "event")
		return
	}
	ip := clientIP(r)
	if !c.greetLimit.Allow(ip + "/" + strconv.FormatInt(in.ID, 10) + "/" + in.Event) {
		writeError(w, http.StatusTooManyRequests, "too many beacons: slow down", "")
		return
	}
	ok, err := greetings.Count(r.Context(), c.desk.DB(), st, in.ID, in.Event)
	if err != nil {
		c.log.Error("chat: greeting count", "greeting", in.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "the count could not be saved", "")
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "the store has no such greeting", "id")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveAvatar answers /chat/avatar/{key}: an agent's picture, for the
// widget's header and replies. The key is random (a new one with each new
// picture), so the address names neither agent nor desk, and the answer
// carries nothing but the picture (re-encoded when uploaded: no metadata).
func (c *Channel) serveAvatar(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/chat/avatar/")
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		writeError(w, http.StatusNotFound, "not found", "")
		return
	}
	a, err := c.desk.DB().AgentAvatarByKey(r.Context(), key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.Error("chat: avatar", "err", err)
		}
		writeError(w, http.StatusNotFound, "not found", "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin") // shown on the shops' pages
	h.Set("Referrer-Policy", "no-referrer")
	// A key never changes its picture: cache for long.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Last-Modified", a.UpdatedAt.UTC().Format(time.RFC1123))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(a.Data)
	}
}
