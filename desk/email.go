package desk

import (
	"net/mail"
	"strings"

	"golang.org/x/net/idna"

	"onedesk/i18n"
)

// ReasonEmailDomain is the InputError.Reason of an address whose domain
// cannot receive mail (tom@bad, joana@gmail): channels say so in the
// customer's language.
const ReasonEmailDomain = "email_domain"

// emailDomains checks the part after @ as a resolver would (IDNA2008 with
// the lookup mapping), so müller.de and пример.рф pass and bad_host fails.
var emailDomains = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true), idna.StrictDomainName(true))

// NormalizeEmail is the one check every channel makes of an address a
// person typed: one address (no name, no angle brackets), a local part
// that may be Unicode (RFC 6531), and a domain with a dot that is a valid
// (possibly international) host name. "Ana <ana@example.com>" gives the
// address alone. It returns the address lowercased.
func NormalizeEmail(value string) (string, error) {
	value = strings.TrimSpace(value)
	addr, err := mail.ParseAddress(value)
	if err != nil || strings.ContainsAny(addr.Address, " <>") {
		return "", inputErr("email", "%q is not an email address", value)
	}
	local, domain, ok := strings.Cut(addr.Address, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return "", inputErr("email", "%q is not an email address", value)
	}
	ascii, err := emailDomains.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil || !strings.Contains(ascii, ".") || strings.HasPrefix(ascii, ".") || strings.Contains(ascii, "..") {
		s := i18n.S("the address %s has no full domain after @ (like example.com), so no answer could reach it", value)
		return "", &InputError{Field: "email", Reason: ReasonEmailDomain, Message: s.String(), Sentence: s}
	}
	return strings.ToLower(addr.Address), nil
}

// mailSender is the looser check of an address a mail server delivered a
// message from: it was reachable enough to write, so its message is kept
// even when its domain has no dot (root@localhost).
func mailSender(value string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(value))
	if err != nil || strings.ContainsAny(addr.Address, " <>") || !strings.Contains(addr.Address, "@") {
		return "", inputErr("email", "%q is not an email address", value)
	}
	return strings.ToLower(addr.Address), nil
}

// MailSource is where an email came from: the mailbox, its raw source
// (kept as a blob) and the IMAP cursor to commit with it, so a crash can
// neither lose the message nor import it twice; and, for a bounce, the
// message it returns and why (when that is one of our replies, the reply
// is marked failed with the reason).
type MailSource struct {
	MailboxID int64
	Raw       []byte
	RawPath   string // instead of Raw: a file holding a large source
	Cursor    *Cursor
	// HistoryFolder, for a message of a history import, is the folder
	// whose history cursor Cursor moves (the live cursor is left alone).
	HistoryFolder string

	BounceOf     string
	BounceReason string
}
