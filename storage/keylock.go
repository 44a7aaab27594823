package storage

import "sync"

// keyLocks guards the keys of one store within this process: writers (Put,
// and Move's destination) share a key's lock for as long as they run, and
// the janitor deletes an expired object only while it holds the lock alone,
// so it never deletes a version that a concurrent write has just committed.
// It is for stores, such as S3, whose delete cannot be made conditional on
// what was read; stores of other processes sharing the bucket are not seen.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	rw   sync.RWMutex
	refs int
}

func (l *keyLocks) acquire(name string) *keyLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]*keyLock)
	}
	k := l.m[name]
	if k == nil {
		k = &keyLock{}
		l.m[name] = k
	}
	k.refs++
	return k
}

func (l *keyLocks) release(name string, k *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(l.m, name)
	}
}

// write holds name for a writer until the returned func is called. Writers
// of one key do not exclude each other; they wait only for a delete in
// progress.
func (l *keyLocks) write(name string) (unlock func()) {
	k := l.acquire(name)
	k.rw.RLock()
	return func() {
		k.rw.RUnlock()
		l.release(name, k)
	}
}

// tryDelete holds name alone, if no writer holds it, until the returned
// func is called. ok is false when a write is in progress.
func (l *keyLocks) tryDelete(name string) (unlock func(), ok bool) {
	k := l.acquire(name)
	if !k.rw.TryLock() {
		l.release(name, k)
		return nil, false
	}
	return func() {
		k.rw.Unlock()
		l.release(name, k)
	}, true
}
