package email

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// autoKind tells machine-sent mail apart (RFC 3834 and common practice):
// such mail never gets an auto-response and never reopens a ticket.
// fromText is the raw From value, read even when it holds no address (a
// bounce from "MAILER-DAEMON" without a domain).
func autoKind(h *header, from, fromText, subject string) string {
	get := func(key string) string { return strings.ToLower(strings.TrimSpace(h.h.Get(key))) }
	local, _, _ := strings.Cut(strings.ToLower(from), "@")
	ctype, params := contentType(h.h.Get("Content-Type"))
	precedence := get("Precedence")
	switch {
	case ctype == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status"),
		isDaemon(local), from == "" && isDaemon(strings.ToLower(fromText)):
		return "bounce"
	case get("Auto-Submitted") != "" && get("Auto-Submitted") != "no",
		h.h.Get("X-Autoreply") != "", h.h.Get("X-Autorespond") != "", get("X-Auto-Response-Suppress") == "all",
		precedence == "auto_reply":
		return "auto_reply"
	case ticketSystem(h) && (precedence != "" || h.h.Get("X-Loop") != "" || autoSubject.MatchString(subject) ||
		len(h.h.Values("References"))+len(h.h.Values("In-Reply-To")) > 0):
		// A ticket system's acknowledgement (RT, OTRS, Zendesk...): it
		// answers our mail and threads onto the ticket through its
		// references, but must never start a mail loop.
		return "auto_reply"
	}
	if ctype == "multipart/report" && strings.EqualFold(params["report-type"], "disposition-notification") {
		return "auto_reply" // a read receipt
	}
	switch precedence {
	case "bulk", "list", "junk":
		return "bulk"
	}
	for _, key := range []string{"List-Id", "List-Unsubscribe", "List-Post", "Mailing-List", "X-Mailing-List", "X-Mailman-Version",
		"TLS-Report-Domain", "TLS-Report-Submitter", "Feedback-Type"} {
		if h.h.Get(key) != "" {
			return "bulk"
		}
	}
	// DMARC and SMTP TLS aggregate reports (RFC 7489, RFC 8460), abuse
	// feedback reports: machine reports nobody answers.
	if ctype == "multipart/report" && (strings.EqualFold(params["report-type"], "tlsrpt") || strings.EqualFold(params["report-type"], "feedback-report")) ||
		reportSubject.MatchString(subject) {
		return "bulk"
	}
	return ""
}

func isDaemon(s string) bool {
	return strings.Contains(s, "mailer-daemon") || strings.Contains(s, "mailer_daemon") || strings.Contains(s, "postmaster") ||
		strings.Contains(s, "mail delivery subsystem") || strings.Contains(s, "mail delivery system")
}

// autoSubject matches the subjects auto-responders give their answers.
var autoSubject = regexp.MustCompile(`(?i)^\s*(\[[^\]]*\]\s*)?(auto[- ]?reply|auto[- ]?response|automatic reply|out of (the )?office|autosvar|automatische antwort|abwesenheitsnotiz|réponse automatique|respuesta automática|resposta automática|otomatik yanıt|автоответ)\b|\bautoreply:`)

var reportSubject = regexp.MustCompile(`(?i)\breport[ -]domain:\s*\S+\s+submitter:`)

// ticketSystem tells mail sent by a help desk or ticket system.
func ticketSystem(h *header) bool {
	for _, key := range []string{"RT-Ticket", "X-RT-Loop-Prevention", "X-OTRS-Loop", "X-OTRS-Queue", "X-Zendesk-From-Account-Id",
		"X-Freshdesk-Ticket-Id", "X-Helpscout-Conversation-Id", "X-Ticket-ID"} {
		if h.h.Get(key) != "" {
			return true
		}
	}
	managed := strings.ToLower(h.h.Get("Managed-By") + " " + h.h.Get("X-Mailer"))
	return strings.Contains(managed, "request tracker") || strings.HasPrefix(managed, "rt ") ||
		strings.Contains(managed, "zendesk") || strings.Contains(managed, "otrs") || strings.Contains(managed, "freshdesk")
}

