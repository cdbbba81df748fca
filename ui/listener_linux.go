package ui

import (
	"net"

	"golang.org/x/sys/unix"
)

// refuseNew makes a listening socket turn new connections away, leaving
// those already queued to be accepted: a socket filter that passes
// nothing, so SYNs go unanswered (the client retries, and is refused once
// the socket closes, or reaches the next server on the port). Where the
// kernel takes no socket filters, the queue is shrunk to one instead:
// SYNs are dropped while a connection waits in it.
func refuseNew(ln *net.TCPListener) {
	raw, err := ln.SyscallConn()
	if err != nil {
		return
	}
	dropAll := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	raw.Control(func(fd uintptr) {
		err := unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
			&unix.SockFprog{Len: uint16(len(dropAll)), Filter: &dropAll[0]})
		if err != nil {
			unix.Listen(int(fd), 0)
		}
	})
}

// queued is how many connections wait in a listening socket's queue (the
// kernel reports it in TCP_INFO's unacked field for listeners).
func queued(ln *net.TCPListener) (n int, known bool) {
	raw, err := ln.SyscallConn()
	if err != nil {
		return 0, false
	}
	raw.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err == nil {
			n, known = int(info.Unacked), true
		}
	})
	return n, known
}
