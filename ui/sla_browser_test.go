package ui_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/ui"
)

// The owner writes an SLA policy and a rule on breaches in the app and
// puts a team on round robin; urgent tickets arrive, the inbox shows how
// long each has left, an overdue one is listed under the SLA filter, and
// its ticket view tells the policy, the breach and the round-robin turn.
func TestSLAInBrowser(t *testing.T) {
	app := browser(t)
	path := filepath.Join(t.TempDir(), "onedesk.db")
	e := newEnvAt(t, path, ui.Options{})
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	admin := e.admin()
	ann := e.agent(admin, "ann@shop.test")
	var me struct {
		Agent struct{ ID int64 }
	}
	ann.must(200, "GET", "/api/me", nil).json(t, &me)
	var team struct{ ID int64 }
	admin.must(201, "POST", "/api/teams", map[string]any{"name": "Support"}).json(t, &team)
	admin.must(200, "PATCH", fmt.Sprintf("/api/teams/%d", team.ID), map[string]any{"agent_ids": []int64{1, me.Agent.ID}})
	loginOwner(t, app, e)

	change := func(sel string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event('change', {bubbles: true}))`, sel), nil)
	}
	fr := `.sla-editor input[name="targets.urgent.first_response"]`
	res := `.sla-editor input[name="targets.urgent.resolution"]`
	unitOf := func(input string) string { return input + ` + select` }

	// A target under a minute is refused, and the box at fault outlined.
	run(t, app, "policy editor",
		chromedp.Navigate(e.srv.URL+"/#/admin/sla"),
		chromedp.WaitVisible(`//button[contains(., "New policy")]`, chromedp.BySearch),
		chromedp.Click(`//button[contains(., "New policy")]`, chromedp.BySearch),
		chromedp.WaitVisible(`.sla-editor input[name="name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`.sla-editor input[name="name"]`, "Standard", chromedp.ByQuery),
		chromedp.SendKeys(fr, "0.5", chromedp.ByQuery),
		chromedp.SetValue(unitOf(fr), "minutes", chromedp.ByQuery),
		chromedp.SendKeys(res, "1", chromedp.ByQuery),
		chromedp.SetValue(unitOf(res), "days", chromedp.ByQuery),
		chromedp.SendKeys(`.sla-editor input[name="targets.high.first_response"]`, "4", chromedp.ByQuery),
		chromedp.Click(`.sla-editor .save-bar button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.sla-editor .duration.invalid input[name="targets.urgent.first_response"]`, chromedp.ByQuery))
	shot(t, app, "60-sla-policy-error")
	run(t, app, "policy saved",
		chromedp.SetValue(fr, "", chromedp.ByQuery),
		chromedp.SendKeys(fr, "1", chromedp.ByQuery),
		chromedp.SetValue(unitOf(fr), "hours", chromedp.ByQuery))
	shot(t, app, "61-sla-policy-editor")
	run(t, app, "policy listed",
		chromedp.Click(`.sla-editor .save-bar button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//table[contains(@class,"sla-list")]//strong[contains(., "Standard")]`, chromedp.BySearch))
	var policies struct {
		List []struct {
			ID            int64
			Name          string
			BusinessHours bool `json:"business_hours"`
			Targets       map[string]struct {
				FirstResponse int64 `json:"first_response"`
				Resolution    int64
			}
		} `json:"sla_policies"`
	}
	admin.must(200, "GET", "/api/sla-policies", nil).json(t, &policies)
	if len(policies.List) != 1 || policies.List[0].Targets["urgent"].FirstResponse != 3600 || policies.List[0].Targets["urgent"].Resolution != 86400 ||
		policies.List[0].Targets["high"].FirstResponse != 4*3600 || len(policies.List[0].Targets) != 2 || !policies.List[0].BusinessHours {
		t.Fatalf("policy as saved: %+v", policies.List)
	}
	std := policies.List[0].ID

	// The editor shows the targets back in the units they were written in.
	var frVal, frUnit, resVal, resUnit string
	run(t, app, "policy round trip",
		chromedp.Click(`//table[contains(@class,"sla-list")]//button[contains(., "Edit")]`, chromedp.BySearch),
		chromedp.WaitVisible(fr, chromedp.ByQuery),
		chromedp.Value(fr, &frVal, chromedp.ByQuery), chromedp.Value(unitOf(fr), &frUnit, chromedp.ByQuery),
		chromedp.Value(res, &resVal, chromedp.ByQuery), chromedp.Value(unitOf(res), &resUnit, chromedp.ByQuery))
	if frVal != "1" || frUnit != "hours" || resVal != "1" || resUnit != "days" {
		t.Fatalf("editor shows first response %s %s, resolution %s %s", frVal, frUnit, resVal, resUnit)
	}

	// A second policy goes first with ↑, then is deleted.
	admin.must(201, "POST", "/api/sla-policies", map[string]any{"name": "Chat", "channel": "chat",
		"targets": map[string]any{"normal": map[string]any{"first_response": 600}}})
	var first string
	run(t, app, "policies reordered",
		chromedp.Navigate(e.srv.URL+"/#/admin/rules"), chromedp.WaitVisible(`//h1[contains(., "Rules")]`, chromedp.BySearch),
		chromedp.Navigate(e.srv.URL+"/#/admin/sla"),
		chromedp.WaitVisible(`//table[contains(@class,"sla-list")]//strong[contains(., "Chat")]`, chromedp.BySearch),
		chromedp.Click(`.sla-list tbody tr:nth-child(2) button[aria-label="Move up"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//table[contains(@class,"sla-list")]//tr[1]//strong[contains(., "Chat")]`, chromedp.BySearch),
		chromedp.Text(`.sla-list tbody tr:first-child td:nth-child(2)`, &first, chromedp.ByQuery))
	if first != "Chat" {
		t.Fatalf("scope of the chat policy: %q", first)
	}
	shot(t, app, "62-sla-policies")
	run(t, app, "policy deleted",
		chromedp.Evaluate(`window.confirm = () => true`, nil),
		chromedp.Click(`.sla-list tbody tr:first-child button.danger`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`//table[contains(@class,"sla-list")]//strong[contains(., "Chat")]`, chromedp.BySearch))
	admin.must(200, "GET", "/api/sla-policies", nil).json(t, &policies)
	if len(policies.List) != 1 || policies.List[0].ID != std {
		t.Fatalf("after delete: %+v", policies.List)
	}

	// A rule acts when a ticket's SLA is breached.
	run(t, app, "rule on breaches",
		chromedp.Navigate(e.srv.URL+"/#/admin/rules"),
		chromedp.WaitVisible(`//button[contains(., "New rule")]`, chromedp.BySearch),
		chromedp.Click(`//button[contains(., "New rule")]`, chromedp.BySearch),
		chromedp.WaitReady(`.rule-editor select[name="trigger"] option[value="sla_breached"]`, chromedp.ByQuery),
		chromedp.SendKeys(`.rule-editor input[name="name"]`, "Escalate late tickets", chromedp.ByQuery),
		chromedp.SetValue(`.rule-editor select[name="trigger"]`, "sla_breached", chromedp.ByQuery),
		// The first action: add a tag.
		chromedp.SetValue(`(//div[contains(@class,"rule-rows")])[2]/div[1]/select[contains(@class,"rule-field")]`, "add_tags", chromedp.BySearch),
		chromedp.Evaluate(`document.querySelectorAll('.rule-rows')[1].children[0].querySelector('.rule-field').dispatchEvent(new Event('change'))`, nil),
		chromedp.SendKeys(`(//div[contains(@class,"rule-rows")])[2]/div[1]/input[contains(@class,"rule-value")]`, "escalated", chromedp.BySearch),
		chromedp.Click(`.rule-editor .save-bar button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//td[contains(., "The SLA is breached")]`, chromedp.BySearch))

	// Teams: round robin with a cap.
	run(t, app, "team on round robin",
		chromedp.Navigate(e.srv.URL+"/#/admin/teams"),
		chromedp.WaitVisible(`.teams-table .team-assign select`, chromedp.ByQuery),
		chromedp.SetValue(`.teams-table .team-assign select`, "round_robin", chromedp.ByQuery),
		change(`.teams-table .team-assign select`),
		chromedp.WaitEnabled(`.teams-table .team-cap`, chromedp.ByQuery),
		chromedp.SetValue(`.teams-table .team-cap`, "5", chromedp.ByQuery),
		change(`.teams-table .team-cap`))
	shot(t, app, "63-teams-round-robin")
	var teams struct {
		Teams []struct {
			Assignment string
			MaxOpen    int `json:"max_open"`
		}
	}
	waitFor(t, "team saved", func() bool {
		admin.must(200, "GET", "/api/teams", nil).json(t, &teams)
		return teams.Teams[0].Assignment == "round_robin" && teams.Teams[0].MaxOpen == 5
	})

	// Three urgent tickets for the team: one fresh, one at risk, one late.
	type slaJSON struct {
		ID         int64
		AssigneeID *int64 `json:"assignee_id"`
		Tags       []string
		SLA        *struct {
			PolicyID int64 `json:"policy_id"`
			Due      string
			Breached []string
		}
		Events []struct {
			Type  string
			Actor string
			Data  map[string]any
		}
	}
	api := admin.apiClient()
	read := func(id int64) slaJSON {
		var tk slaJSON
		api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", id), nil).json(t, &tk)
		return tk
	}
	urgent := func(subject, email string, age time.Duration) slaJSON {
		var tk slaJSON
		api.must(201, "POST", "/api/tickets", map[string]any{"subject": subject, "body": "Please help", "priority": "urgent", "team_id": team.ID,
			"customer": map[string]string{"email": email, "name": strings.Split(email, "@")[0]}}).json(t, &tk)
		if age > 0 {
			// As if it had come in age ago: its due times are worked out again on its next change.
			if _, err := raw.Exec("UPDATE tickets SET created_at = ? WHERE id = ?", time.Now().Add(-age).UnixMilli(), tk.ID); err != nil {
				t.Fatal(err)
			}
			api.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"add_tags": []string{"vip"}})
		}
		return read(tk.ID)
	}
	fresh := urgent("Card declined twice", "dora@shop.test", 0)
	risky := urgent("Wrong size delivered", "ema@shop.test", 50*time.Minute)
	late := urgent("Order never shipped", "rita@shop.test", 125*time.Minute)
	for _, tk := range []slaJSON{fresh, risky, late} {
		if tk.SLA == nil || tk.SLA.PolicyID != std || tk.AssigneeID == nil {
			t.Fatalf("ticket %d: SLA %+v, assignee %v", tk.ID, tk.SLA, tk.AssigneeID)
		}
	}
	if n, err := e.sla.Sweep(context.Background(), time.Now()); err != nil || n != 2 {
		t.Fatalf("SLA sweep acted on %d tickets (%v), want the late one and the one at risk", n, err)
	}
	late = read(late.ID)
	if strings.Join(late.SLA.Breached, ",") != "first_response" || !strings.Contains(strings.Join(late.Tags, ","), "escalated") {
		t.Fatalf("late ticket after the sweep: SLA %+v, tags %v", late.SLA, late.Tags)
	}
	var rr, breach bool
	for _, ev := range late.Events {
		rr = rr || ev.Type == "assigned" && ev.Actor == "system" && ev.Data["round_robin"] == true
		breach = breach || ev.Type == "sla_breached" && ev.Data["target"] == "first_response"
	}
	if !rr || !breach {
		t.Fatalf("late ticket's events: %+v", late.Events)
	}

	// The inbox: a quiet due time, an amber one at risk, a red overdue one.
	row := func(id int64) string { return fmt.Sprintf(`.row[data-id="%d"]`, id) }
	// The three are read at once: a live refresh may redraw the rows
	// between two separate reads.
	var badges []string
	run(t, app, "inbox badges",
		chromedp.Navigate(e.srv.URL+"/#/open"),
		chromedp.WaitVisible(row(late.ID)+" .pill.sla-overdue", chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => { const q = (s) => document.querySelector(s)?.textContent; const a = [q(%q), q(%q), q(%q)]; return a.every(Boolean) ? a : null; })()`,
			row(fresh.ID)+" .sla-quiet", row(risky.ID)+" .pill.sla-risk", row(late.ID)+" .pill.sla-overdue"), &badges, chromedp.WithPollingTimeout(10*time.Second)))
	freshText, riskyText, lateText := badges[0], badges[1], badges[2]
	if !strings.HasPrefix(freshText, "Due in 59m") && freshText != "Due in 1h" || !strings.HasPrefix(riskyText, "Due in") ||
		!strings.HasPrefix(lateText, "Overdue 1h") {
		t.Fatalf("badges: fresh %q, at risk %q, late %q", freshText, riskyText, lateText)
	}
	shot(t, app, "64-inbox-sla-badges")

	// The SLA filter narrows the list to the overdue ticket, as a chip.
	var ids []int
	run(t, app, "breached filter",
		// One step: the filter bar may render again between finding the
		// select and setting it (a live update), which loses the node.
		chromedp.WaitVisible(`#sla-filter`, chromedp.ByQuery),
		choose(`#sla-filter`, "breached"),
		chromedp.WaitVisible(`//div[contains(@class,"filters")]//span[contains(@class,"chip") and contains(., "SLA: Overdue")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(row(fresh.ID), chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#rows .row')].map((r) => Number(r.dataset.id))`, &ids))
	if len(ids) != 1 || int64(ids[0]) != late.ID {
		t.Fatalf("breached filter lists %v, want [%d]", ids, late.ID)
	}
	shot(t, app, "65-inbox-sla-filter")
	run(t, app, "filter removed",
		chromedp.Click(`.filters .chip button`, chromedp.ByQuery),
		chromedp.WaitVisible(row(fresh.ID), chromedp.ByQuery),
		// The sidebar has an Overdue view of its own.
		chromedp.Click(`//nav//button[contains(., "Overdue")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h1[@id="list-title" and contains(., "Overdue")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(row(fresh.ID), chromedp.ByQuery),
		chromedp.WaitVisible(row(late.ID), chromedp.ByQuery))

	// The ticket: its policy, the breach, and the round-robin turn.
	var panel, story string
	run(t, app, "ticket SLA block",
		chromedp.Click(row(late.ID), chromedp.ByQuery),
		chromedp.WaitVisible(`#sla-panel`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "SLA breached: first response was due")]`, chromedp.BySearch),
		chromedp.Text(`#sla-panel`, &panel, chromedp.ByQuery),
		chromedp.Text(`#thread`, &story, chromedp.ByQuery))
	if !strings.Contains(panel, "Standard") || !strings.Contains(panel, "Overdue by 1h") || !strings.Contains(panel, "Due in ") {
		t.Fatalf("SLA block: %q", panel)
	}
	if !strings.Contains(story, "Assigned to Olga Owner by round robin") && !strings.Contains(story, "Assigned to Ann by round robin") {
		t.Fatalf("story without the round-robin turn: %q", story)
	}
	shot(t, app, "66-ticket-sla")
	run(t, app, "dark",
		chromedp.Evaluate(`document.documentElement.setAttribute('data-theme', 'dark')`, nil))
	shot(t, app, "67-ticket-sla-dark")

	// Answered, the first response shows as met late and the ticket
	// leaves the overdue view: the resolution is due in a day.
	api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", late.ID), map[string]any{"body": "Sorry, it ships today."})
	run(t, app, "answered late",
		chromedp.WaitVisible(`//div[@id="sla-panel"]//time[contains(., "Answered late")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(row(late.ID), chromedp.ByQuery))

	// An agent reads the policies but cannot change them.
	var controls int
	run(t, app, "agent reads policies",
		network.ClearBrowserCookies(),
		chromedp.Navigate(e.srv.URL+"/#/admin/sla"),
		chromedp.Reload(),
		chromedp.WaitVisible("#f-email", chromedp.ByID),
		chromedp.SendKeys("#f-email", "ann@shop.test", chromedp.ByID),
		chromedp.SendKeys("#f-password", "12345678", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//table[contains(@class,"sla-list")]//strong[contains(., "Standard")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(., "Only an admin can change SLA policies.")]`, chromedp.BySearch),
		chromedp.Evaluate(`document.querySelectorAll('#admin button').length + document.querySelectorAll('#admin input:not(:disabled)').length`, &controls))
	if controls != 0 {
		t.Fatalf("an agent has %d controls on the SLA policies page", controls)
	}
}

// patience is how long a test waits for what should happen: generous,
// as on a loaded 2-core machine with PostgreSQL a mailbox poll, a socket
// frame or a browser render can take many seconds; passing runs return
// as soon as it happened.
const patience = 60 * time.Second

// waitFor polls cond for a generous while (a busy machine is slow).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for deadline := start.Add(patience); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			if took := time.Since(start); took > slowStep {
				t.Logf("slow wait %q: %v", what, took.Round(time.Millisecond))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, patience)
		}
	}
}
