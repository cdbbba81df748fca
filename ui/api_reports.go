package ui

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/reports"
	"onedesk/store"
)

// report answers GET /api/reports/{name}, as JSON or one table as CSV.
func (s *Server) report(c *fiber.Ctx, p *principal) error {
	q := reports.Query{Range: c.Query("range"), From: c.Query("from"), To: c.Query("to"), TZ: c.Query("tz"),
		By: c.Query("by"), Compare: c.Query("compare") != "0",
		Filter: store.ReportFilter{Channel: c.Query("channel"), Tag: c.Query("tag")}}
	for _, f := range []struct {
		name string
		to   **int64
	}{{"store", &q.Filter.StoreID}, {"team", &q.Filter.TeamID}, {"agent", &q.Filter.AgentID}} {
		if v := c.Query(f.name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 0 {
				return fieldErr(f.name, "%s must be an id (0 for none), not %q", f.name, v)
			}
			*f.to = &id
		}
	}
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fieldErr("days", "days is from 1 to %d", reports.RevenueDaysMax)
		}
		q.Days = n
	}
	if p.limited() {
		// An agent of some stores reads their stores' figures only: one
		// store's come from the roll-ups, several are summed from tickets.
		switch {
		case q.Filter.StoreID != nil && !p.seesStore(q.Filter.StoreID):
			return fieldErr("store", "you work in some stores only: choose one of them")
		case q.Filter.StoreID == nil && len(p.stores()) == 1:
			q.Filter.StoreID = &p.stores()[0]
		case q.Filter.StoreID == nil:
			q.Filter.Stores = p.stores()
		}
	}
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return fieldErr("format", "format must be json or csv")
	}
	r, err := s.reports.Report(c.UserContext(), c.Params("name"), q)
	if err != nil {
		return err
	}
	if format == "json" {
		return c.JSON(r)
	}
	name := c.Query("table")
	if name == "" && len(r.Tables) > 0 {
		name = r.Tables[0].Name
	}
	t := r.Table(name)
	if t == nil {
		names := make([]string, len(r.Tables))
		for i, t := range r.Tables {
			names[i] = t.Name
		}
		return fieldErr("table", "the %s report has the tables %s", r.Report, strings.Join(names, ", "))
	}
	body, err := reportCSV(t)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="onedesk-%s-%s-%s-%s.csv"`,
		r.Report, t.Name, r.Range.From, r.Range.To))
	return c.Send(body)
}

// reportCSV writes a table as CSV: a header row, then the cells as in
// JSON (null as an empty cell).
func reportCSV(t *reports.Table) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(t.Columns); err != nil {
		return nil, err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, v := range row {
			rec[i] = csvCell(v)
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func csvCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		// A name starting like a formula is not run by a spreadsheet.
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			return "'" + v
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
