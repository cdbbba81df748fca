// Package loadtest is what the load tests share: onedesk started as a
// second process on a fresh data folder, and its memory read from /proc.
package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Server is a running onedesk.
type Server struct {
	Addr string // host:port
	Base string // http://host:port
	cmd  *exec.Cmd
	dir  string
}

// Start runs the binary bin on a free loopback port and a new database,
// without the API rate limit, and waits until it answers /healthz. extra
// flags are added to its command line.
func Start(bin, name string, extra ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", name+"-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"--addr", addr, "--data", filepath.Join(dir, "load.db"), "--api-rate", "-1", "--log-level", "warn"}, extra...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{Addr: addr, Base: "http://" + addr, cmd: cmd, dir: dir}
	for range 100 {
		if res, err := http.Get(s.Base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	return nil, errors.New("onedesk did not answer /healthz")
}

// Stop kills the server and removes its data folder.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// RSS and Peak are the server's resident and peak memory.
func (s *Server) RSS() string  { return s.status("VmRSS:") }
func (s *Server) Peak() string { return s.status("VmHWM:") }

func (s *Server) status(key string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return "unknown (no /proc)"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key) {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return fmt.Sprintf("%.1f MB", float64(kb)/1024)
		}
	}
	return "unknown"
}
