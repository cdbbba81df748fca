package meta

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"

	"onedesk/channels/metahook"
	"onedesk/channels/social"
	"onedesk/store"
)

// The webhook's shapes (https://developers.facebook.com/docs/messenger-platform/webhooks).

// delivery is one POST of Meta's: entries of pages (object "page") or of
// Instagram accounts ("instagram"), each with its messaging events.
type delivery struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string            `json:"id"`
		Messaging []json.RawMessage `json:"messaging"`
	} `json:"entry"`
}

type party struct {
	ID string `json:"id"`
}

// event is one messaging event.
type event struct {
	Sender    party    `json:"sender"`
	Recipient party    `json:"recipient"`
	Timestamp int64    `json:"timestamp"`
	Message   *message `json:"message"`
	Edit      *struct {
		MID     string `json:"mid"`
		Text    string `json:"text"`
		NumEdit int    `json:"num_edit"`
	} `json:"message_edit"`
	Postback *struct {
		MID     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Delivery *struct {
		MIDs      []string `json:"mids"`
		Watermark int64    `json:"watermark"`
	} `json:"delivery"`
	Read *struct {
		Watermark int64  `json:"watermark"` // Messenger: everything before it
		MID       string `json:"mid"`       // Instagram: the message read
	} `json:"read"`
}

type message struct {
	MID         string       `json:"mid"`
	Text        string       `json:"text"`
	IsEcho      bool         `json:"is_echo"`
	Metadata    string       `json:"metadata"`
	Attachments []attachment `json:"attachments"`
	ReplyTo     *struct {
		MID   string `json:"mid"`
		Story *struct {
			URL string `json:"url"`
			ID  string `json:"id"`
		} `json:"story"`
	} `json:"reply_to"`
	IsUnsupported bool `json:"is_unsupported"`
	// QuickReply is the quick reply the customer tapped, when the message
	// is one (a survey's rating).
	QuickReply *struct {
		Payload string `json:"payload"`
	} `json:"quick_reply"`
}

type attachment struct {
	Type    string `json:"type"` // image, video, audio, file, story_mention, share, ig_reel, reel, fallback, template...
	Payload struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	} `json:"payload"`
}

// queued is a messaging event as it waits in social_inbox: with the kind
// of its entry and the customer's id (its lane: one chat in order).
type queued struct {
	Object string          `json:"object"`
	Chat   string          `json:"chat"`
	Event  json.RawMessage `json:"event"`
}

func lane(payload []byte) string {
	var q queued
	_ = json.Unmarshal(payload, &q)
	return q.Chat
}

// key names an event for the queue, so that Meta's retry of a delivery
// is queued once: the message's id where it has one.
func key(e *event, raw []byte) string {
	switch {
	case e.Message != nil && e.Message.MID != "":
		return "m:" + e.Message.MID
	case e.Edit != nil:
		return "e:" + e.Edit.MID + ":" + strconv.Itoa(e.Edit.NumEdit)
	case e.Postback != nil && e.Postback.MID != "":
		return "p:" + e.Postback.MID
	}
	sum := sha256.Sum256(raw)
	return "h:" + hex.EncodeToString(sum[:12])
}

// customer is the id of the customer an event is with: the sender, or
// the recipient of the page's own (echoed) message.
func (e *event) customer() string {
	if e.Message != nil && e.Message.IsEcho {
		return e.Recipient.ID
	}
	return e.Sender.ID
}

// ServeHTTP is the webhook at /hooks/meta. GET is the verification
// handshake Meta makes when the callback URL is saved (the verify token
// must be one of the connected pages'). POST is a delivery: it must be
// signed (X-Hub-Signature-256) with the app secret of a page it is for,
// or it is refused (401, logged) and nothing is stored. Its events are
// committed to the queue of deliveries before the 200 and become
// messages right after, so the answer never waits for a download or a
// busy desk, and Meta's retry of a delivery is queued once.
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := c.door.Open(w, r)
	if !ok {
		return
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil || (d.Object != "page" && d.Object != "instagram") {
		social.WriteError(w, http.StatusBadRequest, "the body is not a Messenger or Instagram webhook delivery")
		return
	}
	sig := r.Header.Get(metahook.SignatureHeader)
	c.mu.RLock()
	pages := c.pages
	c.mu.RUnlock()
	var list []store.SocialUpdate
	known, signed := false, map[int64]bool{}
	for _, entry := range d.Entry {
		p := pages[entry.ID]
		if p == nil {
			continue
		}
		known = true
		ok, seen := signed[p.acct.ID]
		if !seen {
			ok = metahook.Valid(body, sig, p.cfg.AppSecret)
			signed[p.acct.ID] = ok
		}
		if !ok {
			continue
		}
		for _, raw := range entry.Messaging {
			var e event
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			payload, _ := json.Marshal(queued{Object: d.Object, Chat: e.customer(), Event: raw})
			list = append(list, store.SocialUpdate{AccountID: p.acct.ID, Key: key(&e, raw), Payload: payload})
		}
	}
	if !known {
		social.WriteError(w, http.StatusNotFound, "no page connected to this desk takes these deliveries")
		return
	}
	if len(signed) > 0 && !anyTrue(signed) {
		c.door.Refuse(w, r, "wrong signature")
		return
	}
	for id := range signed {
		if signed[id] && !c.hookLimit.Allow(strconv.FormatInt(id, 10)) {
			w.Header().Set("Retry-After", "1")
			social.WriteError(w, http.StatusTooManyRequests, "too many deliveries")
			return
		}
	}
	if len(list) > 0 {
		if err := c.desk.QueueSocialUpdates(r.Context(), list); err != nil {
			c.log.Error("meta: store a webhook delivery", "err", err)
			social.WriteError(w, http.StatusInternalServerError, "not stored; send again")
			return
		}
		c.inbox.Wake()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("EVENT_RECEIVED"))
}

func anyTrue(m map[int64]bool) bool {
	for _, v := range m {
		if v {
			return true
		}
	}
	return false
}
