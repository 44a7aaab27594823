package fetch

import (
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxURLLength is the longest URL, in bytes, a Client accepts (the
// client's and every redirect's).
const MaxURLLength = 8 << 10

// MaxFileNameLength bounds [Response.FileName], in bytes.
const MaxFileNameLength = 255

// Check parses rawURL and reports, without any network traffic, whether
// the client would try to fetch it: an absolute http or https URL of at
// most MaxURLLength bytes, without credentials (user:password@, which
// would end up in logs and is a classic way to disguise a host), whose
// host is a DNS name (ASCII; internationalised names in their xn-- form)
// other than localhost, or an IP address literal that is permitted. The
// error, if any, is an *Error of Kind BadURL or Refused. A name that
// passes may still resolve to an address that is refused when the client
// connects.
func (c *Client) Check(rawURL string) (*url.URL, error) {
	u, err := c.check(rawURL)
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (c *Client) check(rawURL string) (*url.URL, *Error) {
	if len(rawURL) > MaxURLLength {
		return nil, badURL("longer than " + strconv.Itoa(MaxURLLength) + " bytes")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, badURL("not a valid URL")
	}
	if e := c.checkURL(u); e != nil {
		return nil, e
	}
	return u, nil
}

// checkURL applies Check's rules to a parsed URL, the client's or a
// redirect's.
func (c *Client) checkURL(u *url.URL) *Error {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return badURL("only http and https URLs can be fetched")
	case u.Opaque != "" || u.Host == "":
		return badURL("no host")
	case u.User != nil:
		return badURL("credentials in the URL are not accepted")
	case len(u.String()) > MaxURLLength:
		return badURL("longer than " + strconv.Itoa(MaxURLLength) + " bytes")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return badURL("port out of range")
		}
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		return c.checkLiteral(addr, strings.HasPrefix(u.Host, "["))
	}
	if reason := checkHostname(host); reason != "" {
		return badURL(reason)
	}
	if name := strings.ToLower(strings.TrimSuffix(host, ".")); name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return refused("the name is reserved for this host")
	}
	return nil
}

// checkLiteral judges a host given as an IP address. An IPv4-mapped IPv6
// literal (http://[::ffff:127.0.0.1]/) is refused whatever Allow says: it
// reaches the IPv4 address, and no honest URL writes one that way.
func (c *Client) checkLiteral(addr netip.Addr, bracketed bool) *Error {
	switch {
	case addr.Is4() == bracketed:
		return badURL("malformed IP address")
	case addr.Is4In6():
		return refused("IPv4-mapped IPv6 addresses are not fetched")
	case !c.permitted(addr):
		return refused("the address is not public")
	}
	return nil
}

// checkHostname returns why host is not an acceptable DNS name, or "".
func checkHostname(host string) string {
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return "bad host name"
	}
	labels := strings.Split(name, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 {
			return "bad host name"
		}
		for i := range len(label) {
			if b := label[i]; !isAlnum(b) && b != '-' && b != '_' {
				return "host names must be ASCII (letters, digits, '-', '_'; xn-- for other scripts)"
			}
		}
	}
	if isNumber(labels[len(labels)-1]) {
		// Browsers and inet_aton read 127.1, 0x7f.1 or 2130706433 as IPv4
		// addresses; only the dotted-decimal form is taken as an address.
		return "host is an IPv4 address in a non-standard form"
	}
	return ""
}

func isAlnum(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// isNumber is the WHATWG URL standard's test of a host's last label:
// decimal digits, or 0x followed by hex digits.
func isNumber(label string) bool {
	digits := "0123456789"
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		label, digits = label[2:], "0123456789abcdefABCDEF"
		if label == "" {
			return true
		}
	}
	return strings.Trim(label, digits) == ""
}

// fileName suggests a file name from u's last path segment, percent-decoded;
// "" when there is none or it cannot be a file name (empty, dot segments,
// invalid UTF-8, control characters, slashes). A name longer than
// MaxFileNameLength bytes is shortened before its extension.
func fileName(u *url.URL) string {
	p := u.EscapedPath()
	name, err := url.PathUnescape(p[strings.LastIndexByte(p, '/')+1:])
	if err != nil || name == "" || name == "." || name == ".." || !utf8.ValidString(name) {
		return ""
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '/' || r == '\\' }) {
		return ""
	}
	if len(name) <= MaxFileNameLength {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	stem := name[:MaxFileNameLength-len(ext)]
	for !utf8.ValidString(stem) { // cut inside a rune: drop its first bytes
		stem = stem[:len(stem)-1]
	}
	return stem + ext
}
