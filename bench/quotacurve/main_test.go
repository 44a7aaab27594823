package main

import (
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	ms := func(n int) []time.Duration {
		d := make([]time.Duration, n)
		for i := range d {
			d[i] = time.Duration(i+1) * time.Millisecond
		}
		return d
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(1), 0.99, time.Millisecond},
		{"p50 of 100", ms(100), 0.50, 51 * time.Millisecond},
		{"p99 of 100", ms(100), 0.99, 100 * time.Millisecond},
		{"p99 of 300", ms(300), 0.99, 298 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := pct(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: pct(%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestNewTenants(t *testing.T) {
	tests := []struct {
		args   []string
		labels []string
		ok     bool
	}{
		{[]string{"0=token-aaaaaaaaaaaaaaaa", "20000=token-bbbbbbbbbbbbbbbb"}, []string{"0", "20000"}, true},
		{[]string{"0"}, nil, false},
		{[]string{"=token-aaaaaaaaaaaaaaaa"}, nil, false},
		{[]string{"0="}, nil, false},
	}
	for _, tt := range tests {
		got, err := newTenants("http://127.0.0.1:1", tt.args)
		if (err == nil) != tt.ok {
			t.Errorf("newTenants(%q): err = %v, want ok %v", tt.args, err, tt.ok)
			continue
		}
		for i, label := range tt.labels {
			if got[i].label != label {
				t.Errorf("newTenants(%q)[%d].label = %q, want %q", tt.args, i, got[i].label, label)
			}
		}
	}
}

func TestRunRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-url", "http://127.0.0.1:1"},
		{"-url", "http://127.0.0.1:1", "-count", "0", "0=token-aaaaaaaaaaaaaaaa"},
	} {
		if err := run(args, nil); err == nil {
			t.Errorf("run(%q) succeeded, want a usage error", args)
		}
	}
}
