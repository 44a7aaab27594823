package storage

import "sync"

// dirSyncer shares directory syncs between concurrent Puts. A Put that
// created an entry in a directory needs a sync of that directory that
// started after the entry was made; one sync serves every Put waiting for
// it, so Puts into one directory, which arrive while a sync of it is under
// way, wait for the next one and share it, rather than each syncing in
// turn.
type dirSyncer struct {
	mu   sync.Mutex
	dirs map[string]*dirSync // the directories with Puts waiting
}

// dirSync is the state of one directory's syncs.
type dirSync struct {
	waiting  int    // Puts in sync for this directory
	running  bool   // a sync is under way
	started  uint64 // number of syncs started
	finished uint64 // the number of the last sync that finished
	done     sync.Cond
}

// sync returns once a run of do (which syncs dir) that started after
// sync was called has finished, running it itself if no other caller does.
func (s *dirSyncer) sync(dir string, do func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.dirs[dir]
	if ds == nil {
		if s.dirs == nil {
			s.dirs = map[string]*dirSync{}
		}
		ds = &dirSync{done: sync.Cond{L: &s.mu}}
		s.dirs[dir] = ds
	}
	ds.waiting++
	// A sync under way may have read the directory before the caller's
	// entry was made: only the next one counts.
	for need := ds.started + 1; ds.finished < need; {
		if ds.running {
			ds.done.Wait()
			continue
		}
		ds.running = true
		ds.started++
		n := ds.started
		s.mu.Unlock()
		do()
		s.mu.Lock()
		ds.running, ds.finished = false, n
		ds.done.Broadcast()
	}
	if ds.waiting--; ds.waiting == 0 {
		delete(s.dirs, dir)
	}
}
