package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// errStalled reports an upload cut because its client sent nothing for the
// stall timeout.
var errStalled = errors.New("upload stalled")

// stallReader extends the connection's read deadline before every read, so
// an upload may take as long as it needs while bytes keep arriving, and a
// client that stops sending is cut after the timeout.
//
// The deadline is moved at most every timeout/8, so it always lies at
// least 7/8 of the timeout ahead when a read starts, at the cost of one
// deadline update per many reads rather than one per read.
type stallReader struct {
	rc      io.ReadCloser
	ctl     *http.ResponseController
	timeout time.Duration
	set     time.Time // when the deadline was last moved
}

func (s *stallReader) Read(p []byte) (int, error) {
	if s.timeout > 0 {
		if now := time.Now(); now.Sub(s.set) >= s.timeout/8 {
			// ErrNotSupported (no underlying connection) leaves reads unbounded.
			_ = s.ctl.SetReadDeadline(now.Add(s.timeout))
			s.set = now
		}
	}
	n, err := s.rc.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return n, errStalled
	}
	return n, err
}

func (s *stallReader) Close() error { return s.rc.Close() }
