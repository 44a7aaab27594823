package throttle_test

import (
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/fileup/fileup/internal/throttle"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newLimiter(t testing.TB, cfg throttle.Config) *throttle.Limiter {
	t.Helper()
	l, err := throttle.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return l
}

func TestBurstThenRefusal(t *testing.T) {
	for _, tc := range []struct {
		burst  int
		refill time.Duration
	}{
		{0, 0}, // defaults: 10 per burst, 1 s
		{1, 500 * time.Millisecond},
		{3, 2 * time.Second},
	} {
		t.Run(fmt.Sprintf("burst%d-refill%v", tc.burst, tc.refill), func(t *testing.T) {
			l := newLimiter(t, throttle.Config{Burst: tc.burst, Refill: tc.refill})
			burst, refill := tc.burst, tc.refill
			if burst == 0 {
				burst, refill = throttle.DefaultBurst, throttle.DefaultRefill
			}
			a := netip.MustParseAddr("203.0.113.7")
			for i := range burst {
				if ok, wait := l.Allow(a, t0); !ok || wait != 0 {
					t.Fatalf("attempt %d: Allow = %v, %v; want true, 0", i+1, ok, wait)
				}
				want := time.Duration(0)
				if i == burst-1 {
					want = refill // the failure that empties the bucket
				}
				if got := l.Fail(a, t0); got != want {
					t.Fatalf("failure %d: Fail = %v, want %v", i+1, got, want)
				}
			}
			if ok, wait := l.Allow(a, t0); ok || wait != refill {
				t.Fatalf("after the burst: Allow = %v, %v; want false, %v", ok, wait, refill)
			}
			if ok, wait := l.Allow(a, t0.Add(refill-time.Nanosecond)); ok || wait != time.Nanosecond {
				t.Fatalf("1ns before the refill: Allow = %v, %v; want false, 1ns", ok, wait)
			}
			if ok, wait := l.Allow(a, t0.Add(refill)); !ok || wait != 0 {
				t.Fatalf("after one refill: Allow = %v, %v; want true, 0", ok, wait)
			}
			if ok, _ := l.Allow(netip.MustParseAddr("203.0.113.8"), t0); !ok {
				t.Fatal("another address is refused")
			}
		})
	}
}

// drain makes failed attempts from a at now until the limiter refuses one,
// and returns how many it allowed.
func drain(l *throttle.Limiter, a netip.Addr, now time.Time) int {
	n := 0
	for ; n < 1000; n++ {
		if ok, _ := l.Allow(a, now); !ok {
			break
		}
		l.Fail(a, now)
	}
	return n
}

func TestRefill(t *testing.T) {
	const burst, refill = 5, time.Second
	l := newLimiter(t, throttle.Config{Burst: burst, Refill: refill})
	a := netip.MustParseAddr("198.51.100.1")
	if n := drain(l, a, t0); n != burst {
		t.Fatalf("first burst: %d attempts allowed, want %d", n, burst)
	}
	now := t0
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{
		{refill, 1},
		{3 * refill, 3},
		{refill / 2, 0},
		{refill / 2, 1}, // the two halves make a token
		{100 * refill, burst},
	} {
		now = now.Add(tc.after)
		if n := drain(l, a, now); n != tc.want {
			t.Fatalf("%v later: %d attempts allowed, want %d", tc.after, n, tc.want)
		}
	}
}

// Requests that passed Allow together and then all failed are paid for:
// keeping many requests in flight does not raise the sustained rate.
func TestFailuresInFlightAccumulate(t *testing.T) {
	const burst, refill, inFlight = 10, time.Second, 50
	l := newLimiter(t, throttle.Config{Burst: burst, Refill: refill})
	a := netip.MustParseAddr("192.0.2.44")
	for range inFlight {
		if ok, _ := l.Allow(a, t0); !ok {
			t.Fatal("a fresh client is refused")
		}
	}
	var last time.Duration
	for range inFlight {
		last = l.Fail(a, t0)
	}
	want := (inFlight - burst + 1) * refill
	if last != want {
		t.Fatalf("after %d failures in flight: Fail = %v, want %v", inFlight, last, want)
	}
	if ok, wait := l.Allow(a, t0); ok || wait != want {
		t.Fatalf("Allow = %v, %v; want false, %v", ok, wait, want)
	}
}

func TestSuccessCostsNothing(t *testing.T) {
	l := newLimiter(t, throttle.Config{Burst: 1})
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 10_000 {
		if ok, _ := l.Allow(a, t0); !ok {
			t.Fatalf("request %d refused without any failure", i)
		}
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("Len = %d after successes only, want 0", n)
	}
}

