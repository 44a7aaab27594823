package fetch

import (
	"net"
	"net/http"
	"net/url"
)

// SetResolver makes c resolve names with r; tests point it at a fake DNS
// server.
func SetResolver(c *Client, r *net.Resolver) { c.dialer.Resolver = r }

// FileName is fileName, for a table test.
func FileName(u *url.URL) string { return fileName(u) }

// Transport returns c's transport, to check its settings.
func Transport(c *Client) *http.Transport { return c.transport }
