package ui_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"onedesk/ui"
)

// TestReportsAPI asks each report over HTTP, as JSON and each table as
// CSV, and checks that the CSV holds the JSON's cells.
func TestReportsAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	for i := range 3 {
		tk := admin.newTicket(fmt.Sprintf("Order %d", i), fmt.Sprintf("c%d@mail.test", i))
		if i < 2 {
			admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "On its way", "status": "resolved"})
		}
	}
	for _, name := range []string{"overview", "volume", "speed", "workload", "sla"} {
		var r struct {
			Totals map[string]any
			Tables []struct {
				Name    string
				Columns []string
				Rows    [][]any
			}
		}
		admin.must(200, "GET", "/api/reports/"+name+"?range=today&tz=UTC", nil).json(t, &r)
		if len(r.Tables) == 0 {
			t.Fatalf("%s: no tables", name)
		}
		for _, tb := range r.Tables {
			res := admin.must(200, "GET", "/api/reports/"+name+"?range=today&tz=UTC&format=csv&table="+tb.Name, nil)
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Fatalf("%s/%s: content type %q", name, tb.Name, ct)
			}
			recs, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(recs[0], ",") != strings.Join(tb.Columns, ",") || len(recs) != len(tb.Rows)+1 {
				t.Fatalf("%s/%s: CSV header %v and %d rows, JSON %v and %d rows", name, tb.Name, recs[0], len(recs)-1, tb.Columns, len(tb.Rows))
			}
			for i, row := range tb.Rows {
				for j, cell := range row {
					want := ""
					switch v := cell.(type) {
					case nil:
					case string:
						want = v
					default:
						b, _ := json.Marshal(v)
						want = string(b)
					}
					if recs[i+1][j] != want {
						t.Errorf("%s/%s row %d column %s: CSV %q, JSON %q", name, tb.Name, i, tb.Columns[j], recs[i+1][j], want)
					}
				}
			}
		}
		if name == "volume" && (r.Totals["created"] != 3.0 || r.Totals["resolved"] != 2.0 || r.Totals["messages_out"] != 2.0) {
			t.Errorf("volume totals %v", r.Totals)
		}
	}

	for _, c := range []struct{ query, field string }{
		{"range=fortnight", "range"},
		{"range=custom&from=yesterday", "from"},
		{"store=x", "store"},
		{"format=xml", "format"},
		{"format=csv&table=nope", "table"},
		{"tz=Nowhere/City", "tz"},
	} {
		if _, field := admin.must(400, "GET", "/api/reports/volume?"+c.query, nil).err(t); field != c.field {
			t.Errorf("%s: field %q, want %q", c.query, field, c.field)
		}
	}
	admin.must(404, "GET", "/api/reports/nope", nil)
	e.client().must(401, "GET", "/api/reports/volume", nil)
}
