package storage

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every caller of dirSyncer.sync returns only after a sync that started
// after its call has finished; syncs of one directory never overlap, and
// concurrent callers share them.
func TestDirSyncerCoversEveryCaller(t *testing.T) {
	var s dirSyncer
	type counters struct {
		started, lastDone, active atomic.Int64
	}
	dirs := map[string]*counters{"a": {}, "b/c": {}}
	const callers = 64
	var calls, runs atomic.Int64
	var wg sync.WaitGroup
	for i := range callers {
		for name, c := range dirs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i%8) * 100 * time.Microsecond)
				before := c.started.Load()
				calls.Add(1)
				s.sync(name, func() {
					n := c.started.Add(1)
					runs.Add(1)
					if c.active.Add(1) > 1 {
						t.Errorf("two syncs of %s at once", name)
					}
					time.Sleep(200 * time.Microsecond)
					c.active.Add(-1)
					c.lastDone.Store(n)
				})
				if done := c.lastDone.Load(); done <= before {
					t.Errorf("sync of %s returned with no sync started after the call (last done %d, started before the call %d)", name, done, before)
				}
			}()
		}
	}
	wg.Wait()
	if runs.Load() >= calls.Load() {
		t.Errorf("%d syncs for %d calls: none shared", runs.Load(), calls.Load())
	}
	if len(s.dirs) != 0 {
		t.Errorf("%d directories still tracked after every sync returned", len(s.dirs))
	}
}
