package registry

import (
	"errors"
	"testing"
	"time"
)

func TestGenMemoFollowsItsGeneration(t *testing.T) {
	g := &generations{}
	m := newGenMemo[string, int](g, g.all.Load, nil)
	loads := 0
	load := func(v int, err error) func() (int, error) {
		return func() (int, error) { loads++; return v, err }
	}
	if v, _ := m.get("a", load(1, nil)); v != 1 || loads != 1 {
		t.Fatalf("first read: %d after %d loads", v, loads)
	}
	if v, _ := m.get("a", load(2, nil)); v != 1 || loads != 1 {
		t.Fatalf("unchanged generation must not read again: %d after %d loads", v, loads)
	}
	g.bumpAll()
	if v, _ := m.get("a", load(3, nil)); v != 3 || loads != 2 {
		t.Fatalf("after a write: %d after %d loads, want the new value", v, loads)
	}

	// Failures are not remembered (by default): the next request retries.
	boom := errors.New("store down")
	if _, err := m.get("b", load(0, boom)); err != boom {
		t.Fatal(err)
	}
	if v, err := m.get("b", load(5, nil)); err != nil || v != 5 {
		t.Fatalf("after a failure: %d, %v", v, err)
	}

	// A shared store: at most maxAge, even with an unchanged generation.
	g.maxAge.Store(int64(time.Millisecond))
	time.Sleep(3 * time.Millisecond)
	if v, _ := m.get("a", load(4, nil)); v != 4 {
		t.Fatalf("older than maxAge: got %d, want a fresh read", v)
	}
}
