package orderact_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/orderact"
	"onedesk/orders"
	"onedesk/orders/orderstest"
	"onedesk/store"
	"onedesk/store/storetest"
)

// TestCrashHelper is the desk that crashes: run by TestRecoverAfterCrash
// as a child process, it takes one order action on the database it is
// given and is killed while the shop holds the answer.
func TestCrashHelper(t *testing.T) {
	if os.Getenv("ONEDESK_CRASH_DATA") == "" {
		t.Skip("run by TestRecoverAfterCrash")
	}
	db, err := store.Open(ctx, os.Getenv("ONEDESK_CRASH_DATA"))
	if err != nil {
		t.Fatal(err)
	}
	ticket, _ := strconv.ParseInt(os.Getenv("ONEDESK_CRASH_TICKET"), 10, 64)
	agent, _ := strconv.ParseInt(os.Getenv("ONEDESK_CRASH_AGENT"), 10, 64)
	var params map[string]any
	_ = json.Unmarshal([]byte(os.Getenv("ONEDESK_CRASH_PARAMS")), &params)
	_, err = orderact.New(desk.New(db, desktest.Log()), desktest.Log()).Do(ctx, ticket, agent, os.Getenv("ONEDESK_CRASH_ACTION"), params)
	t.Fatalf("the shop answered: %v", err) // it must not: the parent kills this process first
}

// An order action interrupted by a crash is settled when the desk comes
// back, over the same database, never done twice: a refund the shop made
// while the desk died is sent again under its key and answered with that
// refund (one refund in the shop); one that died before the shop was
// asked is "interrupted"; a cancellation is read from the order; a
// resent invoice, which the shop cannot tell, is "unknown". Each is on
// the ticket's history.
func TestRecoverAfterCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per crash")
	}
	data := storetest.Data(t)
	db, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	d := desktest.Wire(t, db)
	shop := orderstest.NewShopify(t, "shpat_x", &orderstest.ShopifyOrder{ID: 5501, Name: "#1001", Email: "rui@example.pt",
		Currency: "EUR", Shipping: 4.90, CreatedAt: time.Now().Add(-48 * time.Hour), Country: "PT",
		Lines: []orderstest.ShopifyLine{{ID: 1, Variant: 11, Title: "Runner 42", Quantity: 1, Price: 45}}})
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shoes", Orders: &desk.OrderInput{ShopifyDomain: shop.URL, ShopifyToken: ptr("shpat_x")}})
	if err != nil {
		t.Fatal(err)
	}
	ticket := desktest.Ingest(t, d, desk.Inbound{StoreID: &st.ID, From: desktest.Email("rui@example.pt"), Subject: "Refund", Text: "Order #1001"}).Ticket.ID
	super := desktest.Agent(t, d, "super@shop.test", "supervisor")
	db.Close()

	// crash runs an action in a child process and kills it once the
	// shop has taken the operation it stalls on.
	crash := func(action, stallOn string, params map[string]any) {
		t.Helper()
		shop.StallOn(stallOn)
		defer shop.StallOn("")
		before := shop.Count(stallOn)
		raw, _ := json.Marshal(params)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ONEDESK_TEST_ENGINES=sqlite", "ONEDESK_CRASH_DATA="+data,
			"ONEDESK_CRASH_TICKET="+strconv.FormatInt(ticket, 10), "ONEDESK_CRASH_AGENT="+strconv.FormatInt(super.ID, 10),
			"ONEDESK_CRASH_ACTION="+action, "ONEDESK_CRASH_PARAMS="+string(raw))
		out, _ := os.CreateTemp(t.TempDir(), "child")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(60 * time.Second); shop.Count(stallOn) == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				log, _ := os.ReadFile(out.Name())
				t.Fatalf("the child never reached %s: %s", stallOn, log)
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
	}

	crash(orders.ActRefund, "Refund", map[string]any{"shipping": true})     // the shop refunded; the desk never heard
	crash(orders.ActRefund, "Suggest", map[string]any{"amount": "10.00"})   // died before asking the shop
	crash(orders.ActResend, "Resend", nil)                                  // the invoice went; the shop cannot tell
	crash(orders.ActCancel, "Cancel", map[string]any{"reason": "customer"}) // the shop cancelled
	if shop.Count("Refund") != 1 || shop.Order("#1001").Refunded != 4.90 || !shop.Order("#1001").Cancelled {
		t.Fatalf("before the restart: %d refunds, %v refunded", shop.Count("Refund"), shop.Order("#1001").Refunded)
	}

	// The desk starts again on the same database.
	db, err = store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d = desktest.Wire(t, db)
	acts := orderact.New(d, desktest.Log())
	if n, err := acts.Recover(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("actions younger than %v settled: %d %v", orderact.PendingAfter, n, err)
	}
	n, err := acts.Recover(ctx, time.Now().Add(orderact.PendingAfter+time.Minute))
	if err != nil || n != 4 {
		t.Fatalf("settled %d: %v", n, err)
	}
	hist, err := acts.History(ctx, ticket)
	if err != nil || len(hist) != 4 {
		t.Fatalf("history %+v %v", hist, err)
	}
	byAction := map[string]orders.Result{}
	for _, h := range hist {
		byAction[h.Action+h.Status] = h
	}
	refund, ok := byAction["refunddone"]
	if !ok || refund.Outcome == nil || refund.Outcome.Amount != "4.90" || refund.Outcome.Currency != "EUR" {
		t.Fatalf("the refund: %+v", hist)
	}
	if _, ok := byAction["refundinterrupted"]; !ok {
		t.Fatalf("the refund never sent: %+v", hist)
	}
	if _, ok := byAction["resend_confirmationunknown"]; !ok {
		t.Fatalf("the resent invoice: %+v", hist)
	}
	if _, ok := byAction["canceldone"]; !ok {
		t.Fatalf("the cancellation: %+v", hist)
	}
	// The refund was asked again under its key: still one refund made.
	if shop.Count("Refund") != 2 || shop.Order("#1001").Refunded != 4.90 {
		t.Fatalf("after the sweep: %d refund requests, %v refunded", shop.Count("Refund"), shop.Order("#1001").Refunded)
	}
	evs := desktest.TicketEvents(t, db, ticket, store.EventOrderAction)
	statuses := map[string]bool{}
	for _, e := range evs {
		var data store.OrderActionData
		_ = json.Unmarshal(e.Data, &data)
		statuses[data.Action+" "+data.Status] = true
	}
	for _, want := range []string{"refund done", "refund interrupted", "resend_confirmation unknown", "cancel done"} {
		if !statuses[want] {
			t.Fatalf("the ticket's history lacks %q: %v", want, statuses)
		}
	}
	// A second sweep finds nothing left.
	if n, err := acts.Recover(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("a second sweep: %d %v", n, err)
	}
}
