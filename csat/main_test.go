package csat_test

import (
	"os"
	"testing"

	"onedesk/desk/desktest"
	"onedesk/netguard"
)

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }

// The SMTP sink and webhook receivers listen on 127.0.0.1.
func init() { netguard.AllowPrivateNetworks(true) }
