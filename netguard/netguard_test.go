package netguard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"onedesk/netguard"
)

// stubResolver maps names to addresses without asking any DNS server:
// no packet leaves the machine, whatever a name stands for.
type stubResolver map[string][]string

func (r stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	list, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range list {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func TestForbiddenAddresses(t *testing.T) {
	for _, s := range []string{
		"127.0.0.1", "127.8.9.10", "::1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254",
		"fe80::1", "fc00::1", "fd12:3456::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "100.64.0.1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "255.255.255.255", "198.18.0.1", "64:ff9b::a00:5",
	} {
		if !netguard.Forbidden(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
	}
	for _, s := range []string{"93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "151.101.1.140"} {
		if netguard.Forbidden(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
}

// The guard refuses internal addresses before any connection is tried:
// literal ones, names that resolve to them, and names that resolve to a
// mix (a rebinding name's second answer).
func TestGuardRefusesBeforeDialing(t *testing.T) {
	g := &netguard.Guard{Strict: true, Resolver: stubResolver{
		"metadata.test": {"169.254.169.254"},
		"intranet.test": {"10.0.0.5"},
		"v6.test":       {"fd00::5"},
		"loop.test":     {"127.0.0.1"},
	}}
	for _, addr := range []string{"169.254.169.254:80", "[fd00::1]:443", "10.0.0.5:25", "metadata.test:80",
		"intranet.test:993", "v6.test:443", "loop.test:587", "[::ffff:10.0.0.5]:80"} {
		conn, err := g.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			conn.Close()
			t.Fatalf("%s: connected", addr)
		}
		if !errors.Is(err, netguard.ErrForbidden) {
			t.Errorf("%s: %v, want the refusal", addr, err)
		}
		if strings.Contains(err.Error(), "169.254") || strings.Contains(err.Error(), "10.0.0.5") {
			t.Errorf("%s: the refusal names the address: %v", addr, err)
		}
	}
	// The dialer's control refuses on its own too (what imapclient uses):
	// on an IP literal it is called before the connect.
	if _, err := g.Dialer().DialContext(t.Context(), "tcp", "169.254.169.254:80"); !errors.Is(err, netguard.ErrForbidden) {
		t.Errorf("dialer: %v, want the refusal", err)
	}
}

// A local server stands for both an internal service and, with the
// allowance, a shop's own mail server on its LAN.
func TestGuardAllowsPrivateWhenAsked(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "internal secret")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	names := stubResolver{"shop-lan.test": {"127.0.0.1"}}

	strict := &netguard.Guard{Strict: true, Resolver: names}
	for _, u := range []string{srv.URL, "http://shop-lan.test:" + port} {
		_, err := strict.Client(0).Get(u)
		if !errors.Is(err, netguard.ErrForbidden) {
			t.Fatalf("%s: %v, want the refusal", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests reached the local server", hits.Load())
	}

	allowing := &netguard.Guard{AllowPrivate: true, Resolver: names}
	res, err := allowing.Client(0).Get("http://shop-lan.test:" + port)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "internal secret" {
		t.Fatalf("body %q", b)
	}

	// The process switch is what the zero guard follows.
	was := netguard.AllowPrivateNetworks(false)
	defer netguard.AllowPrivateNetworks(was)
	if _, err := (&netguard.Guard{}).Client(0).Get(srv.URL); !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("switch off: %v", err)
	}
	netguard.AllowPrivateNetworks(true)
	res, err = (&netguard.Guard{}).Client(0).Get(srv.URL)
	if err != nil {
		t.Fatalf("switch on: %v", err)
	}
	res.Body.Close()
}

// Redirects are dialed through the guard too.
func TestGuardFollowsRedirectsThroughTheCheck(t *testing.T) {
	var hits atomic.Int64
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer inside.Close()
	port := inside.URL[strings.LastIndex(inside.URL, ":")+1:]
	// An "outside" name the guard lets through only for the first hop: the
	// stub answers 127.0.0.1 for the redirect target, which is refused.
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://metadata.test:"+port+"/latest/meta-data/", http.StatusFound)
	}))
	defer outside.Close()
	g := &netguard.Guard{Resolver: stubResolver{"metadata.test": {"127.0.0.1"}}}
	// The first hop is allowed by dialing the test server directly.
	client := g.Client(0)
	client.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == strings.TrimPrefix(outside.URL, "http://") {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		return (&netguard.Guard{Strict: true, Resolver: g.Resolver}).DialContext(ctx, network, addr)
	}
	_, err := client.Get(outside.URL)
	if !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("redirect: %v, want the refusal", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the redirect reached the inside server")
	}
}

// CheckHost says at save time what the dial would refuse; a name that
// does not resolve passes (the dial checks again).
func TestCheckHost(t *testing.T) {
	g := &netguard.Guard{Strict: true, Resolver: stubResolver{
		"rebind.test": {"93.184.216.34", "10.0.0.5"}, "public.test": {"93.184.216.34"}}}
	for host, refused := range map[string]bool{"127.0.0.1": true, "10.1.2.3": true, "169.254.169.254": true, "[::1]": true,
		"::1": true, "rebind.test": true, "public.test": false, "93.184.216.34": false, "nowhere.test": false} {
		if err := g.CheckHost(t.Context(), host); errors.Is(err, netguard.ErrForbidden) != refused {
			t.Errorf("%s: %v, want refused %v", host, err, refused)
		}
	}
	allowing := &netguard.Guard{AllowPrivate: true, Resolver: g.Resolver}
	if err := allowing.CheckHost(t.Context(), "127.0.0.1"); err != nil {
		t.Errorf("allowed: %v", err)
	}
}
