package upstream

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestNegativeAnswersExpire: an upstream's 404 is remembered for
// NegativeTTL, not for the page TTL, then asked again.
func TestNegativeAnswersExpire(t *testing.T) {
	up := newUpstream(t)
	up.mode.Store("404")
	c := newClient(t, Config{TTL: time.Hour, NegativeTTL: time.Minute})
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for range 2 {
		if p, err := c.Page(ctx, req(t, up.URL+"/simple/typo/")); err != nil || len(p.Body) != 0 || c.FreshFor(p) > time.Minute {
			t.Fatalf("404: %+v %v (fresh for %v)", p, err, c.FreshFor(p))
		}
	}
	if n := up.requests.Load(); n != 1 {
		t.Fatalf("a remembered 404 is not asked again within NegativeTTL: %d requests", n)
	}
	now = now.Add(2 * time.Minute)
	up.mode.Store("ok")
	if p, err := c.Page(ctx, req(t, up.URL+"/simple/typo/")); err != nil || string(p.Body) != "page for /simple/typo/" {
		t.Fatalf("after NegativeTTL the upstream is asked again: %+v %v", p, err)
	}
}

// TestMissLimitPerRequester: each requester may cause MissLimit upstream
// fetches; fresh cached pages cost nothing, other requesters are not
// affected, and a limited requester gets a stale page if there is one.
func TestMissLimitPerRequester(t *testing.T) {
	up := newUpstream(t)
	c := newClient(t, Config{TTL: time.Hour, MissLimit: Rate{N: 3, Per: time.Minute}})
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	ask := func(who string, i int) error {
		r := req(t, fmt.Sprintf("%s/simple/p%d/", up.URL, i))
		r.Requester = who
		_, err := c.Page(ctx, r)
		return err
	}
	for i := range 3 {
		if err := ask("alice", i); err != nil {
			t.Fatal(err)
		}
	}
	err := ask("alice", 3)
	var le *LimitError
	if !errors.As(err, &le) || le.RetryAfter < time.Second || le.RetryAfter > 20*time.Second {
		t.Fatalf("the fourth miss within a minute: %v", err)
	}
	t.Log(err)
	if err := ask("alice", 0); err != nil {
		t.Errorf("a fresh cached page costs nothing: %v", err)
	}
	if err := ask("bob", 3); err != nil {
		t.Errorf("another requester has its own bucket: %v", err)
	}
	if err := ask("", 4); err != nil {
		t.Errorf("wharf's own requests are not limited: %v", err)
	}
	// Past the TTL a limited requester is served the old page.
	now = now.Add(2 * time.Hour)
	for i := range 3 {
		if err := ask("carol", 10+i); err != nil {
			t.Fatal(err)
		}
	}
	r := req(t, up.URL+"/simple/p0/")
	r.Requester = "carol"
	if p, err := c.Page(ctx, r); err != nil || !p.Stale {
		t.Errorf("a limited requester gets the stale page: %+v %v", p, err)
	}
	// The bucket refills.
	now = now.Add(20 * time.Second)
	if err := ask("carol", 20); err != nil {
		t.Errorf("after a third of a minute one more miss is allowed: %v", err)
	}
}

// TestPruneBoundsTheCache: expired "not found" answers go, and at most
// MaxPages pages stay.
func TestPruneBoundsTheCache(t *testing.T) {
	up := newUpstream(t)
	c := newClient(t, Config{TTL: time.Hour, NegativeTTL: time.Minute, MaxPages: 5})
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	up.mode.Store("404")
	for i := range 4 {
		c.Page(ctx, req(t, fmt.Sprintf("%s/simple/miss%d/", up.URL, i)))
	}
	up.mode.Store("ok")
	for i := range 8 {
		now = now.Add(time.Second)
		c.Page(ctx, req(t, fmt.Sprintf("%s/simple/hit%d/", up.URL, i)))
	}
	now = now.Add(2 * time.Minute)
	n, err := c.Prune(ctx)
	if err != nil || n != 7 {
		t.Fatalf("Prune = %d, %v; want 4 expired misses and 3 pages beyond 5", n, err)
	}
	before := up.requests.Load()
	for i := 3; i < 8; i++ {
		c.Page(ctx, req(t, fmt.Sprintf("%s/simple/hit%d/", up.URL, i)))
	}
	if up.requests.Load() != before {
		t.Errorf("the newest pages must survive pruning")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"300/1m": {300, time.Minute}, " 5 / 10s ": {5, 10 * time.Second}, "0": {}} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v", in, got, err)
		}
		if again, err := ParseRate(want.Spec()); err != nil || again != want {
			t.Errorf("ParseRate(%q) = %v, %v", want.Spec(), again, err)
		}
	}
	if s := (Rate{300, time.Minute}).Spec(); s != "300/1m" {
		t.Errorf("Spec = %s", s)
	}
	for _, bad := range []string{"300", "x/1m", "3/0s", "-1/1m", "3/m"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}
