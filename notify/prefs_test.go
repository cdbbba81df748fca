package notify_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedesk/channels/email"
	"onedesk/channels/email/emailtest"
	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/notify"
	"onedesk/store"
)

// Each agent's choices hold: per kind and channel, only when away or
// always, and quiet hours in the agent's own time zone.
func TestPreferencesPresenceAndQuietHours(t *testing.T) {
	s := newSetup(t)
	s.subscribe(t, s.ana, "/push/ana")
	// Ana works from Tokyo (UTC+9, no summer time).
	if _, err := s.d.UpdateAgent(ctx, s.ana.ID, desk.AgentInput{Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	tk := s.emailTicket(t, "carla@example.com", "m1@shop")
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	tokyo := func(h, m int) time.Time { return day.Add(time.Duration(h-9)*time.Hour + time.Duration(m)*time.Minute) }
	got := func() int { return len(s.svc.Received("/push/ana")) }
	mention := func(at time.Time) {
		t.Helper()
		s.note(t, s.bob, tk.ID, "@ana see this")
		s.step(t, at)
	}

	// The defaults: pushed, when away.
	mention(tokyo(12, 0))
	if got() != 1 {
		t.Fatalf("defaults: %d pushes", got())
	}
	// Present (a visible tab): the app tells her itself.
	s.pres.set(s.ana.ID, true)
	mention(tokyo(12, 5))
	if got() != 1 {
		t.Fatalf("present, push only when away: %d pushes", got())
	}
	p := notify.Defaults()
	p.PushWhen = "always"
	if _, err := s.n.SetPrefs(ctx, s.ana.ID, p); err != nil {
		t.Fatal(err)
	}
	mention(tokyo(12, 10))
	if got() != 2 {
		t.Fatalf("present, push always: %d pushes", got())
	}
	s.pres.set(s.ana.ID, false)

	// Quiet from 22:00 to 07:00 in Tokyo, across midnight.
	p.Quiet = notify.Quiet{On: true, From: "22:00", To: "07:00"}
	if _, err := s.n.SetPrefs(ctx, s.ana.ID, p); err != nil {
		t.Fatal(err)
	}
	for _, at := range []struct {
		h, m  int
		quiet bool
	}{{21, 59, false}, {22, 0, true}, {23, 30, true}, {3, 0, true}, {6, 59, true}, {7, 0, false}, {14, 0, false}} {
		before := got()
		mention(tokyo(at.h, at.m))
		if pushed := got() > before; pushed == at.quiet {
			t.Errorf("%02d:%02d in Tokyo (%s UTC): pushed %v, quiet hours %v", at.h, at.m, tokyo(at.h, at.m).Format("15:04"), pushed, at.quiet)
		}
	}
	// Mentions off for push: none.
	p.Quiet.On = false
	p.Events = map[string]notify.Channels{notify.KindMention: {Push: false, Email: false}}
	saved, err := s.n.SetPrefs(ctx, s.ana.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Events[notify.KindAssigned].Push {
		t.Fatalf("a kind left out keeps its default: %+v", saved.Events)
	}
	before := got()
	mention(tokyo(12, 0))
	if got() != before {
		t.Fatalf("mentions off, still pushed")
	}
	// Assignments still come.
	s.assign(t, s.bob, tk.ID, s.ana)
	s.step(t, tokyo(12, 1))
	if list := s.svc.Received("/push/ana"); got() != before+1 || list[len(list)-1].Payload.Kind != "assigned" {
		t.Fatalf("assignment after mentions off: %q", kinds(list))
	}
	if back, err := s.n.Prefs(ctx, s.ana.ID); err != nil || back.Events[notify.KindMention].Push || back.PushWhen != "always" {
		t.Fatalf("read back: %+v %v", back, err)
	}

	// Bad preferences are refused, naming the field.
	for field, bad := range map[string]func(*notify.Prefs){
		"quiet.from":            func(p *notify.Prefs) { p.Quiet.From = "25:00" },
		"quiet.to":              func(p *notify.Prefs) { p.Quiet.To = "7am" },
		"push_when":             func(p *notify.Prefs) { p.PushWhen = "sometimes" },
		"events.new_chat.email": func(p *notify.Prefs) { p.Events[notify.KindNewChat] = notify.Channels{Email: true} },
		"events":                func(p *notify.Prefs) { p.Events["birthday"] = notify.Channels{Push: true} },
		"sound":                 func(p *notify.Prefs) { p.Sound = "airhorn" },
		"email_delay_minutes":   func(p *notify.Prefs) { p.EmailDelay = 0 },
	} {
		p := notify.Defaults()
		bad(&p)
		if _, err := s.n.SetPrefs(ctx, s.ana.ID, p); desktest.FieldOf(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

// An agent away gets mentions and assignments by email after their
// delay, in one digest through the system mail settings, from items that
// survive a restart; what they opened meanwhile is left out, and nothing
// goes while they are back in the app.
func TestEmailDigestWhenAway(t *testing.T) {
	s := newSetup(t)
	sink, addr := emailtest.SMTP(t)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	if _, err := s.d.SaveSystemMail(ctx, store.SystemMail{Host: host, Port: port, Security: "none", From: "desk@shop.test", FromName: "Shop desk"}); err != nil {
		t.Fatal(err)
	}
	s.d.SetSystemMailer(email.SendSystem)
	carl := desktest.Agent(t, s.d, "carl@shop.test", "agent")

	one := s.emailTicket(t, "carla@example.com", "m1@shop")
	two := s.emailTicket(t, "dora@example.com", "m2@shop")
	three := s.emailTicket(t, "eva@example.com", "m3@shop")
	s.assign(t, s.bob, one.ID, s.ana)
	s.note(t, s.bob, two.ID, "@ana the courier called back")
	s.note(t, s.bob, three.ID, "@ana and this one")
	s.pres.set(carl.ID, true) // Carl is in the app when mentioned...
	s.note(t, s.bob, two.ID, "@carl FYI")
	start := store.Now()
	s.step(t, start)
	// Ana opens ticket three in the app meanwhile.
	if err := s.d.MarkRead(ctx, s.ana.ID, three.ID); err != nil {
		t.Fatal(err)
	}
	s.step(t, start.Add(10*time.Minute))
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d mails before the delay", n)
	}

	// A restart: a new desk and notifier over the same database.
	d2 := desktest.Wire(t, s.db)
	d2.SetSystemMailer(email.SendSystem)
	n2 := notify.New(d2, desktest.Log(), notify.Options{PublicURL: "https://desk.example", Present: s.pres.get})
	if err := n2.Step(ctx, start.Add(16*time.Minute)); err != nil {
		t.Fatal(err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails after the delay, want one digest for Ana", len(msgs))
	}
	mail := strings.ReplaceAll(msgs[0], "=\r\n", "")
	for _, want := range []string{"To: <ana@shop.test>", "onedesk: what waits for you (2)",
		"assigned #" + strconv.FormatInt(one.ID, 10) + " to you", "mentioned you on #" + strconv.FormatInt(two.ID, 10),
		"https://desk.example/#/open/t/" + strconv.FormatInt(one.ID, 10)} {
		if !strings.Contains(mail, want) {
			t.Errorf("the digest lacks %q:\n%s", want, mail)
		}
	}
	if strings.Contains(mail, "/t/"+strconv.FormatInt(three.ID, 10)+"\r\n") || strings.Contains(mail, "and this one") {
		t.Errorf("the digest has the ticket Ana opened:\n%s", mail)
	}
	// Sent once.
	if err := n2.Step(ctx, start.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("%d mails after another step", n)
	}
	// Carl was present: nothing waits for him, nothing is mailed.
	if items, err := s.db.NotifyMailOf(ctx, carl.ID); err != nil || len(items) != 0 {
		t.Fatalf("Carl's items: %v %v", items, err)
	}

	// Away when mentioned, but back in the app when it is due: it waits
	// until he leaves again.
	s.pres.set(carl.ID, false)
	s.note(t, s.bob, one.ID, "@carl one more")
	later := store.Now()
	if err := n2.Step(ctx, later); err != nil {
		t.Fatal(err)
	}
	s.pres.set(carl.ID, true)
	if err := n2.Step(ctx, later.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("mailed Carl while he is in the app")
	}
	s.pres.set(carl.ID, false)
	if err := n2.Step(ctx, later.Add(21*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if msgs := sink.Messages(); len(msgs) != 2 || !strings.Contains(msgs[1], "carl@shop.test") {
		t.Fatalf("Carl's digest: %d mails", len(msgs))
	}
}
