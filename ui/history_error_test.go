package ui_test

import (
	"errors"
	"strings"
	"testing"

	"onedesk/i18n"
	"onedesk/store"
	"onedesk/ui"
)

// Why a mailbox's history import is retrying is said in the reader's
// language, as its poll errors are.
func TestHistoryErrorInReaderLanguage(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var mb struct{ ID int64 }
	admin.must(201, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "imap_host": "127.0.0.1", "imap_port": 1,
		"imap_username": "help", "imap_password": "x", "smtp_host": "127.0.0.1", "smtp_port": 1,
		"start_from": "history", "history_since": "2024-01-01"}).json(t, &mb)
	why := i18n.Errorf("the search of the folder %q failed (%w)", "INBOX", errors.New("BAD [SERVERBUG]"))
	if _, err := e.db.SetHistoryState(t.Context(), mb.ID, "", store.HistoryRunning, why.Error(), i18n.Stored(why)); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"": `the search of the folder "INBOX" failed`, "pt": `a pesquisa na pasta "INBOX" falhou`,
		"ru": `поиск в папке "INBOX" не удался`} {
		var list struct {
			Mailboxes []struct {
				History struct{ State, Error string }
			}
		}
		admin.lang = lang
		admin.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
		if len(list.Mailboxes) != 1 || !strings.HasPrefix(list.Mailboxes[0].History.Error, want) || !strings.Contains(list.Mailboxes[0].History.Error, "SERVERBUG") {
			t.Errorf("%q: %+v, want %q", lang, list.Mailboxes, want)
		}
	}
}
