// Package netguard keeps the desk's outbound connections (webhooks, order
// lookups, mailboxes, social platforms) off the machine's own network: a
// desk on a VPS must not be a proxy into it. Every outbound dial goes
// through one check of the address actually dialed, after DNS, so a name
// that resolves (or rebinds) to an internal address is refused too.
//
// Loopback, private (RFC 1918, unique-local fc00::/7), link-local (with
// the cloud metadata address 169.254.169.254), carrier-grade NAT,
// unspecified, multicast and reserved addresses are refused unless the
// desk was started with private networks allowed (--allow-private-networks
// or ONEDESK_ALLOW_PRIVATE_NETWORKS=1): a shop's own mail server on its
// LAN is a fair reason.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"onedesk/i18n"
)

var allowPrivate atomic.Bool

// AllowPrivateNetworks sets the process-wide switch that lets outbound
// connections reach internal addresses, and returns what it was.
func AllowPrivateNetworks(on bool) (was bool) { return allowPrivate.Swap(on) }

// PrivateNetworksAllowed tells whether the switch is on.
func PrivateNetworksAllowed() bool { return allowPrivate.Load() }

// ErrForbidden is the refusal of an internal address. Its text names
// neither the address nor anything that answered.
var ErrForbidden = i18n.Errorf("the address is on a private or local network, where onedesk does not connect " +
	"(to allow it, start onedesk with ONEDESK_ALLOW_PRIVATE_NETWORKS=1)")

// Resolver looks a host name up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard dials outbound connections. The zero value follows the process
// switch and the system resolver.
type Guard struct {
	// AllowPrivate lets this guard reach internal addresses whatever the
	// process switch says; Strict refuses them whatever it says.
	AllowPrivate, Strict bool
	// Resolver replaces the system's (tests map names to addresses).
	Resolver Resolver
	// Timeout bounds each connect; 0 is 20 seconds.
	Timeout time.Duration
}

// Default is the guard every outbound path uses.
var Default = &Guard{}

func (g *Guard) allowed() bool {
	if g.Strict {
		return false
	}
	return g.AllowPrivate || allowPrivate.Load()
}

// Forbidden tells whether ip is an address outbound connections must
// not reach (while private networks are not allowed).
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// reserved are ranges beside the standard library's predicates that
// lead into a local network or nowhere public.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("fec0::/10"),       // old site-local
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2002::/16"),       // 6to4, which can wrap a private IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo, likewise
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 of any IPv4 address, private ones too
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
}

// control refuses a socket about to connect to a forbidden address: the
// last word, on the address the kernel is given, after any resolution.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	if g.allowed() {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || Forbidden(ap.Addr()) {
		return ErrForbidden
	}
	return nil
}

func (g *Guard) resolver() Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// CheckHost returns ErrForbidden when host (a name or an address, IPv6
// with or without brackets) is or resolves to an address the guard would
// refuse, so a setting can be refused when it is saved rather than at
// its first use. A name that does not resolve passes: DNS may be down
// now, and the dial checks again anyway.
func (g *Guard) CheckHost(ctx context.Context, host string) error {
	if g.allowed() {
		return nil
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		if Forbidden(ip) {
			return ErrForbidden
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a save does not wait long on DNS
	defer cancel()
	ips, err := g.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range ips {
		if Forbidden(ip) {
			return ErrForbidden
		}
	}
	return nil
}

// CheckHost is Default.CheckHost.
func CheckHost(ctx context.Context, host string) error { return Default.CheckHost(ctx, host) }

// Dialer is a net.Dialer that refuses forbidden addresses.
func (g *Guard) Dialer() *net.Dialer {
	t := g.Timeout
	if t == 0 {
		t = 20 * time.Second
	}
	return &net.Dialer{Timeout: t, KeepAlive: 30 * time.Second, Control: g.control}
}

// DialContext connects to address (host:port) if it resolves to an
// address that is not forbidden. A name is resolved once here and the
// addresses it gave are dialed as such, each checked again by the
// dialer's control, so a rebinding name cannot slip past.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", portText, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		r := g.resolver()
		lookup := "ip"
		switch network {
		case "tcp4", "udp4":
			lookup = "ip4"
		case "tcp6", "udp6":
			lookup = "ip6"
		}
		if ips, err = r.LookupNetIP(ctx, lookup, host); err != nil {
			return nil, fmt.Errorf("look up %s: %w", host, err)
		}
	}
	d := g.Dialer()
	var firstErr error
	for _, ip := range ips {
		if !g.allowed() && Forbidden(ip) {
			if firstErr == nil {
				firstErr = ErrForbidden
			}
			continue
		}
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if firstErr == nil || errors.Is(firstErr, ErrForbidden) {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("look up %s: no address", host)
	}
	return nil, firstErr
}

// Transport is an HTTP transport whose every connection, redirects
// included, goes through g. It uses no proxy: a proxy would dial for us,
// past the check.
func (g *Guard) Transport() *http.Transport {
	return &http.Transport{
		DialContext:         g.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 15 * time.Second,
	}
}

// Client is an HTTP client through g with an overall timeout (0: none).
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: g.Transport(), Timeout: timeout}
}
