package rules_test

import (
	"os"
	"testing"

	"onedesk/store/storetest"
)

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(storetest.Twice(m)) }
