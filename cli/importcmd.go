package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// onedesk import zendesk|helpscout FILE...: reads another helpdesk's
// export (the JSON its public API answers, saved to files), turns it into
// POST /api/import's shape (docs/import.md) and sends it in batches to a
// running onedesk with an admin's API token (--token or ONEDESK_TOKEN). Running it again imports
// nothing twice: everything is keyed by the other helpdesk's ids.

// importBatchBytes keeps a request under the server's 25 MB.
const importBatchBytes = 16 << 20

// maxImportFileBytes is the server's limit of one file (ui.maxImportFile).
const maxImportFileBytes = 10 << 20

type importPerson struct {
	ExternalID string `json:"external_id,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Name       string `json:"name,omitempty"`
	Role       string `json:"role,omitempty"`
}

type importFile struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type,omitempty"`
	Content     string `json:"content_base64"`
	url         string // where the source keeps it, fetched with --download-files
	size        int64
}

type importMessage struct {
	ExternalID  string       `json:"external_id"`
	Author      importPerson `json:"author"`
	Internal    bool         `json:"internal,omitempty"`
	Body        string       `json:"body,omitempty"`
	HTML        string       `json:"html,omitempty"`
	CreatedAt   string       `json:"created_at"`
	Attachments []importFile `json:"attachments,omitempty"`
}

type importTicket struct {
	ExternalID string          `json:"external_id"`
	Subject    string          `json:"subject"`
	Status     string          `json:"status,omitempty"`
	Priority   string          `json:"priority,omitempty"`
	Channel    string          `json:"channel,omitempty"`
	Customer   importPerson    `json:"customer"`
	Assignee   string          `json:"assignee,omitempty"`
	Tags       []string        `json:"tags,omitempty"`
	Messages   []importMessage `json:"messages"`
	created    string
}

type importCustomer struct {
	ExternalID string   `json:"external_id"`
	Name       string   `json:"name,omitempty"`
	Emails     []string `json:"emails,omitempty"`
	Phones     []string `json:"phones,omitempty"`
	Notes      string   `json:"notes,omitempty"`
	CreatedAt  string   `json:"created_at,omitempty"`
}

// importSet is an export turned into onedesk's shape.
type importSet struct {
	Customers []importCustomer
	Tickets   []importTicket
	Warnings  []string
}

// importSource reads one helpdesk's files.
type importSource interface {
	// add reads one file (a page of an API's answer, or lines of them).
	add(name string, doc map[string]json.RawMessage) error
	// result is everything read, in onedesk's shape.
	result() *importSet
}

func importCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "zendesk" && args[0] != "helpscout") {
		return errors.New("the import command takes 'zendesk' or 'helpscout' and the export's files: onedesk import zendesk --url URL --token T FILE...")
	}
	kind := args[0]
	fs := flag.NewFlagSet("import "+kind, flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "the onedesk to import into")
	token := fs.String("token", "", "an admin's API token (Settings → API tokens), or ONEDESK_TOKEN")
	batch := fs.Int("batch", 100, "tickets per request (at most 500)")
	dry := fs.Bool("dry-run", false, "print the converted JSON instead of sending it")
	files := fs.Bool("download-files", false, "download the attachments from the source (their URLs in the export)")
	filesAuth := fs.String("download-auth", "", "the Authorization header to download them with (\"Bearer ...\")")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("name the export's files: onedesk import %s FILE...", kind)
	}
	if *batch < 1 || *batch > 500 {
		return errors.New("--batch must be between 1 and 500")
	}
	if *token == "" && !*dry {
		return errors.New("--token (or ONEDESK_TOKEN) is needed: an admin's API token from Settings → API tokens")
	}
	var src importSource
	if kind == "zendesk" {
		src = newZendesk()
	} else {
		src = newHelpScout()
	}
	for _, name := range fs.Args() {
		if err := readExportFile(name, src); err != nil {
			return err
		}
	}
	set := src.result()
	for _, w := range set.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *files {
		fetchFiles(ctx, set, *filesAuth, stderr)
	} else if n := dropFiles(set); n > 0 {
		fmt.Fprintf(stderr, "warning: %d attachments left out: run with --download-files to download them from the source\n", n)
	}
	if *dry {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(map[string]any{"customers": set.Customers, "tickets": set.Tickets})
	}
	return sendImport(ctx, strings.TrimSuffix(*url, "/"), *token, set, *batch, stdout)
}

// readExportFile reads one JSON document, or JSON lines (one document a
// line), into src.
func readExportFile(name string, src importSource) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) == nil {
		return wrapFile(name, src.add(name, doc))
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		doc = nil
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			return fmt.Errorf("%s line %d: not a JSON object: %w", name, line, err)
		}
		if err := src.add(name, doc); err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
	}
	return sc.Err()
}

func wrapFile(name string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

var lastNumber = regexp.MustCompile(`(\d+)\D*$`)

// idInName is the last number in a file's name (comments-123.json: 123).
func idInName(name string) string {
	m := lastNumber.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return ""
	}
	return m[1]
}

// fetchFiles downloads the attachments the export names; a file that
// cannot be had is left out with a warning, its message kept.
func fetchFiles(ctx context.Context, set *importSet, auth string, stderr io.Writer) {
	client := &http.Client{Timeout: 2 * time.Minute}
	keepFiles(set, func(m *importMessage, f *importFile) bool {
		if f.Content != "" {
			return true
		}
		data, err := download(ctx, client, f.url, auth)
		if err == nil && len(data) > maxImportFileBytes {
			err = fmt.Errorf("larger than %d MB", maxImportFileBytes>>20)
		}
		if err != nil {
			fmt.Fprintf(stderr, "warning: %s, file %s left out: %v\n", m.ExternalID, f.Filename, err)
			return false
		}
		f.Content = base64.StdEncoding.EncodeToString(data)
		return true
	})
}