// TestKeys: which addresses share a bucket. Each case empties the first
// address's bucket (burst 1) and asks about the second.
func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix int
		failed string
		asked  string
		shared bool
	}{
		{"same /64", 0, "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
		{"next /64", 0, "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"zone ignored", 0, "fe80::1%eth0", "fe80::2%eth1", true},
		{"same /48 keyed by /48", 48, "2001:db8:1:2::1", "2001:db8:1:ffff::1", true},
		{"next /48 keyed by /48", 48, "2001:db8:1::1", "2001:db8:2::1", false},
		{"keyed by /128", 128, "2001:db8::1", "2001:db8::2", false},
		{"mapped as IPv4", 0, "::ffff:192.0.2.1", "192.0.2.1", true},
		{"IPv4 as mapped", 0, "192.0.2.1", "::ffff:192.0.2.1", true},
		{"IPv4 by address", 0, "192.0.2.1", "192.0.2.2", false},
		{"IPv4 /24 not grouped", 0, "192.0.2.1", "192.0.2.254", false},
		{"IPv4 apart from ::/64", 0, "0.0.0.1", "::1", false},
		{"::/64 apart from IPv4", 0, "::1", "0.0.0.1", false},
		{"compatible is IPv6", 0, "::192.0.2.1", "192.0.2.1", false},
		{"invalid apart", 0, "", "255.255.255.255", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(t, throttle.Config{Burst: 1, IPv6Prefix: tc.prefix})
			l.Fail(parseAddr(tc.failed), t0)
			if ok, _ := l.Allow(parseAddr(tc.failed), t0); ok {
				t.Fatalf("%s allowed after emptying its bucket", tc.failed)
			}
			ok, _ := l.Allow(parseAddr(tc.asked), t0)
			if ok == tc.shared {
				t.Fatalf("Allow(%s) = %v after %s failed; shared bucket: %v", tc.asked, ok, tc.failed, tc.shared)
			}
		})
	}
}

// parseAddr parses s; "" is the invalid Addr, which a caller gets when it
// cannot tell the client's address.
func parseAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func TestEvictsFullestBucket(t *testing.T) {
	const refill = time.Second
	l := newLimiter(t, throttle.Config{Burst: 1, Refill: refill, MaxKeys: 3})
	a, b, c, d := addrN(1), addrN(2), addrN(3), addrN(4)
	for _, f := range []struct {
		addr netip.Addr
		n    int
	}{{a, 3}, {b, 1}, {c, 2}} {
		for range f.n {
			l.Fail(f.addr, t0)
		}
	}
	l.Fail(d, t0) // the table is full: b, the fullest bucket, goes
	if n, ev := l.Len(), l.Evicted(); n != 3 || ev != 1 {
		t.Fatalf("Len, Evicted = %d, %d; want 3, 1", n, ev)
	}
	for _, want := range []struct {
		addr netip.Addr
		ok   bool
	}{{a, false}, {b, true}, {c, false}, {d, false}} {
		if ok, _ := l.Allow(want.addr, t0); ok != want.ok {
			t.Errorf("Allow(%v) = %v, want %v", want.addr, ok, want.ok)
		}
	}
	// Later every bucket has refilled; c and d fail again, so the new key
	// b replaces a, the fullest, although a failed most.
	later := t0.Add(3 * refill)
	l.Fail(c, later)
	l.Fail(d, later)
	l.Fail(b, later)
	if ev := l.Evicted(); ev != 2 {
		t.Fatalf("Evicted = %d, want 2", ev)
	}
	for _, addr := range []netip.Addr{b, c, d} {
		if ok, _ := l.Allow(addr, later); ok {
			t.Errorf("Allow(%v) = true: a bucket in debt was forgotten", addr)
		}
	}
}

