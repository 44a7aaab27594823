package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// errStalled reports an upload cut because its client sent nothing for the
// stall timeout.
var errStalled = errors.New("upload stalled")

// stallReader extends the connection's read deadline before every read, so
// an upload may take as long as it needs while bytes keep arriving, and a
// client that stops sending is cut after the timeout.
type stallReader struct {
	rc      io.ReadCloser
	ctl     *http.ResponseController
	timeout time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	if s.timeout > 0 {
		// ErrNotSupported (no underlying connection) leaves reads unbounded.
		_ = s.ctl.SetReadDeadline(time.Now().Add(s.timeout))
	}
	n, err := s.rc.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return n, errStalled
	}
	return n, err
}

func (s *stallReader) Close() error { return s.rc.Close() }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
