package server

import (
	"context"
	"net"
	"net/http"

	"github.com/fileup/fileup/internal/reqframe"
)

// Listener wraps ln so that the server sees the framing of the requests
// it reads: a request whose head has both Transfer-Encoding and
// Content-Length (which net/http would serve, dropping Content-Length) is
// answered 400 and its connection closed, as RFC 9112 §6.3 requires.
// Serve s.HTTPServer on it; without it, such requests are not detected.
func (s *Server) Listener(ln net.Listener) net.Listener { return reqframe.Listener(ln) }

type connKey struct{}

// connState counts the requests served on one connection.
type connState struct {
	c *reqframe.Conn
	n int
}

// connContext is http.Server.ConnContext: it gives each request the
// connection's framing.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*reqframe.Conn); ok {
		return context.WithValue(ctx, connKey{}, &connState{c: fc})
	}
	return ctx
}

// refuseAmbiguous answers a request with both Transfer-Encoding and
// Content-Length 400 and closes its connection. HTTP/1.1 serves the
// requests of a connection one at a time, so counting them here tells
// which request of the connection this is.
func (s *Server) refuseAmbiguous(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, ok := r.Context().Value(connKey{}).(*connState); ok && r.ProtoMajor == 1 {
			n := st.n
			st.n++
			if st.c.Ambiguous(n) {
				w.Header().Set("Connection", "close")
				writeEnvelope(w, http.StatusBadRequest, "Bad request: both Transfer-Encoding and Content-Length were sent")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
