package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"onedesk/channels/social"
	"onedesk/i18n"
)

// The Bot API's shapes that onedesk reads (https://core.telegram.org/bots/api).

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// User is a Telegram user or bot.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
	// LanguageCode is the language of the user's app (IETF tag), when
	// Telegram says it.
	LanguageCode string `json:"language_code"`
}

// Chat is where a message was written; onedesk answers private chats.
type Chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// File is any file of a message (a photo size, a document, a voice note...).
type File struct {
	FileID     string `json:"file_id"`
	FileSize   int64  `json:"file_size"`
	FileName   string `json:"file_name"`
	MimeType   string `json:"mime_type"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Emoji      string `json:"emoji"` // stickers
	IsAnimated bool   `json:"is_animated"`
	IsVideo    bool   `json:"is_video"`
	FilePath   string `json:"file_path"` // getFile's answer
}

// Message is a Telegram message.
type Message struct {
	MessageID int64  `json:"message_id"`
	From      *User  `json:"from"`
	Chat      Chat   `json:"chat"`
	Date      int64  `json:"date"`
	EditDate  int64  `json:"edit_date"`
	Text      string `json:"text"`
	Caption   string `json:"caption"`
	Photo     []File `json:"photo"`
	Document  *File  `json:"document"`
	Voice     *File  `json:"voice"`
	Audio     *File  `json:"audio"`
	Video     *File  `json:"video"`
	VideoNote *File  `json:"video_note"`
	Animation *File  `json:"animation"`
	Sticker   *File  `json:"sticker"`
	Contact   *struct {
		PhoneNumber string `json:"phone_number"`
		FirstName   string `json:"first_name"`
		LastName    string `json:"last_name"`
	} `json:"contact"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"location"`
}

// Update is one thing that happened to the bot.
type Update struct {
	UpdateID      int64          `json:"update_id"`
	Message       *Message       `json:"message"`
	EditedMessage *Message       `json:"edited_message"`
	CallbackQuery *CallbackQuery `json:"callback_query"`
}

// CallbackQuery is an inline button pressed (a rating under a survey).
type CallbackQuery struct {
	ID   string `json:"id"`
	From *User  `json:"from"`
	Data string `json:"data"`
}

// allowedUpdates are the updates onedesk asks for.
var allowedUpdates = []string{"message", "edited_message", "callback_query"}

// APIError is an answer of the Bot API other than ok.
type APIError struct {
	Method      string
	Status      int // HTTP status
	Code        int // error_code
	Description string
	RetryAfter  time.Duration
}

func (e *APIError) Error() string { return e.Sentence().String() }

// Sentence says the refusal in plain words, for the reader's language;
// Telegram's own description stays as Telegram wrote it.
func (e *APIError) Sentence() i18n.Sentence {
	switch {
	case e.Code == 401 || e.Code == 404 && e.Method == "getMe":
		return i18n.S("Telegram refused the bot token: it is wrong or was revoked (get the current one from @BotFather, /mybots → API Token)")
	case e.Code == 403 && strings.Contains(e.Description, "blocked"):
		return i18n.S("the customer blocked the bot on Telegram: replies reach them again once they restart it")
	case e.Code == 403 && strings.Contains(e.Description, "deactivated"):
		return i18n.S("the customer's Telegram account was deleted")
	case e.Code == 403:
		return i18n.S("Telegram refused the message: %s", e.Description)
	case e.Code == 400 && strings.Contains(e.Description, "chat not found"):
		return i18n.S("Telegram does not know this chat any more (the customer deleted it)")
	case e.Code == 409:
		return i18n.S("another program reads this bot's messages (a second onedesk, or a webhook set elsewhere): only one can")
	case e.Code == 429:
		return i18n.S("Telegram asks to slow down (wait %s)", e.RetryAfter.String())
	}
	return i18n.S("Telegram answered %s with %d: %s", e.Method, e.Code, e.Description)
}

// Wait is how long Telegram asked to wait (a 429), zero otherwise.
func (e *APIError) Wait() time.Duration {
	if e.Code == 429 {
		return e.RetryAfter
	}
	return 0
}

// Permanent tells whether retrying the same request cannot help.
func (e *APIError) Permanent() bool {
	return e.Code == 400 || e.Code == 401 || e.Code == 403 || e.Code == 404
}

// client calls the Bot API for one bot.
type client struct {
	base  string // https://api.telegram.org
	token string
	http  *http.Client
	// maxWait is the longest 429 wait done in place; a longer one is
	// returned as the error.
	maxWait time.Duration
}

const callTimeout = 30 * time.Second

func (cl *client) url(method string) string {
	return strings.TrimRight(cl.base, "/") + "/bot" + cl.token + "/" + method
}

// call posts params as JSON to a method and decodes its result into out.
// A 429 is waited out (retry_after, or Retry-After) up to maxWait, twice.
func (cl *client) call(ctx context.Context, method string, params any, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return err
	}
	timeout := callTimeout
	if m, ok := params.(map[string]any); ok {
		if s, ok := m["timeout"].(int); ok {
			timeout += time.Duration(s) * time.Second // a long poll
		}
	}
	return cl.do(ctx, method, timeout, out, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, cl.url(method), bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
}

// upload posts a file with fields as multipart/form-data (sendPhoto,
// sendDocument).
func (cl *client) upload(ctx context.Context, method string, fields map[string]string, fileField, filename string, data []byte, out any) error {
	body, contentType, err := social.Multipart(fields, fileField, filename, "", data)
	if err != nil {
		return err
	}
	return cl.do(ctx, method, 2*time.Minute, out, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, cl.url(method), bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", contentType)
		}
		return req, err
	})
}

// do sends the request build makes, waiting out Telegram's 429s in place
// (social.Retry).
func (cl *client) do(ctx context.Context, method string, timeout time.Duration, out any, build func() (*http.Request, error)) error {
	return social.Retry(ctx, cl.maxWait, func() error {
		req, err := build()
		if err != nil {
			return err
		}
		return cl.once(ctx, req, method, timeout, out)
	})
}

func (cl *client) once(ctx context.Context, req *http.Request, method string, timeout time.Duration, out any) error {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := cl.http.Do(req.WithContext(rctx))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot reach Telegram (%s): %w", method, cleanURLError(err, cl.token))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read Telegram's answer to %s: %w", method, cleanURLError(err, cl.token))
	}
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("Telegram answered %s with HTTP %d and no JSON", method, resp.StatusCode)
	}
	if !r.OK {
		ae := &APIError{Method: method, Status: resp.StatusCode, Code: r.ErrorCode, Description: r.Description}
		if ae.Code == 0 {
			ae.Code = resp.StatusCode
		}
		if r.Parameters != nil && r.Parameters.RetryAfter > 0 {
			ae.RetryAfter = time.Duration(r.Parameters.RetryAfter) * time.Second
		} else if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			ae.RetryAfter = time.Duration(s) * time.Second
		}
		if ae.Code == 429 && ae.RetryAfter == 0 {
			ae.RetryAfter = time.Second
		}
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			return fmt.Errorf("Telegram's answer to %s: %w", method, err)
		}
	}
	return nil
}

// cleanURLError keeps the bot token (part of every URL) out of messages
// that end up in logs and on screen.
func cleanURLError(err error, token string) error {
	if token == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "<token>"))
}

// download fetches a file of the bot (file_path from getFile), refusing
// one over max bytes (social.ErrTooLarge).
func (cl *client) download(ctx context.Context, filePath string, max int64) ([]byte, error) {
	u := strings.TrimRight(cl.base, "/") + "/file/bot" + cl.token + "/" + filePath
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, cleanURLError(err, cl.token)
	}
	data, err := social.Download(ctx, cl.http, req, "a file from Telegram", max)
	if err != nil && !errors.Is(err, social.ErrTooLarge) {
		err = cleanURLError(err, cl.token)
	}
	return data, err
}
