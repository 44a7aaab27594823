package storage

import "testing"

func TestKeyLocks(t *testing.T) {
	var l keyLocks
	w1 := l.write("a")
	w2 := l.write("a") // writers share a key
	if _, ok := l.tryDelete("a"); ok {
		t.Fatal("tryDelete succeeded while a write is in progress")
	}
	del, ok := l.tryDelete("b")
	if !ok {
		t.Fatal("tryDelete of another key failed")
	}
	w1()
	if _, ok := l.tryDelete("a"); ok {
		t.Fatal("tryDelete succeeded while one write is still in progress")
	}
	w2()
	del2, ok := l.tryDelete("a")
	if !ok {
		t.Fatal("tryDelete failed with no write in progress")
	}
	if _, ok := l.tryDelete("a"); ok {
		t.Fatal("two deletes held one key")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.write("a")() // waits for the delete
	}()
	del2()
	<-done
	del()
	if n := len(l.m); n != 0 {
		t.Errorf("%d locks left in the map, want 0", n)
	}
}
