package macros_test

import (
	"os"
	"testing"

	"onedesk/desk/desktest"
)

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }
