// Package throttle limits failed authentication attempts per client
// address, so that a wrong token cannot be retried thousands of times a
// second.
//
// Each client key (an IPv4 address, or the /64 an IPv6 address belongs to)
// has a token bucket of [Config.Burst] tokens that refills one token every
// [Config.Refill]. A failed attempt takes a token ([Limiter.Fail]); a
// request is checked before it is authenticated ([Limiter.Allow]) and is
// refused, with the time to wait, while its bucket is empty. Successful
// requests cost nothing.
//
// The bucket is kept as one instant per key (the generic cell rate
// algorithm): the time at which the bucket will be full again. Failures
// recorded while the bucket is already empty (requests that passed Allow
// together, before any of them failed) are not forgiven: they push that
// instant further away, so however many requests a client keeps in flight,
// its failures average at most one per Refill over time.
//
// # Memory
//
// The limiter remembers at most [Config.MaxKeys] keys, a fixed bound
// whatever clients do. A full bucket needs no memory (it is what an unknown
// key gets), so when the table is full a new key replaces the key whose
// bucket is fullest: a key that has refilled completely costs nothing to
// forget, and otherwise the key with the least recent debt goes.
//
// What an attacker with many addresses can do: every address (IPv6: every
// /64) starts with a full bucket, so N addresses give N×Burst attempts at
// once and N per Refill after that. An attacker cycling through more than
// MaxKeys addresses makes the limiter forget its fullest (oldest) buckets,
// which then start full again; such an attacker is limited only by the
// rate at which it can send requests. A single IPv6 /48 holds 65,536 /64s,
// the default MaxKeys; an operator who sees such an attack can key IPv6
// clients by a shorter prefix ([Config.IPv6Prefix]). The limiter slows
// guessing from ordinary clients and botnets of modest size; against
// larger ones the defence is a token long enough that guessing is
// hopeless.
//
// Clients behind one NAT (or sharing a /64) share a bucket: while it is
// empty, all of them are refused, valid token or not, until a token comes
// back.
package throttle

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Defaults for the zero fields of [Config].
const (
	DefaultBurst      = 10
	DefaultRefill     = time.Second
	DefaultMaxKeys    = 1 << 16
	DefaultIPv6Prefix = 64
)

// Bounds on [Config]: larger values are refused by [New].
const (
	BurstLimit  = 1 << 20
	RefillLimit = time.Hour
	KeysLimit   = 1 << 26
)

// Config sets up a [Limiter]. The zero value is the documented defaults.
type Config struct {
	// Burst is how many failed attempts a client may make in a row before
	// it must wait (DefaultBurst when zero).
	Burst int
	// Refill is the time in which one token comes back (DefaultRefill when
	// zero): the sustained rate is one failure per Refill.
	Refill time.Duration
	// MaxKeys is how many client keys the limiter remembers at most
	// (DefaultMaxKeys when zero). Each costs about 90 bytes.
	MaxKeys int
	// IPv6Prefix is the prefix length that keys IPv6 clients, between 32
	// and 128 (DefaultIPv6Prefix when zero): one host usually has a whole
	// /64 to choose addresses from.
	IPv6Prefix int
}

// Limiter counts failed attempts per client key. It is safe for concurrent
// use. Times are passed in by the caller, so tests choose the clock; they
// should not go backwards by much, as a key's wait is measured from them.
type Limiter struct {
	burst   int64 // tokens
	refill  int64 // nanoseconds per token
	maxKeys int
	v6bits  int

	mu      sync.Mutex
	index   map[key]int32 // key → its slot
	slots   []slot        // the buckets; a slot never moves, so index rarely changes
	heap    []int32       // slot numbers, a min-heap on full: the fullest bucket on top
	evicted uint64
	churn   int // evictions since index was last rebuilt
}

// key identifies a client: IPv4 addresses as ::ffff:a.b.c.d, IPv6
// addresses masked to the configured prefix, which never has that form.
type key struct{ hi, lo uint64 }

// slot is a remembered bucket: full is the instant (Unix nanoseconds) at
// which it has refilled completely (each missing token adds refill to it),
// pos its place in the heap.
type slot struct {
	k    key
	full int64
	pos  int32
}

// New returns a Limiter for cfg, or an error naming the first field out of
// its bounds.
func New(cfg Config) (*Limiter, error) {
	cfg = withDefaults(cfg)
	switch {
	case cfg.Burst < 1 || cfg.Burst > BurstLimit:
		return nil, fmt.Errorf("throttle: burst %d out of range 1..%d", cfg.Burst, BurstLimit)
	case cfg.Refill < time.Millisecond || cfg.Refill > RefillLimit:
		return nil, fmt.Errorf("throttle: refill %v out of range 1ms..%v", cfg.Refill, RefillLimit)
	case cfg.MaxKeys < 1 || cfg.MaxKeys > KeysLimit:
		return nil, fmt.Errorf("throttle: max keys %d out of range 1..%d", cfg.MaxKeys, KeysLimit)
	case cfg.IPv6Prefix < 32 || cfg.IPv6Prefix > 128:
		return nil, fmt.Errorf("throttle: IPv6 prefix /%d out of range /32../128", cfg.IPv6Prefix)
	}
	return &Limiter{
		burst:   int64(cfg.Burst),
		refill:  int64(cfg.Refill),
		maxKeys: cfg.MaxKeys,
		v6bits:  cfg.IPv6Prefix,
		index:   make(map[key]int32),
	}, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Refill == 0 {
		cfg.Refill = DefaultRefill
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = DefaultIPv6Prefix
	}
	return cfg
}

