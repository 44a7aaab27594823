package wrapper

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},                               // in the past
		{now.Add(2 * time.Minute).Format(time.RFC850), 2 * time.Minute},                // obsolete date forms parse too
		{now.Add(5 * time.Second).Format("Mon Jan _2 15:04:05 2006"), 5 * time.Second}, // asctime
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("Retry-After %q: %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestDelayFullJitter(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxRetryAfter: 10 * time.Second}.withDefaults()
	for _, tt := range []struct {
		next    int
		ceiling time.Duration
	}{{2, 100 * time.Millisecond}, {3, 200 * time.Millisecond}, {4, 400 * time.Millisecond}, {6, time.Second}, {100, time.Second}} {
		var lo, hi time.Duration = time.Hour, 0
		for range 2000 {
			d, ok := p.delay(tt.next, 0)
			if !ok || d < 0 || d > tt.ceiling {
				t.Fatalf("attempt %d: delay %v outside [0, %v]", tt.next, d, tt.ceiling)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter spreads over the whole range, not just near the top.
		if lo > tt.ceiling/10 || hi < tt.ceiling*9/10 {
			t.Errorf("attempt %d: delays in [%v, %v], want spread over [0, %v]", tt.next, lo, hi, tt.ceiling)
		}
	}
	if d, ok := p.delay(2, 3*time.Second); !ok || d != 3*time.Second {
		t.Errorf("Retry-After 3s: %v %v", d, ok)
	}
	if _, ok := p.delay(2, time.Minute); ok {
		t.Error("a Retry-After beyond MaxRetryAfter must end the retries")
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	d := RetryPolicy{}.withDefaults()
	if d != (RetryPolicy{MaxAttempts: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second, MaxRetryAfter: 2 * time.Minute}) {
		t.Errorf("defaults %+v", d)
	}
	p := RetryPolicy{MaxAttempts: 2}.withDefaults()
	if p.MaxAttempts != 2 || p.BaseDelay != d.BaseDelay || p.MaxDelay != d.MaxDelay || p.MaxRetryAfter != d.MaxRetryAfter {
		t.Errorf("%+v", p)
	}
}
