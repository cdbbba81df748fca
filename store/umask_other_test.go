//go:build !unix

package store_test

// setUmask does nothing where there is no umask (Windows).
func setUmask(int) int { return 0 }
