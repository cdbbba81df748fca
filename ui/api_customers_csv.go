package ui

import (
	"encoding/base64"

	"github.com/gofiber/fiber/v2"

	"onedesk/audit"
	"onedesk/desk"
)

// Customers from a CSV file (Customers → Import CSV): a preview of the
// first rows with a guessed mapping of the columns, then the import.

// maxCSVBody bounds the JSON carrying a CSV file (its text in "csv").
const maxCSVBody = 6 << 20

// csvPreviewRows is how many rows the preview shows.
const csvPreviewRows = 5

// csvBody carries the file as text, or as its bytes in base64 (a file
// that is not UTF-8 survives only that way: JSON strings are Unicode).
type csvBody struct {
	CSV       string      `json:"csv"`
	CSVBase64 string      `json:"csv_base64"`
	Mapping   *csvMapping `json:"mapping"`
}

// csvMapping is desk.CSVMapping as JSON: a column's index, or null.
type csvMapping struct {
	Name  *int  `json:"name"`
	Email *int  `json:"email"`
	Phone *int  `json:"phone"`
	Notes []int `json:"notes"`
}

func mappingJSON(m desk.CSVMapping) csvMapping {
	col := func(i int) *int {
		if i < 0 {
			return nil
		}
		return &i
	}
	notes := m.Notes
	if notes == nil {
		notes = []int{}
	}
	return csvMapping{Name: col(m.Name), Email: col(m.Email), Phone: col(m.Phone), Notes: notes}
}

func (m csvMapping) mapping() desk.CSVMapping {
	col := func(i *int) int {
		if i == nil {
			return -1
		}
		return *i
	}
	return desk.CSVMapping{Name: col(m.Name), Email: col(m.Email), Phone: col(m.Phone), Notes: m.Notes}
}

// readCSV reads the CSV a request carries; an agent of some stores may
// not import (the rows would reach customers of every store).
func readCSV(c *fiber.Ctx, p *principal) (*desk.CSVTable, *csvBody, error) {
	if p.limited() {
		return nil, nil, apiErr(fiber.StatusForbidden, "", "an agent of some stores cannot import customers")
	}
	var b csvBody
	if err := decode(c, &b); err != nil {
		return nil, nil, err
	}
	data := []byte(b.CSV)
	if b.CSVBase64 != "" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(b.CSVBase64); err != nil {
			return nil, nil, fieldErr("csv_base64", "the content of %s is not base64", "csv_base64")
		}
	}
	t, err := desk.ReadCustomerCSV(data)
	return t, &b, err
}

func (s *Server) previewCustomersCSV(c *fiber.Ctx, p *principal) error {
	t, _, err := readCSV(c, p)
	if err != nil {
		return err
	}
	rows := t.Rows[:min(len(t.Rows), csvPreviewRows)]
	return c.JSON(fiber.Map{"delimiter": t.Delimiter, "header": t.Header, "rows": rows, "lines": t.Lines[:len(rows)],
		"total": len(t.Rows), "mapping": mappingJSON(desk.GuessCSVMapping(t.Header))})
}

func (s *Server) importCustomersCSV(c *fiber.Ctx, p *principal) error {
	if !s.csvLimit.Allow("a" + itoa(p.agent.ID)) {
		return &apiError{Status: fiber.StatusTooManyRequests, Message: "too many requests: slow down and retry in a few seconds"}
	}
	t, b, err := readCSV(c, p)
	if err != nil {
		return err
	}
	m := desk.GuessCSVMapping(t.Header)
	if b.Mapping != nil {
		m = b.Mapping.mapping()
	}
	sum, err := s.desk.ImportCustomersCSV(c.UserContext(), t, m)
	if err != nil {
		return err
	}
	lang := requestLanguage(c)
	type skipped struct {
		Row    int    `json:"row"`
		Field  string `json:"field,omitempty"`
		Reason string `json:"reason"`
	}
	out := make([]skipped, 0, len(sum.Skipped))
	for _, sk := range sum.Skipped {
		out = append(out, skipped{Row: sk.Row, Field: sk.Field, Reason: sk.Reason.In(lang)})
	}
	s.record(c, p, audit.CustomersImported, "", map[string]any{"created": sum.Created, "updated": sum.Updated,
		"unchanged": sum.Unchanged, "skipped": len(sum.Skipped)})
	return c.JSON(fiber.Map{"created": sum.Created, "updated": sum.Updated, "unchanged": sum.Unchanged, "skipped": out})
}
