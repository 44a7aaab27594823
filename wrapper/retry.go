package wrapper

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds retries of retryable failures (see IsRetryable).
// Only calls whose body can be sent again are retried (uploads of
// replayable sources, URL uploads, quota reads), each attempt with a
// fresh body and the same Idempotency-Key. Zero fields take the defaults.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts (default 4; 1 disables
	// retries).
	MaxAttempts int
	// BaseDelay is the first backoff ceiling (default 500 ms); it doubles
	// per attempt up to MaxDelay (default 30 s). Each wait is drawn at
	// random below the ceiling ("full jitter").
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter caps how long a server's Retry-After is honoured
	// (default 2 minutes); a longer Retry-After ends the retries.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := RetryPolicy{MaxAttempts: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second, MaxRetryAfter: 2 * time.Minute}
	if p.MaxAttempts > 0 {
		d.MaxAttempts = p.MaxAttempts
	}
	if p.BaseDelay > 0 {
		d.BaseDelay = p.BaseDelay
	}
	if p.MaxDelay > 0 {
		d.MaxDelay = p.MaxDelay
	}
	if p.MaxRetryAfter > 0 {
		d.MaxRetryAfter = p.MaxRetryAfter
	}
	return d
}

// delay returns the wait before attempt number next (2, 3, ...), and
// false when a Retry-After beyond MaxRetryAfter means giving up.
func (p RetryPolicy) delay(next int, retryAfter time.Duration) (time.Duration, bool) {
	ceiling := p.BaseDelay
	for i := 2; i < next && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxDelay)
	d := time.Duration(rand.Int64N(int64(ceiling) + 1))
	if retryAfter > 0 {
		if retryAfter > p.MaxRetryAfter {
			return 0, false
		}
		d = max(d, retryAfter)
	}
	return d, true
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(min(s, 1<<30)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
