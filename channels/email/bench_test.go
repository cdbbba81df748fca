//go:build !windows

package email

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"

	"onedesk/desk"
)

// sampleMail makes a realistic message of about size bytes: quoted text,
// an HTML alternative and, past 20 KB, a base64 attachment.
func sampleMail(i, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Customer %d <customer%d@example.com>\r\nTo: support@shop.test\r\nSubject: Order %d has not arrived\r\n", i, i, 100000+i)
	fmt.Fprintf(&b, "Message-ID: <bench-%d-%d@example.com>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n", i, size)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n")
	text := strings.Repeat("Hello, my parcel has still not arrived and the tracking page says nothing new. ", max(1, min(size, 20<<10)/2/80))
	fmt.Fprintf(&b, "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>%s</p>\r\n--a--\r\n", text, text)
	if size > 20<<10 {
		data := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 1, 2, 3, 4}, (size-b.Len())*3/4/8)
		b.WriteString("--m\r\nContent-Type: image/png; name=\"photo.png\"\r\nContent-Disposition: attachment; filename=\"photo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--m--\r\n")
	return b.Bytes()
}

// messyMail is ordinary mail as old clients write it: a raw Latin-1
// header, a part without a charset in GBK, a part header without its
// blank line and a uuencoded file.
func messyMail() []byte {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(strings.Repeat("您好，我的订单还没有到，请帮我查一下。", 20))
	latin, _ := charmap.ISO8859_1.NewEncoder().String("José Müller")
	return []byte("From lists@example.com Mon Jul  8 12:08:34 2024\r\nFrom: " + latin + " <jose@example.es>\r\nSubject: " + latin +
		"\r\nMessage-ID: <messy@example.es>\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n" +
		"--m\r\nContent-Type: text/plain\r\n\r\n" + gbk + "\r\n" +
		"--m\r\nContent-Type: text/html; charset=gb2312\r\n<p>" + gbk + "</p>\r\n" +
		"--m\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n" +
		"begin 644 a.txt\r\n#86)C\r\n`\r\nend\r\n--m--\r\n")
}

func BenchmarkParse(b *testing.B) {
	b.Run("messy", func(b *testing.B) {
		raw := messyMail()
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			in, err := Parse(raw)
			if err != nil || in.Partial.String() != "" || len(in.Attachments) != 1 || in.Name != "José Müller" {
				b.Fatalf("%v %q %+v", err, in.Partial.String(), in)
			}
		}
	})
	for _, size := range []int{2 << 10, 10 << 10, 50 << 10, 1 << 20} {
		raw := sampleMail(1, size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkImport measures a whole import: an IMAP server holding
// ONEDESK_BENCH_MAILS messages (default 2,000; 2–50 KB, some with
// attachments) read by the poller into a fresh database. It reports
// messages per second and the process's peak RSS. With
// ONEDESK_BENCH_IMAP=dovecot the messages live in Dovecot, another
// process, so the RSS is onedesk's alone (go-imap's memory server holds
// every message in this process).
func BenchmarkImport(b *testing.B) {
	n := 2000
	if v := os.Getenv("ONEDESK_BENCH_MAILS"); v != "" {
		fmt.Sscan(v, &n)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sizes := []int{2 << 10, 5 << 10, 10 << 10, 25 << 10, 50 << 10}
		addr := benchIMAP(b, func(put func([]byte)) {
			for j := range n {
				put(sampleMail(j, sizes[j%len(sizes)]))
			}
		})
		runtime.GC()
		resetPeakRSS() // the peak is the import's, not the fixture's
		b.StartTimer()
		start, cpuStart := time.Now(), cpuTime()
		r := newRigAt(b, addr, "support", "secret")
		ctx := context.Background()
		for {
			mb, _ := r.db.Mailbox(ctx, r.mailbox.ID)
			if int(mb.LastUID) == n {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.StopTimer()
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
		// CPU time per message: on a machine busy with other work the
		// rate above varies with the load; this much less.
		b.ReportMetric(float64((cpuTime()-cpuStart).Microseconds())/float64(n), "cpu-µs/msg")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
		r.stop()
		<-r.done
	}
}

// BenchmarkImportLargeAttachment imports one message carrying a 25 MB
// attachment (34 MB as base64) and reports how far it raised the
// process's resident memory above where it stood before.
func BenchmarkImportLargeAttachment(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		addr := benchIMAP(b, func(put func([]byte)) {
			var buf bytes.Buffer
			buf.WriteString("From: big@example.com\r\nSubject: Big file\r\nMessage-ID: <big@example.com>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nThe video of the fault.\r\n" +
				"--m\r\nContent-Type: video/mp4; name=\"fault.mp4\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
			data := make([]byte, 25<<20)
			rand.NewChaCha8([32]byte{1}).Read(data) // incompressible, like a real video
			enc := base64.StdEncoding.EncodeToString(data)
			for len(enc) > 76 {
				buf.WriteString(enc[:76] + "\r\n")
				enc = enc[76:]
			}
			buf.WriteString(enc + "\r\n--m--\r\n")
			put(buf.Bytes())
		})
		r := newRigAt(b, addr, "support", "secret")
		r.stop() // set the mailbox up first, then measure the import alone
		<-r.done
		forty := 40
		if _, err := r.desk.SaveMailbox(context.Background(), r.mailbox.ID, desk.MailboxInput{MaxMessageMB: &forty}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		debug.FreeOSMemory()
		before := currentRSS()
		resetPeakRSS()
		b.StartTimer()
		r.start()
		r.waitFor("the big message", func() bool { mb, _ := r.db.Mailbox(context.Background(), r.mailbox.ID); return mb.LastUID == 1 })
		b.StopTimer()
		msgs := r.messages(r.tickets()[0].ID)
		if len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].Size != 25<<20 {
			b.Fatalf("imported %+v", msgs[0].Attachments)
		}
		b.ReportMetric(float64(peakRSS()-before)/(1<<20), "RSS-rise-MB")
		r.stop()
		<-r.done
	}
}

// benchIMAP starts the benchmark's IMAP server (Dovecot when
// ONEDESK_BENCH_IMAP=dovecot, else go-imap's memory server) and fills its
// INBOX with what mails puts.
func benchIMAP(b *testing.B, mails func(put func(raw []byte))) string {
	b.Helper()
	addr := ""
	if os.Getenv("ONEDESK_BENCH_IMAP") == "dovecot" {
		addr = dovecot(b)
	} else {
		addr = imapServer(b)
	}
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "secret").Wait(); err != nil {
		b.Fatal(err)
	}
	mails(func(raw []byte) {
		if err := appendRaw(c, "INBOX", raw); err != nil {
			b.Fatal(err)
		}
	})
	return addr
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS starts a new high-water mark for peakRSS (Linux).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func currentRSS() int64 { return procStatus("VmRSS:") }

// peakRSS reads the process's high-water resident set (Linux), in bytes.
func peakRSS() int64 { return procStatus("VmHWM:") }

func procStatus(key string) int64 { return procStatusOf("self", key) }

// procStatusOf reads a field of a process's status (pid a number or
// "self"), in bytes.
func procStatusOf(pid, key string) int64 {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, key) {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, key), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkParseHostile parses the hostile shapes (deep nesting, many
// parts, a huge header, a huge line): each must stay under a second.
func BenchmarkParseHostile(b *testing.B) {
	for _, c := range hostileMail {
		raw := c.make()
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				if _, err := Parse(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
