package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"onedesk/store"
	"onedesk/ui"
)

// httpsFlags defines the HTTPS flags of serve on fs, read into cfg.
func httpsFlags(fs *flag.FlagSet, cfg *ServeConfig) {
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "a certificate file (PEM, with its chain): serve HTTPS on --addr")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "the certificate's private key file (PEM)")
	fs.StringVar(&cfg.Domain, "domain", "", "get certificates for this domain (comma-separated for several) from Let's Encrypt and serve HTTPS on :443")
	fs.StringVar(&cfg.ACMEEmail, "acme-email", "", "with --domain: the address the certificate authority writes to about expiring certificates")
	fs.StringVar(&cfg.ACMEDirectory, "acme-directory", "", "with --domain: the ACME directory URL (default Let's Encrypt; its staging URL for trials)")
	fs.StringVar(&cfg.CertDir, "certs", "", "with --domain: the folder certificates are kept in (default: beside the data file; with a PostgreSQL URL, the database, shared by every node)")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", "", "with HTTPS: also listen here for plain HTTP, redirected to HTTPS (with --domain :80 unless given; off for none)")
}

// checkHTTPS checks the HTTPS flags together and fills in what --domain
// implies: :443 unless --addr was given, and :80 for the redirect.
func (cfg *ServeConfig) checkHTTPS(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	_, addrFromEnv := os.LookupEnv("ONEDESK_ADDR")
	cfg.Domain = strings.ToLower(strings.TrimSpace(cfg.Domain))
	switch {
	case (cfg.TLSCert == "") != (cfg.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together: give both files, or neither")
	case cfg.TLSCert != "" && cfg.Domain != "":
		return errors.New("--domain gets certificates by itself: give either --domain or --tls-cert and --tls-key")
	case cfg.Domain == "" && (cfg.ACMEEmail != "" || cfg.ACMEDirectory != ""):
		return errors.New("--acme-email and --acme-directory go with --domain")
	case cfg.TLSCert == "" && cfg.Domain == "" && cfg.HTTPAddr != "" && cfg.HTTPAddr != "off":
		return errors.New("--http-addr redirects to HTTPS: it needs --domain, or --tls-cert and --tls-key")
	}
	if cfg.Domain != "" {
		for _, d := range strings.Split(cfg.Domain, ",") {
			if d = strings.TrimSpace(d); d == "" || strings.ContainsAny(d, "/: ") || !strings.Contains(d, ".") {
				return fmt.Errorf("--domain takes domain names like desk.example.com, not %q", d)
			}
		}
		if !given["addr"] && !addrFromEnv {
			cfg.Addr = ":443"
		}
		if cfg.HTTPAddr == "" {
			cfg.HTTPAddr = ":80"
		}
	}
	if cfg.HTTPAddr == "off" {
		cfg.HTTPAddr = ""
	}
	return nil
}

// parseCIDRs reads --trusted-proxy: CIDRs or single addresses.
func parseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxy takes addresses or CIDRs like 10.0.0.0/8, not %q", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy takes addresses or CIDRs like 10.0.0.0/8, not %q", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// https is how Serve answers HTTPS: the TLS configuration (nil for plain
// HTTP) and the handler of the plain-HTTP listener (redirects, and ACME
// challenges with --domain).
type https struct {
	tls      *tls.Config
	insecure func(httpsPort string) http.Handler
}

// certDir is where certificates from ACME are kept: --certs, else beside
// the data file; "" on PostgreSQL, whose desk keeps them in the database
// (store.ACMECache), so that every node serves the same certificate and
// any node answers a challenge. A SQLite desk keeps its folder: it has
// one node, and its certificates stay where they have always been.
func (cfg *ServeConfig) certDir() string {
	switch {
	case cfg.CertDir != "":
		return cfg.CertDir
	case store.IsPostgres(cfg.Data):
		return ""
	}
	return cfg.Data + ".certs"
}

func (cfg *ServeConfig) https(db *store.DB) (*https, error) {
	switch {
	case cfg.TLSCert != "":
		kp, err := newKeyPair(cfg.TLSCert, cfg.TLSKey, cfg.Log)
		if err != nil {
			return nil, err
		}
		return &https{
			tls:      &tls.Config{GetCertificate: kp.get, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12},
			insecure: ui.RedirectToHTTPS,
		}, nil
	case cfg.Domain != "":
		m, err := cfg.autocert(db)
		if err != nil {
			return nil, err
		}
		t := m.TLSConfig()
		// HTTP/1.1 only: the websockets need it, and it is plenty here.
		t.NextProtos = []string{"http/1.1", acme.ALPNProto}
		t.MinVersion = tls.VersionTLS12
		return &https{tls: t, insecure: func(port string) http.Handler { return m.HTTPHandler(ui.RedirectToHTTPS(port)) }}, nil
	}
	return &https{}, nil
}

// autocert is the ACME certificate manager for --domain: certificates for
// those names only, kept in an owner-only folder beside the data file, or
// in the database (certDir).
func (cfg *ServeConfig) autocert(db *store.DB) (*autocert.Manager, error) {
	var cache autocert.Cache = db.ACMECache()
	if dir := cfg.certDir(); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("certificate folder: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("certificate folder: %w", err)
		}
		cache = autocert.DirCache(dir)
	}
	var names []string
	for _, d := range strings.Split(cfg.Domain, ",") {
		names = append(names, strings.TrimSpace(d))
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cache,
		HostPolicy: autocert.HostWhitelist(names...),
		Email:      cfg.ACMEEmail,
	}
	if cfg.ACMEDirectory != "" {
		m.Client = &acme.Client{DirectoryURL: cfg.ACMEDirectory}
	}
	return m, nil
}

// keyPair serves a certificate from files, read again when they change
// (looked at once a minute), so a renewal by certbot or the like needs no
// restart.
type keyPair struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	mod     time.Time
	checked time.Time
}

func newKeyPair(certFile, keyFile string, log *slog.Logger) (*keyPair, error) {
	kp := &keyPair{certFile: certFile, keyFile: keyFile, log: log}
	if err := kp.load(); err != nil {
		return nil, err
	}
	return kp, nil
}

func (kp *keyPair) modTime() time.Time {
	var latest time.Time
	for _, f := range []string{kp.certFile, kp.keyFile} {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest
}

func (kp *keyPair) load() error {
	mod := kp.modTime()
	c, err := tls.LoadX509KeyPair(kp.certFile, kp.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s and --tls-key %s: %w", kp.certFile, kp.keyFile, err)
	}
	kp.cert, kp.mod, kp.checked = &c, mod, time.Now()
	return nil
}

func (kp *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if time.Since(kp.checked) > time.Minute {
		kp.checked = time.Now()
		if kp.modTime().After(kp.mod) {
			if err := kp.load(); err != nil {
				kp.log.Error("the certificate files changed but cannot be read: still serving the old certificate", "err", err)
			} else {
				kp.log.Info("certificate reloaded", "file", kp.certFile)
			}
		}
	}
	return kp.cert, nil
}

// serveInsecure answers plain HTTP on ln with h until ctx ends.
func serveInsecure(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("plain HTTP listener stopped", "addr", ln.Addr().String(), "err", err)
	}
}