// Allow reports whether a request from addr may try to authenticate at
// now: ok is false while the client's bucket is empty, and retryAfter is
// then how long it has to wait for a token. Allow takes no token.
func (l *Limiter) Allow(addr netip.Addr, now time.Time) (ok bool, retryAfter time.Duration) {
	k := l.keyOf(addr)
	l.mu.Lock()
	i, found := l.index[k]
	var full int64
	if found {
		full = l.slots[i].full
	}
	l.mu.Unlock()
	if !found {
		return true, 0
	}
	wait := l.wait(full, now.UnixNano())
	return wait <= 0, max(wait, 0)
}

// Fail records a failed attempt from addr at now, taking a token from its
// bucket. It returns how long the client must now wait before its next
// attempt is allowed: zero while tokens are left, so the 401 that empties
// a bucket can already carry Retry-After.
func (l *Limiter) Fail(addr netip.Addr, now time.Time) (retryAfter time.Duration) {
	k := l.keyOf(addr)
	t := now.UnixNano()
	l.mu.Lock()
	var full int64
	if i, found := l.index[k]; found {
		s := &l.slots[i]
		full = satAdd(max(s.full, t), l.refill)
		s.full = full
		l.down(int(s.pos)) // full only grows: the bucket can only move down
	} else {
		full = satAdd(t, l.refill)
		l.insert(k, full)
	}
	l.mu.Unlock()
	return max(l.wait(full, t), 0)
}

// wait is how long after now a bucket that is full at full has a token:
// positive while it has none.
func (l *Limiter) wait(full, now int64) time.Duration {
	return time.Duration(full - now - (l.burst-1)*l.refill)
}

// Len returns how many client keys the limiter remembers (at most
// Config.MaxKeys).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slots)
}

// Evicted returns how many keys were forgotten to make room for others
// since the limiter was made: a steadily growing count means more clients
// than MaxKeys fail at once, which is worth an operator's attention.
func (l *Limiter) Evicted() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evicted
}

// RetryAfter formats d as the value of a Retry-After header: whole seconds,
// rounded up, at least 1.
func RetryAfter(d time.Duration) string {
	s := (d + time.Second - 1) / time.Second
	return strconv.FormatInt(int64(max(s, 1)), 10)
}

// keyOf maps addr to its bucket's key: IPv4 (and IPv4-mapped IPv6) by
// address, IPv6 by prefix, without zone. The invalid Addr has a key of its
// own (a multicast address, which no client has), shared by every caller
// that could not tell the client's address.
func (l *Limiter) keyOf(addr netip.Addr) key {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		b := addr.As4()
		return key{lo: 0xffff<<32 | uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	case addr.Is6():
		p, _ := addr.WithZone("").Prefix(l.v6bits) // cannot fail: 32 ≤ v6bits ≤ 128
		b := p.Addr().As16()
		return key{hi: be64(b[:8]), lo: be64(b[8:])}
	default:
		return key{hi: math.MaxUint64, lo: math.MaxUint64}
	}
}

func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// satAdd is a+b for b ≥ 0, saturating instead of overflowing.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// insert adds a bucket for k, first dropping the fullest bucket when the
// table is at its bound. Called with mu held.
func (l *Limiter) insert(k key, full int64) {
	if len(l.slots) >= l.maxKeys {
		i := l.heap[0]
		delete(l.index, l.slots[i].k)
		l.evicted++
		l.slots[i] = slot{k: k, full: full, pos: 0}
		l.index[k] = i
		l.down(0)
		if l.churn++; l.churn >= l.maxKeys {
			l.rebuild()
		}
		return
	}
	i := int32(len(l.slots))
	l.slots = append(l.slots, slot{k: k, full: full, pos: int32(len(l.heap))})
	l.heap = append(l.heap, i)
	l.index[k] = i
	l.up(len(l.heap) - 1)
}

// rebuild replaces index by a fresh map of the same keys. A Go map that
// keeps deleting and inserting may hold on to the space of deleted entries
// (in practice up to about twice its size); rebuilding after every MaxKeys
// evictions makes the bound a property of this package rather than of the
// runtime's map, at an amortised cost of one map insert per eviction.
// Called with mu held.
func (l *Limiter) rebuild() {
	index := make(map[key]int32, len(l.slots))
	for i, s := range l.slots {
		index[s.k] = int32(i)
	}
	l.index = index
	l.churn = 0
}

// up and down restore the heap order after the bucket at heap position i
// changed. Called with mu held.
func (l *Limiter) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !l.less(i, parent) {
			break
		}
		l.swap(i, parent)
		i = parent
	}
}

func (l *Limiter) down(i int) {
	n := len(l.heap)
	for {
		least := i
		if c := 2*i + 1; c < n && l.less(c, least) {
			least = c
		}
		if c := 2*i + 2; c < n && l.less(c, least) {
			least = c
		}
		if least == i {
			return
		}
		l.swap(i, least)
		i = least
	}
}

func (l *Limiter) less(i, j int) bool {
	return l.slots[l.heap[i]].full < l.slots[l.heap[j]].full
}

func (l *Limiter) swap(i, j int) {
	l.heap[i], l.heap[j] = l.heap[j], l.heap[i]
	l.slots[l.heap[i]].pos = int32(i)
	l.slots[l.heap[j]].pos = int32(j)
}