func addrN(i uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// addrAt is the i-th of many distinct client keys: IPv4 addresses and IPv6
// /64s alternately.
func addrAt(i int) netip.Addr {
	if i%2 == 0 {
		return addrN(uint32(i))
	}
	var b [16]byte
	b[0], b[1] = 0x20, 0x01
	b[4], b[5], b[6], b[7] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	b[15] = 1
	return netip.AddrFrom16(b)
}

// TestMemoryBound: a million distinct client keys leave the limiter at
// its bound. The race detector slows each operation some twentyfold and
// adds its own allocations, so under it the test runs smaller.
func TestMemoryBound(t *testing.T) {
	cases := []struct{ addrs, maxKeys int }{
		{200_000, 1000},
		{1_000_000, throttle.DefaultMaxKeys},
	}
	if raceEnabled {
		cases = []struct{ addrs, maxKeys int }{{20_000, 1000}, {100_000, 4096}}
	}
	for _, tc := range cases {
		addrs, maxKeys := tc.addrs, tc.maxKeys
		t.Run(fmt.Sprint(maxKeys), func(t *testing.T) {
			before := heapInUse()
			l := newLimiter(t, throttle.Config{MaxKeys: maxKeys})
			now := t0
			for i := range addrs {
				now = now.Add(time.Microsecond)
				l.Fail(addrAt(i), now)
			}
			after := heapInUse()
			if n := l.Len(); n != maxKeys {
				t.Fatalf("Len = %d, want %d", n, maxKeys)
			}
			if ev := l.Evicted(); ev != uint64(addrs-maxKeys) {
				t.Fatalf("Evicted = %d, want %d", ev, addrs-maxKeys)
			}
			used := int64(after) - int64(before)
			perKey := float64(used) / float64(maxKeys)
			t.Logf("%d addresses, MaxKeys %d: %d bytes retained (%.1f per key)", addrs, maxKeys, used, perKey)
			if limit := int64(maxKeys)*100 + 64<<10; used > limit {
				t.Fatalf("%d bytes retained, more than %d", used, limit)
			}
			runtime.KeepAlive(l)
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestConcurrentUse(t *testing.T) {
	const burst, refill, workers, perWorker = 4, time.Second, 8, 2000
	l := newLimiter(t, throttle.Config{Burst: burst, Refill: refill, MaxKeys: 64}) // evicting all the time
	s := newLimiter(t, throttle.Config{Burst: burst, Refill: refill})              // one shared key
	shared := netip.MustParseAddr("2001:db8::1")
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				a := addrAt(w*perWorker + i)
				if ok, _ := l.Allow(a, now); ok {
					l.Fail(a, now)
				}
				s.Allow(shared, t0)
			}
			s.Fail(shared, t0)
		})
	}
	wg.Wait()
	if n := l.Len(); n > 64 {
		t.Fatalf("Len = %d over MaxKeys 64", n)
	}
	// However the workers interleaved, the shared key owes exactly the
	// failures it was given.
	want := (workers - burst + 1) * refill
	if ok, wait := s.Allow(shared, t0); ok || wait != want {
		t.Fatalf("shared key: Allow = %v, %v; want false, %v", ok, wait, want)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []throttle.Config{
		{Burst: -1},
		{Burst: throttle.BurstLimit + 1},
		{Refill: -time.Second},
		{Refill: time.Microsecond},
		{Refill: throttle.RefillLimit + 1},
		{MaxKeys: -1},
		{MaxKeys: throttle.KeysLimit + 1},
		{IPv6Prefix: 16},
		{IPv6Prefix: 129},
	} {
		if _, err := throttle.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := throttle.New(throttle.Config{Burst: throttle.BurstLimit, Refill: throttle.RefillLimit}); err != nil {
		t.Errorf("largest config refused: %v", err)
	}
}

// Debt near the end of time saturates instead of wrapping around to a
// bucket that looks full.
func TestNoOverflow(t *testing.T) {
	l := newLimiter(t, throttle.Config{Burst: 1, Refill: throttle.RefillLimit, MaxKeys: 1})
	a := netip.MustParseAddr("192.0.2.1")
	late := time.Unix(0, math.MaxInt64-int64(5*throttle.RefillLimit))
	for range 10 {
		l.Fail(a, late)
	}
	if ok, wait := l.Allow(a, late); ok || wait != 5*throttle.RefillLimit {
		t.Fatalf("Allow = %v, %v; want false, %v", ok, wait, 5*throttle.RefillLimit)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "1"},
		{time.Nanosecond, "1"},
		{time.Second, "1"},
		{time.Second + 1, "2"},
		{90 * time.Second, "90"},
		{-time.Second, "1"},
	} {
		if got := throttle.RetryAfter(tc.d); got != tc.want {
			t.Errorf("RetryAfter(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func BenchmarkAllow(b *testing.B) {
	l := newLimiter(b, throttle.Config{})
	for i := range throttle.DefaultMaxKeys / 2 {
		l.Fail(addrAt(i), t0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(addrAt(i%throttle.DefaultMaxKeys), t0) // half known, half not
			i++
		}
	})
}

func BenchmarkFail(b *testing.B) {
	l := newLimiter(b, throttle.Config{})
	b.ReportAllocs()
	now := t0
	for i := range b.N {
		now = now.Add(time.Microsecond)
		l.Fail(addrAt(i), now)
	}
}
