package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// history records every upload of TestReplicaOverwrites on a logical
// clock of the test process, to judge what a download may return.
type history struct {
	mu       sync.Mutex
	clock    int64
	versions map[int64]*version
}

// version is one upload of a name. Its id is the clock's value when the
// upload began; acked is the clock's value when its 200 arrived (0
// before). A version whose 200 arrived before another began was
// committed before it: it is older.
type version struct {
	id, acked int64
	name      string
	link      string    // the path of its download URL
	expires   time.Time // zero: not within the test
}

func newHistory() *history { return &history{versions: map[int64]*version{}} }

// begin records an upload of name about to begin.
func (h *history) begin(name string) version {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock++
	v := &version{id: h.clock, name: name}
	h.versions[v.id] = v
	return *v
}

// ack records a version's 200 answer.
func (h *history) ack(v version, r uploadResult, ttl time.Duration) (version, error) {
	u, err := url.Parse(r.url)
	if err != nil {
		return v, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock++
	w := h.versions[v.id]
	w.acked, w.link = h.clock, u.EscapedPath()
	if ttl > 0 {
		w.expires = r.uploaded.Add(ttl)
	}
	return *w, nil
}

// get returns a recorded version.
func (h *history) get(id int64) (version, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.versions[id]
	if !ok {
		return version{}, false
	}
	return *v, true
}

// content is the bytes of a version: its name and id on the first line,
// then filler of a length that varies with the id.
func content(name string, id int64) []byte {
	b := fmt.Appendf(nil, "%s %d\n", name, id)
	return append(b, bytes.Repeat([]byte{'a' + byte(id%26)}, int(id*7919%16384))...)
}

// judge checks what a download of x's URL answered once x had been
// acknowledged: x or a later version of the same name, complete, served
// under x's link; a 404 only once x has expired.
func (h *history) judge(x version, status int, body []byte, answered time.Time) error {
	switch {
	case status == http.StatusNotFound && !x.expires.IsZero() && !answered.Before(x.expires):
		return nil // expired, and so are the later versions under its link
	case status != http.StatusOK:
		expires := "never within the test"
		if !x.expires.IsZero() {
			expires = x.expires.Format(time.RFC3339Nano)
		}
		return fmt.Errorf("%s version %d: download answered %d %.200q at %s; the version expires %s",
			x.name, x.id, status, body, answered.Format(time.RFC3339Nano), expires)
	}
	var name string
	var id int64
	if _, err := fmt.Sscanf(string(body), "%s %d\n", &name, &id); err != nil {
		return fmt.Errorf("%s version %d: downloaded %.100q: %v", x.name, x.id, body, err)
	}
	v, ok := h.get(id)
	switch {
	case !ok || v.name != x.name:
		return fmt.Errorf("%s version %d: downloaded version %d of %q", x.name, x.id, id, name)
	case !bytes.Equal(body, content(v.name, v.id)):
		return fmt.Errorf("%s version %d: downloaded version %d corrupt (%d bytes)", x.name, x.id, id, len(body))
	case v.acked != 0 && v.acked < x.id:
		return fmt.Errorf("%s version %d: downloaded the older version %d, acknowledged before %d began", x.name, x.id, id, x.id)
	case v.acked != 0 && v.link != x.link:
		return fmt.Errorf("%s version %d: version %d served under %s, but its upload answered %s", x.name, x.id, id, x.link, v.link)
	}
	return nil
}

// sharedNames are the names every writer of TestReplicaOverwrites
// overwrites.
var sharedNames = []string{"s0.txt", "s1.txt", "s2.txt"}

// overwriter is one writer of TestReplicaOverwrites: it overwrites the
// shared names through its replica, checks each upload through the
// others, and keeps a file of its own whose expiry it watches.
type overwriter struct {
	h        *history
	servers  []*serverProc
	token    string
	ttl      time.Duration // the servers' TTL if files expire during the run, else 0
	self     int           // the replica it uploads through
	own      string        // its own file's name
	ownV     version       // and current version
	uploads  int
	expiries int // its own file expired, and was uploaded again
}

// upload uploads a new version of name through the writer's replica.
func (o *overwriter) upload(ctx context.Context, name string) (version, error) {
	v := o.h.begin(name)
	r, err := kieUpload(ctx, o.servers[o.self].url, o.token, "shared", name, content(name, v.id))
	if err != nil {
		return v, fmt.Errorf("upload of %s version %d: %w", name, v.id, err)
	}
	if r.status != http.StatusOK {
		return v, fmt.Errorf("upload of %s version %d: %d %s", name, v.id, r.status, r.body)
	}
	o.uploads++
	return o.h.ack(v, r, o.ttl)
}

// check downloads x's URL through replica i and judges the answer.
func (o *overwriter) check(ctx context.Context, x version, i int) (int, error) {
	status, body, err := download(ctx, o.servers[i].url, x.link)
	if err != nil {
		return 0, fmt.Errorf("download of %s version %d: %w", x.name, x.id, err)
	}
	return status, o.h.judge(x, status, body, time.Now())
}

// run overwrites until done says to stop, or the first failure.
func (o *overwriter) run(ctx context.Context, done func(*overwriter) bool) error {
	var err error
	if o.ownV, err = o.upload(ctx, o.own); err != nil {
		return err
	}
	for i := 0; !done(o); i++ {
		other := (o.self + 1 + i%2) % len(o.servers)
		v, err := o.upload(ctx, sharedNames[i%len(sharedNames)])
		if err != nil {
			return err
		}
		if _, err := o.check(ctx, v, other); err != nil {
			return err
		}
		if err := o.checkOwn(ctx, (o.self+2-i%2)%len(o.servers)); err != nil {
			return err
		}
	}
	return nil
}

// checkOwn downloads the writer's own file through replica i; once it
// has expired, it uploads the name again, which must get a new link.
func (o *overwriter) checkOwn(ctx context.Context, i int) error {
	status, err := o.check(ctx, o.ownV, i)
	if err != nil || status != http.StatusNotFound {
		return err
	}
	old := o.ownV
	if o.ownV, err = o.upload(ctx, o.own); err != nil {
		return err
	}
	if o.ownV.link == old.link {
		return fmt.Errorf("%s: version %d, replacing the expired %d, kept its link %s", o.own, o.ownV.id, old.id, old.link)
	}
	o.expiries++
	_, err = o.check(ctx, o.ownV, i)
	return err
}

// overwritePhase runs writers (two per replica) until done says every one
// is done, or one fails; it returns them.
func overwritePhase(t *testing.T, servers []*serverProc, h *history, token string, ttl time.Duration, own string, done func(*overwriter) bool) []*overwriter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writers := make([]*overwriter, 2*len(servers))
	var wg sync.WaitGroup
	for w := range writers {
		o := &overwriter{h: h, servers: servers, token: token, ttl: ttl, self: w % len(servers),
			own: fmt.Sprintf("%s%d.txt", own, w)}
		writers[w] = o
		wg.Go(func() {
			if err := o.run(ctx, func(o *overwriter) bool { return ctx.Err() != nil || done(o) }); err != nil && ctx.Err() == nil {
				t.Errorf("writer %d: %v", w, err)
				cancel()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return writers
}

// checkShared checks that every replica serves the same version of each
// shared name, one no acknowledged upload of it is newer than.
func checkShared(t *testing.T, servers []*serverProc, h *history) {
	t.Helper()
	latest := map[string]version{}
	h.mu.Lock()
	for _, v := range h.versions {
		if l, ok := latest[v.name]; v.acked != 0 && (!ok || v.acked > l.acked) {
			latest[v.name] = *v
		}
	}
	h.mu.Unlock()
	for _, name := range sharedNames {
		x, ok := latest[name]
		if !ok {
			t.Fatalf("no upload of %s was acknowledged", name)
		}
		var first []byte
		for i, srv := range servers {
			status, body, err := download(context.Background(), srv.url, x.link)
			if err == nil {
				err = h.judge(x, status, body, time.Now())
			}
			if err != nil {
				t.Errorf("through %s: %v", srv.url, err)
			} else if i == 0 {
				first = body
			} else if !bytes.Equal(body, first) {
				t.Errorf("%s: %s serves %.30q, %s serves %.30q", name, servers[0].url, first, srv.url, body)
			}
		}
	}
}

// TestReplicaOverwrites: writers on three replicas overwrite shared names
// in a loop while all three run their janitors often; every acknowledged
// upload reads back through another replica as itself or a later version
// of its name, never an older one, never a 404 but after its TTL. Phase
// one keeps every file for an hour; phase two restarts the replicas with
// a 1 s TTL, so that files expire while they are overwritten and swept.
// After each phase the bucket holds only the live files' objects.
//
// The replicas keep replaced objects for 3 s (--garbage-delay), a margin
// for downloads that found a version just before it was replaced.
func TestReplicaOverwrites(t *testing.T) {
	e := newReplicaEnv(t)
	const token = "replica-overwrite-token-0123456789"
	janitor := []string{"--janitor-interval", "100ms", "--garbage-delay", "3s"}
	h := newHistory()

	servers := e.start(t, 3, token, append(janitor, "--ttl", "1h")...)
	until := time.Now().Add(4 * time.Second)
	writers := overwritePhase(t, servers, h, token, 0, "keep", func(*overwriter) bool { return time.Now().After(until) })
	checkShared(t, servers, h)
	e.drained(t, 30*time.Second)
	want := slices.Clone(sharedNames)
	for _, o := range writers {
		want = append(want, o.own)
	}
	slices.Sort(want)
	if s := e.checkSettled(t); !slices.Equal(s.names, want) {
		t.Errorf("after phase one the catalog holds %v, want %v", s.names, want)
	}
	logWriters(t, "phase one (1h TTL)", writers)

	stop(t, servers)
	const ttl = time.Second
	servers = e.start(t, 3, token, append(janitor, "--ttl", ttl.String())...)
	until, giveUp := time.Now().Add(4*time.Second), time.Now().Add(30*time.Second)
	expiring := overwritePhase(t, servers, h, token, ttl, "expire", func(o *overwriter) bool {
		return time.Now().After(until) && o.expiries > 0 || time.Now().After(giveUp)
	})
	logWriters(t, "phase two (1s TTL)", expiring)
	for _, o := range expiring {
		if o.expiries == 0 {
			t.Errorf("%s never expired in 30 s with a 1 s TTL", o.own)
		}
	}
	// Phase one's own files live on; everything phase two wrote expires.
	keep := slices.DeleteFunc(want, func(n string) bool { return !strings.HasPrefix(n, "keep") })
	eventually(t, 30*time.Second, "phase two's files to expire and their objects to be deleted", func() (bool, string) {
		s := e.state(t)
		return slices.Equal(s.names, keep) && s.garbage == 0 && s.uploads == 0,
			fmt.Sprintf("files %v, %d objects queued, %d uploads", s.names, s.garbage, s.uploads)
	})
	e.checkSettled(t)
	for _, o := range writers {
		o.servers = servers // the phase-two replicas
		for i := range servers {
			if _, err := o.check(context.Background(), o.ownV, i); err != nil {
				t.Errorf("phase one's %s after phase two: %v", o.own, err)
			}
		}
	}
}

func logWriters(t *testing.T, phase string, writers []*overwriter) {
	uploads, expiries := 0, 0
	for _, o := range writers {
		uploads, expiries = uploads+o.uploads, expiries+o.expiries
	}
	t.Logf("%s: %d writers, %d acknowledged uploads, each checked through another replica; %d own files seen expired and uploaded again", phase, len(writers), uploads, expiries)
}
