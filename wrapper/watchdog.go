package wrapper

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// stallError is why an attempt was cut by the inactivity timeout. It is a
// timeout (net.Error's Timeout, and errors.Is context.DeadlineExceeded),
// so IsRetryable reports it.
type stallError struct{ d time.Duration }

func (e *stallError) Error() string {
	return fmt.Sprintf("wrapper: no request bytes sent and no response bytes received for %v (inactivity timeout)", e.d)
}
func (e *stallError) Timeout() bool   { return true }
func (e *stallError) Temporary() bool { return true }
func (e *stallError) Unwrap() error   { return context.DeadlineExceeded }

// watchdog cancels an attempt's context once nothing has moved for d:
// touch marks movement (body bytes taken, response bytes read).
type watchdog struct {
	d      time.Duration
	start  time.Time
	last   atomic.Int64 // time.Since(start) at the last touch
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// watch returns ctx with a watchdog of d; d == 0 watches nothing. Call
// stop when the attempt is over.
func watch(ctx context.Context, d time.Duration) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{d: d, start: time.Now(), cancel: cancel}
	if d > 0 {
		w.mu.Lock()
		w.timer = time.AfterFunc(d, w.check)
		w.mu.Unlock()
	}
	return ctx, w
}

// touch records movement. It is cheap: one clock read and an atomic store.
func (w *watchdog) touch() { w.last.Store(int64(time.Since(w.start))) }

// check runs when the timer fires: it cuts the attempt if nothing moved
// for d, and re-arms for the rest of d otherwise.
func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	idle := time.Since(w.start) - time.Duration(w.last.Load())
	if idle >= w.d {
		w.cancel(&stallError{w.d})
		return
	}
	w.timer.Reset(w.d - idle)
}

// stalled returns the stall error if the watchdog cut the attempt.
func (w *watchdog) stalled(ctx context.Context) *stallError {
	se, _ := context.Cause(ctx).(*stallError)
	return se
}

// stop ends the watch and releases the attempt's context.
func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	w.cancel(context.Canceled)
}

// touchReader touches the watchdog for every byte read.
type touchReader struct {
	r     io.Reader
	touch func()
}

func (t touchReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.touch()
	}
	return n, err
}
