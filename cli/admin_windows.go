package cli

import "golang.org/x/sys/windows"

// isAdmin tells whether this process may manage services: an elevated
// administrator.
func isAdmin() bool { return windows.GetCurrentProcessToken().IsElevated() }
