package wrapper_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fileup/fileup/wrapper"
)

// slowLink is a client connection whose writes go out at a fixed pace,
// as over a slow uplink: 4 KiB per tick.
type slowLink struct {
	net.Conn
	tick time.Duration
}

func (c slowLink) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 4<<10)
		time.Sleep(c.tick) // the link's pace, not synchronisation
		w, err := c.Conn.Write(p[:k])
		n += w
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// slowClient is an HTTP client whose uploads go over a slowLink.
func slowClient(t *testing.T, tick time.Duration) *http.Client {
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowLink{c, tick}, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// A long upload over a slow but live link is never cut: the server reads
// steadily for many times the inactivity timeout, and the one attempt
// succeeds.
func TestInactivityNeverCutsASlowLiveUpload(t *testing.T) {
	const (
		idle = 250 * time.Millisecond
		tick = 10 * time.Millisecond // 4 KiB per 10 ms: 400 KiB/s
		size = 1 << 20               // about 2.5 s, ten timeouts
	)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		kieOK(w)
	}))
	defer srv.Close()
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithHTTPClient(slowClient(t, tick)), wrapper.WithInactivityTimeout(idle), noRetries)
	start := time.Now()
	_, err := up.Upload(context.Background(), wrapper.ReaderAt(bytes.NewReader(make([]byte, size)), "slow.bin", size), kiePath)
	elapsed := time.Since(start)
	if err != nil || calls.Load() != 1 {
		t.Fatalf("after %v and %d attempts: %v", elapsed, calls.Load(), err)
	}
	if elapsed < 4*idle {
		t.Errorf("the upload took %v: the test wants one lasting several inactivity timeouts (%v)", elapsed, idle)
	}
}

// stallOnce serves kie uploads; its first request stalls, after reading
// stallAfter bytes of the body (-1: all of it, then no answer), until the
// test ends. A server cannot see a client leave while the request body
// is unread, so the stall ends with the test, not with the attempt.
func stallOnce(t *testing.T, stallAfter int64) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			if stallAfter < 0 {
				io.Copy(io.Discard, r.Body)
			} else {
				io.CopyN(io.Discard, r.Body, stallAfter)
			}
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		io.Copy(io.Discard, r.Body)
		kieOK(w)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs before the server's Close
	return srv, &calls
}

// A stalled attempt (body not taken, or taken and never answered) is cut
// after the inactivity timeout with a retryable error, and retried.
func TestInactivityCutsAStall(t *testing.T) {
	const idle = 300 * time.Millisecond
	for _, tt := range []struct {
		name       string
		stallAfter int64
	}{{"mid-body", 64 << 10}, {"no answer", -1}} {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, 1<<20)
			srv, calls := stallOnce(t, tt.stallAfter)
			up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithInactivityTimeout(idle), noRetries)
			start := time.Now()
			_, err := up.Upload(context.Background(), wrapper.ReaderAt(bytes.NewReader(data), "x.bin", int64(len(data))), kiePath)
			if err == nil || !wrapper.IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "inactivity timeout") {
				t.Fatalf("error %v: want a retryable inactivity timeout", err)
			}
			if elapsed := time.Since(start); elapsed < idle || elapsed > 20*idle {
				t.Errorf("cut after %v, timeout %v", elapsed, idle)
			}

			// With retries, the next attempt succeeds.
			calls.Store(0)
			if _, err := up.Upload(context.Background(), wrapper.ReaderAt(bytes.NewReader(data), "x.bin", int64(len(data))), kiePath, fast); err != nil || calls.Load() != 2 {
				t.Errorf("%d attempts: %v", calls.Load(), err)
			}
		})
	}
}

// The caller's context still bounds the whole call, and its
// cancellation is not mistaken for a stall.
func TestInactivityAndTheCallersContext(t *testing.T) {
	srv, calls := stallOnce(t, -1)
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithInactivityTimeout(0), fast)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := up.Upload(ctx, wrapper.ReaderAt(strings.NewReader("x"), "x.txt", 1), kiePath)
	if !errors.Is(err, context.Canceled) || wrapper.IsRetryable(err) || strings.Contains(err.Error(), "inactivity") || calls.Load() != 1 {
		t.Errorf("error %v after %d attempts: want the caller's cancellation, not retried", err, calls.Load())
	}
}
