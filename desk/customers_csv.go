package desk

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"onedesk/i18n"
)

// A shop's customer list as a spreadsheet saved as CSV (Excel, Google
// Sheets, a shop's export): read whatever its separator and its byte
// order mark, shown as a preview, then imported row by row, each row
// matched to the customer who has its address or number (one customer,
// one record).

// Limits of one CSV of customers.
const (
	MaxCSVRows    = 20000
	MaxCSVColumns = 50
	maxCSVCell    = 2000
)

// CSVTable is a read CSV: its header, its rows, and the line in the file
// each row starts on (what a spreadsheet shows as its row number).
type CSVTable struct {
	Delimiter string
	Header    []string
	Rows      [][]string
	Lines     []int
}

// CSVMapping says which column holds what (-1: none); the Notes columns
// are kept in the customer's notes as "Header: value" lines.
type CSVMapping struct {
	Name  int
	Email int
	Phone int
	Notes []int
}

// CSVSkipped is a row left out, and why.
type CSVSkipped struct {
	Row    int
	Field  string
	Reason i18n.Sentence
}

// CSVSummary is what an import of a CSV did.
type CSVSummary struct {
	Created   int
	Updated   int
	Unchanged int
	Skipped   []CSVSkipped
}

// ReadCustomerCSV reads a CSV file: UTF-8 with or without a byte order
// mark (else Windows-1252, what older Excel writes), its separator found
// among , ; tab and |, the first row its header.
func ReadCustomerCSV(data []byte) (*CSVTable, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		decoded, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return nil, inputErr("csv", "the file is not text in UTF-8")
		}
		data = decoded
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, inputErr("csv", "the file is empty")
	}
	delim := detectDelimiter(data)
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes, r.ReuseRecord = delim, -1, true, false
	t := &CSVTable{Delimiter: string(delim)}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := r.FieldPos(0)
			return nil, inputErr("csv", "row %d could not be read: %v", line, err)
		}
		line, _ := r.FieldPos(0)
		if t.Header == nil {
			if len(rec) > MaxCSVColumns {
				return nil, inputErr("csv", "the file has more than %d columns", MaxCSVColumns)
			}
			for _, h := range rec {
				t.Header = append(t.Header, cleanLine(h))
			}
			continue
		}
		if slices.IndexFunc(rec, func(v string) bool { return strings.TrimSpace(v) != "" }) < 0 {
			continue // a blank row
		}
		if len(t.Rows) == MaxCSVRows {
			return nil, inputErr("csv", "the file has more than %d rows: split it", MaxCSVRows)
		}
		t.Rows, t.Lines = append(t.Rows, rec), append(t.Lines, line)
	}
	if len(t.Header) == 0 {
		return nil, inputErr("csv", "the file is empty")
	}
	return t, nil
}

// detectDelimiter picks the separator that splits the first lines into
// the same number of columns, the most of them; a comma when none does.
func detectDelimiter(data []byte) rune {
	head := data[:min(len(data), 8192)]
	best, bestCols := ',', 1
	for _, d := range []rune{',', ';', '\t', '|'} {
		r := csv.NewReader(bytes.NewReader(head))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = d, 0, true
		cols, rows := 0, 0
		for rows < 10 {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
					cols = 0
				}
				break // the cut end of the sample
			}
			cols, rows = len(rec), rows+1
		}
		if cols > bestCols {
			best, bestCols = d, cols
		}
	}
	return best
}

// GuessCSVMapping maps the columns whose headers say what they hold.
func GuessCSVMapping(header []string) CSVMapping {
	m := CSVMapping{Name: -1, Email: -1, Phone: -1}
	words := map[string][]string{
		"email": {"email", "e-mail", "mail", "correo", "e-posta", "eposta", "почта", "электронная почта"},
		"phone": {"phone", "telephone", "tel", "mobile", "cell", "telefone", "telefon", "telefon numarası", "телефон", "celular"},
		"name":  {"name", "full name", "customer", "nome", "ad", "ad soyad", "isim", "jméno", "имя", "фио", "customer name"},
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case m.Email < 0 && slices.Contains(words["email"], h), m.Email < 0 && strings.Contains(h, "email"):
			m.Email = i
		case m.Phone < 0 && slices.Contains(words["phone"], h), m.Phone < 0 && strings.Contains(h, "phone"):
			m.Phone = i
		case m.Name < 0 && slices.Contains(words["name"], h):
			m.Name = i
		default:
			m.Notes = append(m.Notes, i)
		}
	}
	return m
}

// ImportCustomersCSV imports a read CSV's rows as customers: each row
// creates one, or completes the customer who owns its address or number
// (a name when it has none, another address, notes). A row that cannot be
// imported is skipped with its reason, and the rest go on.
func (d *Desk) ImportCustomersCSV(ctx context.Context, t *CSVTable, m CSVMapping) (*CSVSummary, error) {
	for _, col := range append([]int{m.Name, m.Email, m.Phone}, m.Notes...) {
		if col < -1 || col >= len(t.Header) {
			return nil, inputErr("mapping", "column %d is not in the file", col)
		}
	}
	if m.Email < 0 && m.Phone < 0 {
		return nil, inputErr("mapping", "choose the column with the email address or the phone number")
	}
	cell := func(row []string, col int) string {
		if col < 0 || col >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[col])
	}
	sum := &CSVSummary{Skipped: []CSVSkipped{}}
	for i, row := range t.Rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in := ImportedCustomer{Name: cell(row, m.Name)}
		if v := cell(row, m.Email); v != "" {
			in.Emails = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
		}
		if v := cell(row, m.Phone); v != "" {
			in.Phones = []string{v}
		}
		var notes []string
		for _, col := range m.Notes {
			if v := cell(row, col); v != "" {
				notes = append(notes, truncateRunes(t.Header[col]+": "+cleanLine(v), maxCSVCell))
			}
		}
		in.Notes = strings.Join(notes, "\n")
		if len(in.Emails) == 0 && len(in.Phones) == 0 {
			sum.Skipped = append(sum.Skipped, CSVSkipped{Row: t.Lines[i], Reason: i18n.S("no email address or phone number")})
			continue
		}
		done, err := d.ImportCustomer(ctx, in)
		if ie, ok := IsInput(err); ok {
			s := ie.Sentence
			if s.IsZero() {
				s = i18n.S("%s", ie.Message)
			}
			field := ie.Field
			if strings.HasPrefix(field, "emails") {
				field = "email"
			} else if strings.HasPrefix(field, "phones") {
				field = "phone"
			}
			sum.Skipped = append(sum.Skipped, CSVSkipped{Row: t.Lines[i], Field: field, Reason: s})
			continue
		}
		if err != nil {
			return nil, err
		}
		switch done.Outcome {
		case CustomerCreated:
			sum.Created++
		case CustomerUpdated:
			sum.Updated++
		default:
			sum.Unchanged++
		}
	}
	return sum, nil
}