// bounceIntros are the opening sentences of plain-text delivery failure
// reports of the common mail servers (qmail, Exim, Postfix, Sendmail,
// Yahoo, Gmail, Exchange).
var bounceIntros = []string{
	"this is the qmail-send program",
	"this message was created automatically by mail delivery software",
	"i'm sorry to have to inform you that your message could not",
	"this is the mail system at host",
	"sorry, we were unable to deliver your message",
	"the original message was received at",
	"delivery to the following recipient failed permanently",
	"delivery to the following recipients failed",
	"your message could not be delivered",
	"message could not be delivered to the following recipients",
	"delivery has failed to these recipients or groups",
	"undelivered mail returned to sender",
	"a message that you sent could not be delivered",
	"unable to deliver your message",
	"your mail cannot be delivered",
	"the following mail could not be delivered",
	"could not be delivered to the following recipients",
	"following recipients failed",
	"n'a pas pu etre delivre",
	"n'a pas pu être délivré",
	"konnte nicht zugestellt werden",
	"failed recipients",
}

var bounceSubject = regexp.MustCompile(`(?i)^\s*(re:\s*)?(undeliver(ed|able)|delivery (status notification|failure|failed)|mail delivery failed|failure notice|returned mail|non[- ]?delivery|delivery notification: delivery has failed|mail error|(mail|message) could not be delivered|permanent delivery failure)|\bnon remis\b|\(delivery failed\)|\bunzustellbar\b`)

// plainBounce tells a delivery failure report sent as plain text.
func plainBounce(text, subject, returnPath, fromText string) bool {
	nullSender := strings.TrimSpace(returnPath) == "<>" || strings.HasSuffix(strings.TrimSpace(fromText), "<>")
	bounceSubj := bounceSubject.MatchString(subject)
	if bounceSubj && (nullSender || machineSender(fromText)) {
		return true
	}
	if !nullSender && !bounceSubj && !machineSender(fromText) {
		return false
	}
	head := strings.ToLower(cut(text, 8<<10))
	for _, s := range bounceIntros {
		if strings.Contains(head, s) {
			return true
		}
	}
	return false
}

// machineSender tells the addresses mail systems and gateways send from.
func machineSender(from string) bool {
	from = strings.ToLower(from)
	for _, s := range []string{"daemon", "postmaster", "mail system", "mail service", "_smtp", "smtp_", "antivirus", "virus", "mailerd", "mailadmin", "gateway"} {
		if strings.Contains(from, s) {
			return true
		}
	}
	return false
}

// quotedMessageID finds the Message-ID of the returned message quoted in
// a bounce's text.
func quotedMessageID(text string) string {
	if m := quotedID.FindStringSubmatch(text); m != nil {
		return toUTF8(m[1]) // raw 8-bit bytes in a returned header (found by FuzzParse)
	}
	return ""
}

var quotedID = regexp.MustCompile(`(?im)^[ \t>]*Message-I[Dd]:[ \t]*\r?\n?[ \t]*<([^<>\s]{1,500})>`)

// smtpReply finds the server's answer in a bounce's text: a line with an
// SMTP code or an enhanced status code.
var smtpReply = regexp.MustCompile(`(?m)(\b[45]\d\d[ -][^\r\n]*|\b[45]\.\d{1,3}\.\d{1,3}\b[^\r\n]*|\(#[45]\.\d{1,3}\.\d{1,3}\))`)

// textBounceReason picks the telling line of a plain-text bounce.
func textBounceReason(text string) string {
	// The report is before the quoted original.
	if i := quotedStart(text); i > 0 {
		text = text[:i]
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	var prev string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if smtpReply.MatchString(line) {
			if strings.HasPrefix(line, "(#") && prev != "" {
				line = prev + " " + line // qmail: the sentence, then its code
			}
			return cut(line, 300)
		}
		if line != "" && !strings.HasPrefix(line, "<") {
			prev = line
		}
	}
	return ""
}

// quotedStart is where the returned message starts in a bounce's text.
func quotedStart(text string) int {
	for _, marker := range []string{"--- Below this line is a copy of the message.", "------ This is a copy of the message",
		"--- The header of the original message", "Original message", "original message follows", "Received:", "Return-Path:"} {
		if i := strings.Index(text, marker); i > 0 {
			return i
		}
	}
	return -1
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// originalMessageID reads the Message-ID of a returned message (or of
// its returned headers) inside a delivery report.
func originalMessageID(part []byte) string {
	if id := quotedMessageID(string(part)); id != "" {
		return id
	}
	return ""
}

// bounceReason picks the most telling line of a delivery-status report.
func bounceReason(report []byte) string {
	var status string
	for _, line := range bytes.Split(report, []byte("\n")) {
		key, value, ok := strings.Cut(strings.TrimSpace(string(line)), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(key) {
		case "diagnostic-code":
			return toUTF8(strings.TrimSpace(value))
		case "status":
			status = "status " + strings.TrimSpace(value)
		}
	}
	return status
}
