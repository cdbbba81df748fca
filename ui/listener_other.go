//go:build !linux

package ui

import "net"

// refuseNew does nothing where sockets take no filter: the drain then
// serves whatever comes in until the queue stays empty for a moment.
func refuseNew(*net.TCPListener) {}

// queued is not known here.
func queued(*net.TCPListener) (int, bool) { return 0, false }
