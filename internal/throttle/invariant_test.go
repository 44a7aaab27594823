package throttle

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// TestHeapInvariant: after any sequence of failures, evictions and
// rebuilds, the heap is ordered, the index points at every entry and at
// nothing else, and the table stays within its bound.
func TestHeapInvariant(t *testing.T) {
	const maxKeys = 37
	l, err := New(Config{Burst: 3, Refill: time.Second, MaxKeys: maxKeys})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Unix(1_000_000, 0)
	for step := range 20_000 {
		now = now.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(80))})
		l.Fail(a, now)
		if err := l.check(); err != "" {
			t.Fatalf("step %d: %s", step, err)
		}
	}
	if l.Evicted() == 0 {
		t.Fatal("no eviction happened: the test does not exercise the bound")
	}
}

func (l *Limiter) check() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case len(l.slots) > l.maxKeys:
		return "table over its bound"
	case len(l.index) != len(l.slots) || len(l.heap) != len(l.slots):
		return "index, slots and heap differ in size"
	}
	for i, s := range l.slots {
		if j, ok := l.index[s.k]; !ok || int(j) != i {
			return "index does not point at a slot"
		}
		if int(s.pos) >= len(l.heap) || int(l.heap[s.pos]) != i {
			return "a slot's heap position is wrong"
		}
	}
	for i := 1; i < len(l.heap); i++ {
		if l.less(i, (i-1)/2) {
			return "heap out of order"
		}
	}
	return ""
}
