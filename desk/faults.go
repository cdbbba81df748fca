package desk

import (
	"onedesk/i18n"
	"onedesk/store"
)

// FaultSentence says what a storage fault (see store.Fault) means for
// the person whose change it refused; ok is false for any other error.
// The agent API, the forms channel's JSON answer and /healthz say it.
func FaultSentence(err error) (sentence i18n.Sentence, ok bool) {
	kind, ok := store.Fault(err)
	if !ok {
		return i18n.Sentence{}, false
	}
	switch kind {
	case store.ErrDiskFull:
		return i18n.S("the disk is full: the change was not saved (everything saved before is safe, and reading works); free space on the server"), true
	case store.ErrCorrupt:
		return i18n.S("the database file is damaged: the change was not saved; run 'onedesk check' and restore the latest backup"), true
	case store.ErrReadOnly:
		return i18n.S("the database file is read-only: the change was not saved; check the file's owner and permissions"), true
	}
	return i18n.S("the database file could not be written (an I/O error): the change was not saved; the server's log has the details"), true
}
