package ui

import (
	"net"

	"golang.org/x/sys/unix"
)

// refuseNew makes a listening socket drop new connection attempts (a
// socket filter that passes nothing), leaving those already queued to be
// accepted. A client's SYN then goes unanswered until the socket closes
// and is refused, or reaches the next server on the port.
func refuseNew(ln *net.TCPListener) {
	raw, err := ln.SyscallConn()
	if err != nil {
		return
	}
	dropAll := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	raw.Control(func(fd uintptr) {
		unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
			&unix.SockFprog{Len: uint16(len(dropAll)), Filter: &dropAll[0]})
	})
}
