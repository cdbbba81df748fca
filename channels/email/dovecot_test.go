//go:build !windows

package email

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dovecot starts Debian's Dovecot on a loopback port, as an unprivileged
// user, with one account support/secret, or skips when it is not installed.
// extra lines are added to its configuration.
func dovecot(t testing.TB, extra ...string) string {
	t.Helper()
	addr, _ := dovecotAt(t, nil, extra...)
	return addr
}

// dovecotAt is dovecot whose mailbox fill (when not nil) writes first,
// before Dovecot starts, into the account's maildir (as the user Dovecot
// runs as).
func dovecotAt(t testing.TB, fill func(maildir string), extra ...string) (addr string, maildir string) {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/dovecot"); err != nil {
			t.Skip("Dovecot interop test skipped: dovecot not installed (apt-get install dovecot-imapd, or run .ci/run)")
		}
		bin = "/usr/sbin/dovecot"
	}
	// Dovecot refuses to log users in as root: run it as nobody when we are
	// root, else as ourselves.
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 65534, 65534
	}
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		t.Skipf("Dovecot interop test skipped: no user %d: %v", uid, err)
	}
	g, err := user.LookupGroupId(strconv.Itoa(gid))
	if err != nil {
		t.Skipf("Dovecot interop test skipped: no group %d: %v", gid, err)
	}
	// Not t.TempDir: its parent is private to root, and Dovecot runs as nobody.
	dir, err := os.MkdirTemp("", "onedesk-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, sub := range []string{"run", "state", "mail"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := strings.NewReplacer("$D", dir, "$U", u.Username, "$G", g.Name, "$P", strconv.Itoa(port)).Replace(`protocols = imap
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
default_internal_user = $U
default_internal_group = $G
default_login_user = $U
log_path = $D/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$D/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/users
}
userdb {
  driver = static
  args = uid=$U gid=$G home=$D/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $P
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`)
	conf += strings.Join(extra, "\n")
	os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "users"), []byte("support:{PLAIN}secret\n"), 0o644)
	maildir = filepath.Join(dir, "mail", "support")
	if fill != nil {
		fill(maildir)
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })
	cmd := exec.Command(bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	if os.Getuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("Dovecot interop test skipped: dovecot does not start: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr, maildir
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot did not listen: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDovecotInterop imports from and threads replies against a real,
// widely deployed IMAP server.
func TestDovecotInterop(t *testing.T) {
	addr := dovecot(t)
	appendMail(t, addr, "INBOX", "From: Petr <petr@example.cz>\nSubject: =?UTF-8?Q?Reklamace_bot?=\nMessage-ID: <p1@example.cz>\nContent-Type: text/plain; charset=iso-8859-2\nContent-Transfer-Encoding: quoted-printable\n\nDobr=FD den, pros=EDm o v=FDm=ECnu.\n")
	appendMail(t, addr, "INBOX", "From: Olga <olga@example.ru>\nSubject: Return\nMessage-ID: <o1@example.ru>\n\nHello\n")
	r := newRigAt(t, addr, "support", "secret")
	r.waitFor("two tickets from Dovecot", func() bool { return len(r.tickets()) == 2 })
	var petr int64
	for _, tk := range r.tickets() {
		if tk.Subject == "Reklamace bot" {
			petr = tk.ID
		}
	}
	if petr == 0 {
		t.Fatalf("tickets %+v", r.tickets())
	}
	if body := r.messages(petr)[0].Body; body != "Dobrý den, prosím o výměnu." {
		t.Fatalf("body %q", body)
	}
	// A reply in the same thread arrives later, while the poller waits in IDLE.
	appendMail(t, addr, "INBOX", "From: petr@example.cz\nSubject: Re: Reklamace\nMessage-ID: <p2@example.cz>\nReferences: <p1@example.cz>\n\nTaky fotka.\n")
	r.waitFor("the reply threaded", func() bool { return len(r.messages(petr)) == 2 })
	r.restart()
	time.Sleep(300 * time.Millisecond)
	if n := len(r.tickets()); n != 2 || len(r.messages(petr)) != 2 {
		t.Fatalf("after a restart: %d tickets, %d messages", n, len(r.messages(petr)))
	}
}
