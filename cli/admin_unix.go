//go:build !windows

package cli

import "os"

// isAdmin tells whether this process may manage services: root.
func isAdmin() bool { return os.Geteuid() == 0 }
