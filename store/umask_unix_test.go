//go:build unix

package store_test

import "syscall"

// setUmask sets the process's umask and returns the old one.
func setUmask(mask int) int { return syscall.Umask(mask) }
