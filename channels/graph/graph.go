// Package graph is a small client of Meta's Graph API, which the
// WhatsApp Cloud API and the Messenger Platform (Messenger and Instagram)
// share: JSON calls with a bearer token, multipart uploads, media
// downloads, and Graph's errors in plain words (an expired token, rate
// limits waited out briefly, then left to the caller's backoff).
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onedesk/channels/social"
)

// DefaultAPI is the Graph API version onedesk targets.
const DefaultAPI = "https://graph.facebook.com/v21.0"

// Client calls the Graph API with one access token.
type Client struct {
	Base  string // DefaultAPI, or a local server in tests
	Token string
	HTTP  *http.Client
	// MaxWait is the longest rate-limit wait done in place (twice at
	// most); beyond it, or when 0, the call fails and the caller (the
	// outbox, the inbox) retries later with its backoff.
	MaxWait time.Duration
}

// Error is an answer of the Graph API other than 2xx.
type Error struct {
	Call    string // "POST /123/messages"
	Status  int    // HTTP status
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode"`
	Type    string `json:"type"`
	Message string `json:"message"`
	// RetryAfter is how long the API asked to wait (429's Retry-After).
	RetryAfter time.Duration
}

// Wait is how long to wait before the same call (social.Throttled): a
// throttled call is tried again after a second (or the Retry-After
// asked), other errors not at all.
func (e *Error) Wait() time.Duration {
	if !e.RateLimited() {
		return 0
	}
	return max(e.RetryAfter, time.Second)
}

func (e *Error) Error() string {
	switch {
	case e.Expired():
		return "Meta refused the access token: it expired or was revoked (make a new one and paste it under Settings → Channels)"
	case e.RateLimited():
		return "Meta asks to slow down (too many calls for now): " + e.Message
	}
	if e.Code != 0 {
		return fmt.Sprintf("Meta answered %s with error %d: %s", e.Call, e.Code, e.Message)
	}
	return fmt.Sprintf("Meta answered %s with HTTP %d", e.Call, e.Status)
}

// Expired tells whether the token is no longer good (code 190, or 102:
// the session behind it ended).
func (e *Error) Expired() bool { return e.Code == 190 || e.Code == 102 }

// RateLimited tells whether Meta throttled the call: HTTP 429, or one of
// Graph's rate-limit codes (4 app, 17 user, 32 page, 613 calls within a
// time, 80001–80009 business use cases).
func (e *Error) RateLimited() bool {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Code == 4, e.Code == 17, e.Code == 32, e.Code == 613,
		e.Code >= 80001 && e.Code <= 80009:
		return true
	}
	return false
}

// Temporary tells whether the same call may work later: throttling,
// Graph's "try again" codes (1, 2) and server errors.
func (e *Error) Temporary() bool {
	return e.RateLimited() || e.Code == 1 || e.Code == 2 || e.Status >= 500 || (e.Code == 0 && e.Status == 0)
}

const callTimeout = 30 * time.Second

func (c *Client) url(path string, query url.Values) string {
	u := strings.TrimRight(c.Base, "/") + "/" + strings.TrimLeft(path, "/")
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// Get reads an object: GET /path?query into out.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, callTimeout, out, func() (*http.Request, error) {
		return http.NewRequest(http.MethodGet, c.url(path, query), nil)
	})
}

// Post posts params as JSON and decodes the answer into out.
func (c *Client) Post(ctx context.Context, path string, params any, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, callTimeout, out, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, c.url(path, nil), bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
}

// Delete removes: DELETE /path?query.
func (c *Client) Delete(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodDelete, path, callTimeout, out, func() (*http.Request, error) {
		return http.NewRequest(http.MethodDelete, c.url(path, query), nil)
	})
}

// File is a file to upload.
type File struct {
	Field, Name, ContentType string
	Data                     []byte
}

// Upload posts fields and a file as multipart/form-data.
func (c *Client) Upload(ctx context.Context, path string, fields map[string]string, f File, out any) error {
	body, kind, err := social.Multipart(fields, f.Field, f.Name, f.ContentType, f.Data)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, 2*time.Minute, out, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, c.url(path, nil), bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", kind)
		}
		return req, err
	})
}

// do makes a call, waiting out a throttled answer in place (social.Retry).
func (c *Client) do(ctx context.Context, method, path string, timeout time.Duration, out any, build func() (*http.Request, error)) error {
	call := method + " /" + strings.TrimLeft(path, "/")
	return social.Retry(ctx, c.MaxWait, func() error {
		req, err := build()
		if err != nil {
			return err
		}
		return c.once(ctx, req, call, timeout, out)
	})
}

func (c *Client) once(ctx context.Context, req *http.Request, call string, timeout time.Duration, out any) error {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req.WithContext(rctx))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot reach Meta (%s): %w", call, c.clean(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read Meta's answer to %s: %w", call, c.clean(err))
	}
	if resp.StatusCode/100 != 2 {
		var body struct {
			Error *Error `json:"error"`
		}
		ge := &Error{}
		if json.Unmarshal(raw, &body) == nil && body.Error != nil {
			ge = body.Error
		}
		ge.Call, ge.Status = call, resp.StatusCode
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			ge.RetryAfter = time.Duration(s) * time.Second
		}
		return ge
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("Meta's answer to %s: %w", call, err)
		}
	}
	return nil
}

// clean keeps the token out of messages that end up in logs and on screen.
func (c *Client) clean(err error) error {
	if c.Token == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), c.Token, "<token>"))
}

// Download fetches a media URL (a CDN address Meta gave; with auth, sent
// with the token, as WhatsApp's media URLs need), refusing one over max
// bytes with social.ErrTooLarge. It returns the data and its content
// type, as sniffed (CDN answers often say application/octet-stream).
func (c *Client) Download(ctx context.Context, mediaURL string, max int64, auth bool) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, "", err
	}
	if auth && c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	data, err := social.Download(ctx, c.HTTP, req, "a file from Meta", max)
	if err != nil {
		return nil, "", err
	}
	return data, http.DetectContentType(data), nil
}
