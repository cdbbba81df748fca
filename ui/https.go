package ui

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/httperr"
)

// hstsValue asks browsers to come back over HTTPS only, for a year.
const hstsValue = "max-age=31536000"

// forwarded settles, before anything else reads a request, who sent it
// and whether it came over HTTPS. X-Forwarded-For and X-Forwarded-Proto
// are believed only from a trusted proxy (Options.TrustedProxies): then
// the client's address (the nearest one the proxies did not add) replaces
// RemoteAddr, which the rate limits and logs read. From anyone else both
// headers are dropped. Afterwards X-Forwarded-Proto is "https" exactly
// when the client's request was HTTPS, and such answers carry HSTS.
func (s *Server) forwarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		https := r.TLS != nil
		if s.trusted(r.RemoteAddr) {
			if ip := s.clientIP(r.Header.Values("X-Forwarded-For")); ip.IsValid() {
				r.RemoteAddr = netip.AddrPortFrom(ip, 0).String()
			}
			// The proxy nearest to us wrote the last value.
			if p := r.Header.Values("X-Forwarded-Proto"); len(p) > 0 {
				vals := strings.Split(p[len(p)-1], ",")
				https = strings.EqualFold(strings.TrimSpace(vals[len(vals)-1]), "https")
			}
		}
		r.Header.Del("X-Forwarded-For")
		r.Header.Del("X-Forwarded-Proto")
		r.Header.Del("X-Forwarded-Host")
		r.Header.Del("Forwarded")
		if https {
			r.Header.Set("X-Forwarded-Proto", "https")
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}

// trusted tells whether a peer (host:port) is one of the trusted proxies.
func (s *Server) trusted(remote string) bool {
	if len(s.opts.TrustedProxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	return s.trustedAddr(ap.Addr())
}

func (s *Server) trustedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP reads X-Forwarded-For from the right: each proxy appends the
// address it got the request from, so the first address from the right
// that is not a trusted proxy is the client (anything left of it the
// client could have written itself).
func (s *Server) clientIP(headers []string) netip.Addr {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	var ip netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		ip = a.Unmap()
		if !s.trustedAddr(ip) {
			break
		}
	}
	return ip
}

// overHTTPS tells whether the client's request came over HTTPS (after
// forwarded has settled it).
func overHTTPS(c *fiber.Ctx) bool {
	return c.Get("X-Forwarded-Proto") == "https"
}

// secureCookies tells whether a session cookie set in answer to this
// request must be Secure: over HTTPS, or when the desk's URL is https.
func (s *Server) secureCookies(c *fiber.Ctx) bool {
	return s.secure || overHTTPS(c)
}

// RedirectToHTTPS answers plain HTTP with a redirect to the same URL over
// HTTPS (on httpsPort unless that is 443): permanent for GET and HEAD,
// 308 for other methods so that a form post keeps its body.
func RedirectToHTTPS(httpsPort string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			httperr.Write(w, http.StatusBadRequest, "the request names no host", "")
			return
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		if httpsPort != "" && httpsPort != "443" {
			host += ":" + httpsPort
		}
		status := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			status = http.StatusMovedPermanently
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), status)
	})
}
