package fetch_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/fetch"
)

// FuzzCheck: Check never panics; what it accepts is an http or https URL
// without credentials whose host is a public IP address or a plain DNS
// name other than localhost, and accepts again once re-serialised; what it
// refuses comes with a short *Error of kind BadURL or Refused that names no
// address.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		"http://example.com/a.png", "https://8.8.8.8:443/x", "http://[2606:4700::1]/", "http://127.0.0.1/",
		"http://[::ffff:127.0.0.1]/", "http://0x7f.1/", "http://user@example.com/", "file:///etc/passwd",
		"http://LOCALHOST./", "http://%31%32%37.0.0.1/", "http://[fe80::1%25eth0]/", "http:\\\\example.com",
		"http://example.com:0/", "http://ex\u00e4mple.com/", "http://[64:ff9b::a9fe:a9fe]/",
	} {
		f.Add(seed)
	}
	c, err := fetch.New(fetch.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := c.Check(raw)
		if err != nil {
			var e *fetch.Error
			if !errors.As(err, &e) || (e.Kind != fetch.BadURL && e.Kind != fetch.Refused) {
				t.Fatalf("Check(%q) = %v (%T), want a BadURL or Refused *Error", raw, err, err)
			}
			if msg := err.Error(); len(msg) > 120 || leaky.MatchString(msg) {
				t.Fatalf("Check(%q): message %q", raw, msg)
			}
			return
		}
		if len(raw) > fetch.MaxURLLength || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
			t.Fatalf("Check accepted %q: scheme %q, user %v", raw, u.Scheme, u.User)
		}
		host := u.Hostname()
		if addr, err := netip.ParseAddr(host); err == nil {
			if !fetch.Public(addr) || addr.Is4In6() {
				t.Fatalf("Check accepted %q: address %v is not public", raw, addr)
			}
		} else {
			name := strings.ToLower(strings.TrimSuffix(host, "."))
			if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" ||
				name == "localhost" || strings.HasSuffix(name, ".localhost") {
				t.Fatalf("Check accepted %q: host %q", raw, host)
			}
		}
		if _, err := c.Check(u.String()); err != nil {
			t.Fatalf("Check accepted %q but not its re-serialisation %q: %v", raw, u.String(), err)
		}
	})
}
