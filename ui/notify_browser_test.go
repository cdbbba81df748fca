package ui_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"onedesk/desk"
	"onedesk/notify"
	"onedesk/notify/notifytest"
	"onedesk/store"
	"onedesk/ui"
)

// The Notifications screen keeps an agent's choices; a push the desk
// sends, decrypted as the browser's push service would, is handed to the
// app's service worker (ServiceWorker.deliverPushMessage: headless
// Chromium has no push service of its own to receive from) and the
// worker shows it, linking to the ticket.
func TestNotificationsScreenAndServiceWorkerPush(t *testing.T) {
	e := newEnv(t, ui.Options{PublicURL: ""})
	ctx := browser(t)
	admin := e.admin()
	e.agent(admin, "ann@shop.test")
	var me struct {
		Agent store.Agent `json:"agent"`
	}
	ann := e.login("ann@shop.test", "12345678")
	ann.must(200, "GET", "/api/me", nil).json(t, &me)

	// Notifications allowed for the desk, as the agent would when asked.
	run(t, ctx, "allow notifications", chromedp.ActionFunc(func(ctx context.Context) error {
		return cdpbrowser.GrantPermissions([]cdpbrowser.PermissionType{cdpbrowser.PermissionTypeNotifications}).WithOrigin(e.srv.URL).
			Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
	}))
	var mu sync.Mutex
	var regs []*serviceworker.Registration
	chromedp.ListenTarget(ctx, func(ev any) {
		if r, ok := ev.(*serviceworker.EventWorkerRegistrationUpdated); ok {
			mu.Lock()
			regs = append(regs, r.Registrations...)
			mu.Unlock()
		}
	})
	loginAs(t, ctx, e, "ann@shop.test", "12345678")
	run(t, ctx, "the screen", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/#/admin/notifications"),
		chromedp.WaitVisible(`#push-card`, chromedp.ByQuery), chromedp.WaitVisible(`#notify-prefs`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[@id="push-status" and contains(., "Push is off for this device.")]`, chromedp.BySearch))
	shot(t, ctx, "notifications-en-1366")
	run(t, ctx, "the lower cards", chromedp.ScrollIntoView(`#notify-save`, chromedp.ByQuery))
	shot(t, ctx, "notifications-en-1366-lower")

	// Ann's device takes push; the desk's pushes are decrypted by a push
	// service of the test.
	key, err := e.notify.PublicKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	svc := notifytest.New(t, key)
	_, sub := svc.Device("/push/ann")
	if _, err := e.notify.Subscribe(context.Background(), me.Agent.ID, sub); err != nil {
		t.Fatal(err)
	}
	assign := func(subject string) int64 {
		t.Helper()
		var tk struct{ ID int64 }
		admin.must(201, "POST", "/api/tickets", map[string]any{"subject": subject,
			"body": "It has been a week.", "customer": map[string]string{"email": "carla@example.com"}}).json(t, &tk)
		admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"assignee_id": me.Agent.ID})
		if err := e.notify.Step(context.Background(), store.Now()); err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	// With the app in sight she is present: push only when away (the
	// default) sends nothing.
	waitFor(t, "Ann's app in sight", func() bool { return e.server.AgentWatching(me.Agent.ID) })
	assign("Where is my parcel?")
	if got := svc.Received("/push/ann"); len(got) != 0 {
		t.Fatalf("pushed while Ann looks at the app: %+v", got)
	}
	// Her tab goes out of sight (another tab in front): away.
	run(t, ctx, "hide the tab", chromedp.Evaluate(`Object.defineProperty(document, 'hidden', { get: () => true });
		document.dispatchEvent(new Event('visibilitychange')); true`, nil))
	waitFor(t, "Ann away", func() bool { return !e.server.AgentWatching(me.Agent.ID) })
	tkID := assign("Parcel stuck in customs")
	got := svc.Received("/push/ann")
	if len(got) != 1 || got[0].Payload.Kind != "assigned" || got[0].Payload.TicketID != tkID {
		t.Fatalf("pushed: %+v", got)
	}

	// The app's service worker shows it, with the app closed.
	var active bool
	run(t, ctx, "service worker", chromedp.Evaluate(`navigator.serviceWorker.ready.then((r) => !!r.active)`, &active,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
		serviceworker.Enable())
	var regID serviceworker.RegistrationID
	waitFor(t, "the worker's registration", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range regs {
			if r.ScopeURL == e.srv.URL+"/" && !r.IsDeleted {
				regID = r.RegistrationID
			}
		}
		return regID != ""
	})
	run(t, ctx, "close the app", chromedp.Navigate("about:blank"))
	run(t, ctx, "deliver the push", serviceworker.DeliverPushMessage(e.srv.URL, regID, string(got[0].Raw)))
	run(t, ctx, "open the app again", chromedp.Navigate(e.srv.URL+"/#/admin/notifications"), chromedp.WaitVisible(`#notify-prefs`, chromedp.ByQuery))
	var shown []struct{ Title, Body, URL string }
	waitFor(t, "the notification shown", func() bool {
		err := chromedp.Run(ctx, chromedp.Evaluate(`navigator.serviceWorker.ready.then((r) => r.getNotifications())
			.then((l) => l.map((n) => ({ title: n.title, body: n.body, url: n.data && n.data.url })))`, &shown,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		return err == nil && len(shown) > 0
	})
	if s := shown[0]; s.Title != fmt.Sprintf("Olga Owner assigned #%d to you", tkID) || s.Body != "Parcel stuck in customs" ||
		!strings.HasSuffix(s.URL, fmt.Sprintf("/#/open/t/%d", tkID)) {
		t.Fatalf("shown: %+v", shown)
	}

	// Choices: no email for assignments, push always, quiet hours
	// (away from now), the bell.
	now := time.Now().UTC()
	from, to := now.Add(2*time.Hour).Format("15:04"), now.Add(3*time.Hour).Format("15:04")
	run(t, ctx, "choose",
		chromedp.Click(`input[name="email_assigned"]`, chromedp.ByQuery),
		chromedp.Click(`input[name="push_when"][value="always"]`, chromedp.ByQuery),
		chromedp.Click(`input[name="quiet_on"]`, chromedp.ByQuery),
		chromedp.SetValue(`input[name="quiet_from"]`, from, chromedp.ByQuery),
		chromedp.SetValue(`input[name="quiet_to"]`, to, chromedp.ByQuery),
		chromedp.SetValue(`#notify-sound`, "bell", chromedp.ByQuery),
		chromedp.Click(`#notify-save`, chromedp.ByQuery))
	var prefs notify.Prefs
	waitFor(t, "the choices saved", func() bool {
		var err error
		prefs, err = e.notify.Prefs(context.Background(), me.Agent.ID)
		return err == nil && prefs.PushWhen == "always"
	})
	if prefs.Events[notify.KindAssigned].Email || !prefs.Events[notify.KindMention].Email || !prefs.Quiet.On ||
		prefs.Quiet.From != from || prefs.Quiet.To != to || prefs.Sound != "bell" {
		t.Fatalf("saved: %+v", prefs)
	}
	// Present again, and now pushed anyway.
	waitFor(t, "Ann's app in sight", func() bool { return e.server.AgentWatching(me.Agent.ID) })
	assign("A third one")
	if n := len(svc.Received("/push/ann")); n != 2 {
		t.Fatalf("push always, while present: %d pushes", n)
	}

	// The chosen sound plays for a visitor's new chat, and for a new
	// message on the ticket open on screen.
	soundsPlayed := func() []string {
		var list []string
		chromedp.Run(ctx, chromedp.Evaluate(`import('/app/sound.js').then((m) => [...m.played])`, &list,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		return list
	}
	// The app reads the preferences when it starts: on a busy machine that
	// answer may come after the chat would, and a sound needs them.
	waitFor(t, "the app's sound preference", func() bool {
		var sound string
		chromedp.Run(ctx, chromedp.Evaluate(`import('/app/state.js').then((m) => m.state.notify?.sound || '')`, &sound,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		return sound == "bell"
	})
	visitor := store.Identity{Kind: "visitor", Value: "v-browser-1"}
	chat, err := e.desk.Ingest(context.Background(), desk.Inbound{Channel: "chat", From: visitor, Name: "Rui", Text: "Hello?"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new chat's sound", func() bool { return strings.Join(soundsPlayed(), " ") == "bell" })
	run(t, ctx, "open the chat", chromedp.Navigate(fmt.Sprintf("%s/#/open/t/%d", e.srv.URL, chat.Ticket.ID)),
		chromedp.WaitVisible(`//*[contains(., "Hello?")]`, chromedp.BySearch))
	if _, err := e.desk.Ingest(context.Background(), desk.Inbound{Channel: "chat", From: visitor, Text: "Are you there?"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the open ticket's sound", func() bool { return strings.Join(soundsPlayed(), " ") == "bell bell" })

	// The screen on a phone, and in Portuguese.
	run(t, ctx, "back to the screen", chromedp.Navigate(e.srv.URL+"/#/admin/notifications"), chromedp.WaitVisible(`#notify-prefs`, chromedp.ByQuery))
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(`#notify-prefs`, chromedp.ByQuery))
	shot(t, ctx, "notifications-en-390")
	ann.must(200, "PATCH", "/api/me", map[string]any{"language": "pt"})
	run(t, ctx, "portuguese", chromedp.EmulateViewport(1366, 768), chromedp.Reload(),
		chromedp.WaitVisible(`//h1[contains(., "Notificações")]`, chromedp.BySearch))
	shot(t, ctx, "notifications-pt-1366")
	run(t, ctx, "portuguese, wide", chromedp.EmulateViewport(1920, 1080), chromedp.Reload(),
		chromedp.WaitVisible(`//h1[contains(., "Notificações")]`, chromedp.BySearch))
	shot(t, ctx, "notifications-pt-1920")
	run(t, ctx, "portuguese phone", chromedp.EmulateViewport(390, 844), chromedp.Reload(),
		chromedp.WaitVisible(`//h1[contains(., "Notificações")]`, chromedp.BySearch))
	shot(t, ctx, "notifications-pt-390")
	run(t, ctx, "portuguese phone, lower", chromedp.ScrollIntoView(`#notify-save`, chromedp.ByQuery))
	shot(t, ctx, "notifications-pt-390-lower")
}
