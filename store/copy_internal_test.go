package store

import (
	"strings"
	"testing"
)

// Values cross engines as the target's columns take them: SQLite's
// roll-up ids (integers in typeless columns) are text on PostgreSQL and
// integers again on the way back; SQLite's empty blob is not NULL.
func TestCopyConvertValue(t *testing.T) {
	for _, c := range []struct {
		in   any
		kind colKind
		want any
	}{
		{int64(7), kindText, "7"},
		{"7", kindAny, int64(7)},
		{"07", kindAny, "07"},
		{"email", kindAny, "email"},
		{[]byte("x"), kindText, "x"},
		{"x", kindBytes, []byte("x")},
		{[]byte(nil), kindBytes, []byte{}},
		{"42", kindInt, int64(42)},
		{true, kindInt, int64(1)},
		{nil, kindInt, nil},
	} {
		got, err := convertValue(c.in, c.kind)
		if err != nil || !equalValue(got, c.want) {
			t.Errorf("convertValue(%#v, %d) = %#v, %v; want %#v", c.in, c.kind, got, err, c.want)
		}
	}
	if _, err := convertValue("abc", kindInt); err == nil {
		t.Error("text into an integer column: no error")
	}
}

func equalValue(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && string(x) == string(y) && (x == nil) == (y == nil)
	}
	return a == b
}

// Tables come after those they refer to; a cycle is broken, not a hang.
func TestCopyTopoOrder(t *testing.T) {
	tables := map[string]copyTable{
		"messages":  {refs: []string{"tickets", "mailboxes"}},
		"mailboxes": {refs: []string{"messages"}},
		"tickets":   {refs: []string{"customers", "tickets"}},
		"customers": {refs: []string{"customers"}},
	}
	got := strings.Join(topoOrder([]string{"customers", "mailboxes", "messages", "tickets"}, tables), " ")
	if got != "customers tickets mailboxes messages" {
		t.Fatalf("order %q", got)
	}
}

func TestParseS3(t *testing.T) {
	t.Setenv("ONEDESK_S3_ACCESS_KEY", "k")
	t.Setenv("ONEDESK_S3_SECRET_KEY", "s")
	cfg, err := parseS3("s3://desk/files/?endpoint=127.0.0.1:9000&region=eu-west-1&tls=false")
	if err != nil || cfg.bucket != "desk" || cfg.prefix != "files" || cfg.endpoint != "127.0.0.1:9000" || cfg.secure || cfg.region != "eu-west-1" {
		t.Fatalf("%+v %v", cfg, err)
	}
	for spec, want := range map[string]string{
		"desk":                          "must be s3://bucket",
		"s3://k:s@desk":                 "must not hold keys",
		"s3://desk?endpoint=http://h:1": "without a scheme",
		"s3://desk?tls=maybe":           "tls must be true or false",
		"s3://desk?endpoint=h&bucket=x": `unknown setting "bucket"`,
	} {
		if _, err := parseS3(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseS3(%q): %v, want %q", spec, err, want)
		}
	}
	t.Setenv("ONEDESK_S3_ACCESS_KEY", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := parseS3("s3://desk"); err == nil || !strings.Contains(err.Error(), "ONEDESK_S3_ACCESS_KEY") {
		t.Errorf("no keys: %v", err)
	}
}