// keepFiles keeps the attachments keep says yes to.
func keepFiles(set *importSet, keep func(*importMessage, *importFile) bool) {
	for ti := range set.Tickets {
		for mi := range set.Tickets[ti].Messages {
			m := &set.Tickets[ti].Messages[mi]
			kept := m.Attachments[:0]
			for _, f := range m.Attachments {
				if keep(m, &f) {
					kept = append(kept, f)
				}
			}
			m.Attachments = kept
		}
	}
}

// dropFiles leaves out the attachments not downloaded, and says how many.
func dropFiles(set *importSet) int {
	n := 0
	keepFiles(set, func(_ *importMessage, f *importFile) bool {
		if f.Content == "" {
			n++
		}
		return f.Content != ""
	})
	return n
}

// download fetches a file; an answer of JSON {"data": base64} (Help
// Scout's attachment data) is decoded.
func download(ctx context.Context, client *http.Client, url, auth string) ([]byte, error) {
	if url == "" {
		return nil, errors.New("the export gives no URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxImportFileBytes*2))
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || strings.HasPrefix(res.Header.Get("Content-Type"), "application/hal+json") {
		var wrapped struct{ Data string }
		if json.Unmarshal(data, &wrapped) == nil && wrapped.Data != "" {
			return base64.StdEncoding.DecodeString(wrapped.Data)
		}
	}
	return data, nil
}

// importAnswer is POST /api/import's answer.
type importAnswer struct {
	Imported int `json:"imported"`
	Skipped  int `json:"skipped"`
	Errors   []struct {
		Index int    `json:"index"`
		Error string `json:"error"`
		Field string `json:"field"`
	} `json:"errors"`
	Messages struct {
		Added int `json:"added"`
	} `json:"messages"`
}

// sendImport posts the customers, then the tickets a batch at a time
// (smaller when their files are large). A refused item is printed and
// the rest go on; the command fails at the end if any was refused.
func sendImport(ctx context.Context, url, token string, set *importSet, batch int, stdout io.Writer) error {
	client := &http.Client{Timeout: 10 * time.Minute}
	failed := 0
	post := func(what string, body map[string]any, names []string) error {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/import", bytes.NewReader(raw))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer res.Body.Close()
		answer, _ := io.ReadAll(io.LimitReader(res.Body, 16<<20))
		if res.StatusCode != http.StatusOK {
			var e struct{ Error, Field string }
			json.Unmarshal(answer, &e)
			return fmt.Errorf("%s: HTTP %d: %s %s", what, res.StatusCode, e.Error, e.Field)
		}
		var a importAnswer
		if err := json.Unmarshal(answer, &a); err != nil {
			return fmt.Errorf("%s: the answer is not JSON: %w", what, err)
		}
		fmt.Fprintf(stdout, "%s: %d imported, %d already there, %d refused, %d messages added\n", what, a.Imported, a.Skipped, len(a.Errors), a.Messages.Added)
		for _, e := range a.Errors {
			name := ""
			if e.Index >= 0 && e.Index < len(names) {
				name = names[e.Index] + " "
			}
			fmt.Fprintf(stdout, "  refused %s(%s): %s\n", name, e.Field, e.Error)
		}
		failed += len(a.Errors)
		return nil
	}
	for start := 0; start < len(set.Customers); start += 2000 {
		part := set.Customers[start:min(start+2000, len(set.Customers))]
		names := make([]string, len(part))
		for i, c := range part {
			names[i] = c.ExternalID
		}
		if err := post(fmt.Sprintf("customers %d-%d", start+1, start+len(part)), map[string]any{"customers": part}, names); err != nil {
			return err
		}
	}
	// Oldest first, so that a run cut short leaves the history whole up to a day.
	sort.SliceStable(set.Tickets, func(i, j int) bool { return set.Tickets[i].created < set.Tickets[j].created })
	for start := 0; start < len(set.Tickets); {
		end, size := start, 0
		for end < len(set.Tickets) && end-start < batch {
			n := ticketSize(set.Tickets[end])
			if end > start && size+n > importBatchBytes {
				break
			}
			size += n
			end++
		}
		part := set.Tickets[start:end]
		names := make([]string, len(part))
		for i, t := range part {
			names[i] = t.ExternalID
		}
		if err := post(fmt.Sprintf("tickets %d-%d of %d", start+1, end, len(set.Tickets)), map[string]any{"tickets": part}, names); err != nil {
			return err
		}
		start = end
	}
	if failed > 0 {
		return fmt.Errorf("%d items were refused (listed above); fix them in the export and run the import again: what landed stays, nothing comes twice", failed)
	}
	return nil
}

// ticketSize is about how many bytes a ticket takes in a request.
func ticketSize(t importTicket) int {
	n := 512 + len(t.Subject)
	for _, m := range t.Messages {
		n += 256 + len(m.Body) + len(m.HTML)
		for _, f := range m.Attachments {
			n += len(f.Content) + len(f.Filename) + 64
		}
	}
	return n
}

// inOrder lists a ticket's messages by when they were written (RFC 3339
// UTC times sort as text), then by id (a longer number is a larger one).
func inOrder[T any](byID map[zid]T, at func(T) string) []T {
	ids := make([]zid, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := at(byID[ids[i]]), at(byID[ids[j]])
		if a != b {
			return a < b
		}
		if len(ids[i]) != len(ids[j]) {
			return len(ids[i]) < len(ids[j])
		}
		return ids[i] < ids[j]
	})
	list := make([]T, len(ids))
	for i, id := range ids {
		list[i] = byID[id]
	}
	return list
}

// fullName joins a first and last name.
func fullName(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}
