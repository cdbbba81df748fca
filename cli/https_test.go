package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"onedesk/store"
	"onedesk/store/storetest"
)

// selfSigned writes a new self-signed certificate for 127.0.0.1 and
// localhost and its key, and returns their files and the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "onedesk test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile, cert
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeHTTPSWithCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	plain := freeAddr(t)
	addr, _, _ := startServe(t, ServeConfig{Data: filepath.Join(dir, "desk.db"), TLSCert: certFile, TLSKey: keyFile, HTTPAddr: plain})
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	base := "https://" + addr
	c, _ := owner(t, base, &http.Client{Transport: tr})

	// Logged in over TLS: the session cookie is Secure and answers carry HSTS.
	res, err := c.Get(base + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Strict-Transport-Security") == "" || res.TLS == nil {
		t.Fatalf("GET /api/me over TLS: %d, HSTS %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	}
	if res.TLS.NegotiatedProtocol == "h2" {
		t.Fatal("HTTP/2 was negotiated: the websockets need HTTP/1.1")
	}
	res, err = c.Post(base+"/api/auth/login", "application/json", strings.NewReader(`{"email":"owner@shop.test","password":"correct horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(strings.ToLower(res.Header.Get("Set-Cookie")), "; secure") {
		t.Fatalf("login over TLS: %d, cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	// The agent websocket works over wss.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss://"+addr+"/agent/ws", &websocket.DialOptions{HTTPClient: c})
	if err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.Read(ctx); err != nil || !strings.Contains(string(b), `"hello"`) {
		t.Fatalf("agent socket over wss: %s %v", b, err)
	}
	ws.CloseNow()

	// Plain HTTP on the second address is sent to HTTPS, path and query kept.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noFollow.Get("http://" + plain + "/app/main.js?v=2")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	_, port, _ := net.SplitHostPort(addr)
	if want := "https://127.0.0.1:" + port + "/app/main.js?v=2"; res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
		t.Fatalf("plain HTTP: %d %q, want a redirect to %s", res.StatusCode, res.Header.Get("Location"), want)
	}
	// The certificate files are checked at start with a clear sentence.
	err = Serve(context.Background(), ServeConfig{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "other.db"), TLSCert: keyFile, TLSKey: keyFile,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("a key given as the certificate: %v", err)
	}
}

func TestPlainHTTPHasNoHSTS(t *testing.T) {
	addr, _, _ := startServe(t, ServeConfig{Data: filepath.Join(t.TempDir(), "desk.db")})
	c, _ := owner(t, "http://"+addr, &http.Client{})
	res, err := c.Get("http://" + addr + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("plain HTTP: %d, HSTS %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	}
}

// Without an ACME server to talk to, this checks the wiring of --domain:
// the defaults it implies, the certificate cache folder, which names get
// certificates, the directory URL, and what the plain-HTTP port answers.
func TestDomainFlagsAndCertificateManager(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "desk.db")
	cfg, err := serveConfig("serve", []string{"--data", data, "--domain", "Desk.Example.com,help.example.com",
		"--acme-email", "owner@example.com", "--acme-directory", "https://acme-staging-v02.api.letsencrypt.org/directory"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":443" || cfg.HTTPAddr != ":80" || cfg.Domain != "desk.example.com,help.example.com" {
		t.Fatalf("addr %q, http addr %q, domain %q", cfg.Addr, cfg.HTTPAddr, cfg.Domain)
	}
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := cfg.https(db)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(data + ".certs")
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Fatalf("certificate folder: %v %v", st, err)
	}
	if !slices.Contains(h.tls.NextProtos, acme.ALPNProto) || slices.Contains(h.tls.NextProtos, "h2") {
		t.Fatalf("ALPN %q", h.tls.NextProtos)
	}
	m, _ := cfg.autocert(db)
	ctx := context.Background()
	for _, host := range []string{"desk.example.com", "help.example.com"} {
		if err := m.HostPolicy(ctx, host); err != nil {
			t.Fatalf("%s refused: %v", host, err)
		}
	}
	if err := m.HostPolicy(ctx, "evil.example.com"); err == nil {
		t.Fatal("a certificate would be asked for any name")
	}
	// A hello for another name is refused before any ACME traffic.
	if _, err := h.tls.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example.com"}); err == nil {
		t.Fatal("a certificate was made for another name")
	}
	if m.Client.DirectoryURL != "https://acme-staging-v02.api.letsencrypt.org/directory" || m.Email != "owner@example.com" {
		t.Fatalf("directory %q, email %q", m.Client.DirectoryURL, m.Email)
	}
	// Port 80 answers ACME's http-01 challenges itself and sends the rest to HTTPS.
	srv := &http.Server{Handler: h.insecure("443")}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
		req.Host = "desk.example.com"
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := get("/app/"); res.Header.Get("Location") != "https://desk.example.com/app/" {
		t.Fatalf("plain HTTP: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := get("/.well-known/acme-challenge/no-such-token"); res.StatusCode/100 == 3 {
		t.Fatalf("an ACME challenge was redirected: %d", res.StatusCode)
	}

	// --addr given keeps its port; off turns the redirect off.
	cfg, err = serveConfig("serve", []string{"--domain", "desk.example.com", "--addr", ":8443", "--http-addr", "off"}, io.Discard)
	if err != nil || cfg.Addr != ":8443" || cfg.HTTPAddr != "" {
		t.Fatalf("addr %q, http addr %q, %v", cfg.Addr, cfg.HTTPAddr, err)
	}
}

func TestHTTPSFlagMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-key", "k.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--domain", "desk.example.com"}, "either --domain or --tls-cert"},
		{[]string{"--acme-email", "a@b.c"}, "go with --domain"},
		{[]string{"--http-addr", ":80"}, "it needs --domain, or --tls-cert"},
		{[]string{"--domain", "https://desk.example.com"}, "--domain takes domain names"},
		{[]string{"--trusted-proxy", "10.0.0.0/33"}, "--trusted-proxy takes addresses or CIDRs"},
	} {
		code, _, stderr := run(append([]string{"serve"}, tc.args...)...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve %v: code %d, %q; want %q", tc.args, code, stderr, tc.want)
		}
	}
	p, err := parseCIDRs("10.0.0.0/8, 192.168.1.7 ,::1")
	if err != nil || len(p) != 3 || p[1].Bits() != 32 || p[2].Bits() != 128 {
		t.Fatalf("%v %v", p, err)
	}
}

// --domain on PostgreSQL: every node's certificate manager keeps its
// cache in the database, so what one node's manager stored (a certificate,
// a challenge's token) the other's finds; no folder is made.
func TestDomainOnPostgresSharesCertificates(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	var managers []*autocert.Manager
	for range 2 {
		cfg, err := serveConfig("serve", []string{"--data", url, "--domain", "desk.example.com"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		m, err := cfg.autocert(db)
		if err != nil {
			t.Fatal(err)
		}
		managers = append(managers, m)
	}
	if err := managers[0].Cache.Put(ctx, "tok-1+http-01", []byte("tok-1.key-auth")); err != nil {
		t.Fatal(err)
	}
	if got, err := managers[1].Cache.Get(ctx, "tok-1+http-01"); err != nil || string(got) != "tok-1.key-auth" {
		t.Fatalf("the other node's manager reads %q, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a certificate folder was made on PostgreSQL: %v", entries)
	}
}
