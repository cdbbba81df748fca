package chat

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"onedesk/desk"
	"onedesk/store"
)

// maxFileBytes is the largest file a store's visitors may send.
func maxFileBytes(st *store.Store) int64 {
	mb := st.Chat.MaxFileMB
	if mb <= 0 {
		mb = desk.DefaultChatFileMB
	}
	return int64(min(mb, desk.MaxChatFileMB)) << 20
}

func files(list []store.Attachment) []file {
	var out []file
	for _, a := range list {
		out = append(out, file{ID: a.ID, Name: a.Filename, Type: a.ContentType, Size: a.Size})
	}
	return out
}

// serveUpload takes one file from a visitor (multipart: token, cid, lang,
// file) as a message of the chat, acknowledged like a text message.
func (c *Channel) serveUpload(w http.ResponseWriter, r *http.Request, st *store.Store) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "use POST", "")
		return
	}
	lang := desk.PickLanguage(st.Language, r.URL.Query().Get("lang"))
	fail := func(status int, code, field string) { writeError(w, status, text(lang, code), field) }
	if !st.Chat.Files {
		fail(http.StatusForbidden, "err_files_off", "file")
		return
	}
	tooBig := func() {
		writeError(w, http.StatusRequestEntityTooLarge,
			strings.ReplaceAll(text(lang, "err_file_size"), "{mb}", strconv.FormatInt(maxFileBytes(st)>>20, 10)), "file")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "send the file as multipart/form-data", "file")
		return
	}
	var token, cid string
	var a *store.Attachment
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooBig()
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "the upload is not valid multipart/form-data", "file")
			return
		}
		switch part.FormName() {
		case "token", "cid":
			b, _ := io.ReadAll(io.LimitReader(part, 200))
			if part.FormName() == "token" {
				token = string(b)
			} else {
				cid = string(b)
			}
		case "file":
			if a != nil {
				writeError(w, http.StatusBadRequest, "send one file at a time", "file")
				return
			}
			data, err := io.ReadAll(io.LimitReader(part, maxFileBytes(st)+1))
			if errors.As(err, &mbe) || int64(len(data)) > maxFileBytes(st) {
				tooBig()
				return
			}
			if err != nil {
				writeError(w, http.StatusBadRequest, "the upload broke off: try again", "file")
				return
			}
			if a, err = desk.CustomerFile(part.FileName(), data); err != nil {
				fail(http.StatusUnsupportedMediaType, "err_file_type", "file")
				return
			}
		}
		part.Close()
	}
	switch {
	case !validToken(token):
		writeError(w, http.StatusBadRequest, "open the chat first: the upload needs the visitor's token", "token")
		return
	case a == nil || a.Size == 0:
		fail(http.StatusBadRequest, "err_empty", "file")
		return
	}
	who := visitorID(token)
	if !c.visitorLimit.Allow(who.Value) {
		fail(http.StatusTooManyRequests, "err_fast", "")
		return
	}
	if st.Chat.PreChat == "required" {
		if id, err := c.desk.DB().CustomerByIdentity(r.Context(), who); err != nil {
			fail(http.StatusForbidden, "err_details", "email")
			return
		} else if _, email := c.contact(r.Context(), id); email == "" {
			fail(http.StatusForbidden, "err_details", "email")
			return
		}
	}
	ack, customer, err := c.receive(r.Context(), st, who, message{cid: cid, files: []store.Attachment{*a},
		page: r.URL.Query().Get("page"), browser: browserName(r.UserAgent()), lang: visitorLanguage(st, lang, r.Header.Get("Accept-Language"))})
	if err != nil {
		c.writeSaveError(w, lang, err, "file")
		return
	}
	// The visitor's other tabs show the file too.
	c.push(customer, frame{Type: "msg", From: "visitor", CID: cid, ID: ack.ID, At: ack.At, Files: ack.Files})
	writeJSON(w, http.StatusCreated, ack)
}

// serveFile hands a visitor a file of their own conversation (POST
// {"token", "id"}; the token never goes in a URL).
func (c *Channel) serveFile(w http.ResponseWriter, r *http.Request, st *store.Store) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "use POST", "")
		return
	}
	var body struct {
		Token string `json:"token"`
		ID    int64  `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !validToken(body.Token) {
		writeError(w, http.StatusBadRequest, `send {"token", "id"}`, "token")
		return
	}
	notFound := func() { writeError(w, http.StatusNotFound, "no such file in this conversation", "id") }
	a, err := c.desk.CustomerFile(r.Context(), visitorID(body.Token), st.ID, body.ID)
	if err != nil {
		notFound()
		return
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(a.Data)
}
