package cli

import (
	"os"
	"testing"

	"onedesk/store/storetest"
)

// TestMain stops the package's private PostgreSQL cluster, if a test
// started one (the two-node and copy tests).
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
