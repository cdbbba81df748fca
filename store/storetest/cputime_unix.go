//go:build unix

package storetest

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time this process has used: a benchmark's own cost
// on a busy machine, where wall time measures the neighbours too.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
