package store_test

import (
	"context"
	"testing"
	"time"

	"onedesk/store"
)

// TestEveryCornerAnswers seeds a small desk and then writes and reads
// through the store's other corners (agents, teams, stores, mailboxes,
// forms, webhooks, rules, SLA policies, saved replies, social accounts,
// sessions, settings, reports), on both engines: each statement must be
// one both engines run. What each returns is the desk tests' business.
func TestEveryCornerAnswers(t *testing.T) { store.ForEachEngine(t, testEveryCornerAnswers) }

func testEveryCornerAnswers(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	if err := db.Seed(ctx, store.SeedOptions{Tickets: 300, Agents: 3, Teams: 2, Stores: 2, PasswordHash: "x", Seed: 3}, nil); err != nil {
		t.Fatal(err)
	}
	now := store.Now()
	one, two := int64(1), int64(2)
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	var mailbox store.Mailbox
	var hook store.Webhook
	var account store.SocialAccount
	check("settings", db.Write(ctx, func(tx *store.Tx) error {
		a := &store.Agent{Email: "New@Shop.test", Name: "New", Role: "agent", Active: true, Language: "en", Timezone: "UTC", PasswordHash: "x", CreatedAt: now}
		if err := tx.InsertAgent(ctx, a); err != nil {
			return err
		}
		team := &store.Team{Name: "Returns", Assignment: "round_robin", AgentIDs: []int64{a.ID}, CreatedAt: now}
		if err := tx.InsertTeam(ctx, team); err != nil {
			return err
		}
		if err := tx.SetTeamTurn(ctx, team.ID, a.ID); err != nil {
			return err
		}
		if _, err := tx.OpenTicketsOf(ctx, a.ID); err != nil {
			return err
		}
		mailbox = store.Mailbox{Address: "help@shop.test", IMAPHost: "127.0.0.1", IMAPPort: 993, IMAPSecurity: "tls", IMAPFolder: "INBOX",
			SMTPPort: 587, SMTPSecurity: "starttls", PollSeconds: 60, AfterImport: "leave", Active: true, MaxMessageMB: 25, CreatedAt: now}
		if err := tx.SaveMailbox(ctx, &mailbox); err != nil {
			return err
		}
		if err := tx.SetMailboxCursor(ctx, mailbox.ID, 7, 42); err != nil {
			return err
		}
		if err := tx.InsertForm(ctx, &store.Form{Slug: "contact", Title: "Contact", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		hook = store.Webhook{Name: "crm", URL: "https://127.0.0.1/hook", Events: []string{"ticket.created"}, Enabled: true, Secret: "s", CreatedAt: now, UpdatedAt: now}
		if err := tx.SaveWebhook(ctx, &hook); err != nil {
			return err
		}
		if err := tx.QueueDelivery(ctx, &store.Delivery{WebhookID: hook.ID, Event: "ticket.created", TicketID: &one, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.SetWebhookCursor(ctx, store.WebhookCursor{EventID: 3, MessageID: 4}); err != nil {
			return err
		}
		if err := tx.InsertRule(ctx, &store.Rule{Name: "vip", Trigger: "created", Match: "all", Enabled: true, Position: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.InsertSLAPolicy(ctx, &store.SLAPolicy{Name: "std", Position: 1, Enabled: true, StoreID: &one, BusinessHours: true, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		r := &store.SavedReply{Title: "Thanks", Body: "Thank you", StoreID: &one, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertSavedReply(ctx, r); err != nil {
			return err
		}
		if err := tx.UseSavedReply(ctx, r.ID); err != nil {
			return err
		}
		account = store.SocialAccount{Platform: "telegram", Name: "Shop", Handle: "@shop_bot", ExternalID: "123", Enabled: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.SaveSocialAccount(ctx, &account); err != nil {
			return err
		}
		if err := tx.SetSocialThread(ctx, 1, account.ID, "chat-1"); err != nil {
			return err
		}
		if _, err := tx.EventWithKey(ctx, 1, "edited", "k1"); err != nil {
			return err
		}
		return tx.SetRuleRan(ctx, 1, 1, now)
	}))
	check("agent by email, any case", func() error { _, err := db.AgentByEmail(ctx, "new@shop.TEST"); return err }())
	check("session", db.InsertSession(ctx, &store.Session{TokenHash: "h", AgentID: 1, CSRFToken: "c", ExpiresAt: now.Add(time.Hour)}))
	check("token", db.InsertAPIToken(ctx, &store.APIToken{AgentID: 1, Name: "ci", TokenHash: "th", CreatedAt: now}))
	check("set setting", db.SetSetting(ctx, "k", "v"))
	check("poll error", db.SetMailboxPollError(ctx, mailbox.ID, "refused", "", 43))
	check("social update", db.QueueSocialUpdate(ctx, account.ID, "u1", []byte(`{}`)))
	for what, call := range map[string]func() error{
		"agents":       func() error { _, err := db.Agents(ctx); return err },
		"teams":        func() error { _, err := db.Teams(ctx); return err },
		"waiting":      func() error { _, err := db.WaitingTickets(ctx, 1, 10); return err },
		"stores":       func() error { _, err := db.Stores(ctx); return err },
		"mailboxes":    func() error { _, err := db.Mailboxes(ctx); return err },
		"intake":       func() error { _, err := db.MailboxIntake(ctx, mailbox.ID, 10); return err },
		"partials":     func() error { _, err := db.PartialCounts(ctx); return err },
		"forms":        func() error { _, err := db.Forms(ctx); return err },
		"webhooks":     func() error { _, err := db.Webhooks(ctx); return err },
		"deliveries":   func() error { _, err := db.QueuedDeliveries(ctx, hook.ID, 10); return err },
		"due webhooks": func() error { _, err := db.DueWebhooks(ctx, now.Add(time.Hour)); return err },
		"next webhook": func() error { _, err := db.NextWebhookAt(ctx); return err },
		"cursor":       func() error { _, _, err := db.WebhookCursor(ctx); return err },
		"events after": func() error { _, err := db.EventsAfter(ctx, 0, 1000, 10); return err },
		"msgs after":   func() error { _, err := db.MessagesAfter(ctx, 0, 1000, 10); return err },
		"rules":        func() error { _, err := db.Rules(ctx); return err },
		"time rules": func() error {
			_, err := db.TimeCandidates(ctx, []string{"open"}, "customer", time.Time{}, now, time.Time{}, true, []store.TicketTest{{Column: "tag", Value: "vip"}, {Column: "team_id", Value: one, Not: true}})
			return err
		},
		"sla":           func() error { _, err := db.SLAPolicies(ctx); return err },
		"sla due":       func() error { _, err := db.SLACandidates(ctx, "due", time.Time{}, now, time.Time{}); return err },
		"running slas":  func() error { _, err := db.RunningSLAs(ctx); return err },
		"saved replies": func() error { _, err := db.SavedReplies(ctx, &one, &two); return err },
		"social":        func() error { _, err := db.SocialAccounts(ctx, "telegram"); return err },
		"social due":    func() error { _, err := db.DueSocialUpdates(ctx, "telegram", now.Add(time.Hour), 10); return err },
		"unread": func() error {
			_, err := db.UnreadCounts(ctx, 1, []store.UnreadView{{Key: "open", Statuses: []string{"new", "open"}}, {Key: "chat", Statuses: []string{"open"}, Channel: "chat"}})
			return err
		},
		"to do":      func() error { _, err := db.AssignedToDo(ctx, 1, 0, 10); return err },
		"idle chats": func() error { _, err := db.IdleChats(ctx, 1, "open", now, 10); return err },
		"tokens":     func() error { _, err := db.APITokens(ctx, 1); return err },
		"queues":     func() error { _, err := db.Queues(ctx); return err },
		"sizes":      func() error { _, _, err := db.FileSizes(); return err },
		"expired":    func() error { return db.DeleteExpiredSessions(ctx) },
		"report": func() error {
			_, err := db.SumReport(ctx, store.ReportFilter{StoreID: &one}, 0, store.QuarterOf(now)+1, "channel")
			return err
		},
	} {
		check(what, call())
	}
}
