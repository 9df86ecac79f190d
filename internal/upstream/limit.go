package upstream

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
)

// Rate is N events per Per; a zero N means no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "N/DURATION" (300/1m, 50/10s) or "0" for no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	r := Rate{}
	var err error
	if ok {
		r.N, err = strconv.Atoi(strings.TrimSpace(n))
		if err == nil {
			r.Per, err = time.ParseDuration(strings.TrimSpace(per))
		}
	}
	if !ok || err != nil || r.N < 0 || r.Per <= 0 {
		return Rate{}, fmt.Errorf("%q is not a rate such as 300/1m (N per duration), or 0 for no limit", s)
	}
	return r, nil
}

// Spec is r as ParseRate reads it ("300/1m").
func (r Rate) Spec() string {
	if r.N == 0 {
		return "0"
	}
	per := r.Per.String()
	switch {
	case r.Per%time.Hour == 0:
		per = fmt.Sprintf("%dh", r.Per/time.Hour)
	case r.Per%time.Minute == 0:
		per = fmt.Sprintf("%dm", r.Per/time.Minute)
	}
	return fmt.Sprintf("%d/%s", r.N, per)
}

func (r Rate) String() string {
	if r.N == 0 {
		return "no limit"
	}
	return fmt.Sprintf("%d per %s", r.N, auth.HumanDuration(r.Per))
}

// limiter is a token bucket per key: up to N at once, refilled at N per
// Per. Buckets that have refilled are forgotten once there are many, so
// its memory is bounded by the keys active within Per.
type limiter struct {
	rate    Rate
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxIdleBuckets is when the limiter starts forgetting full buckets.
const maxIdleBuckets = 10_000

func newLimiter(r Rate, now func() time.Time) *limiter {
	return &limiter{rate: r, now: now, buckets: map[string]*bucket{}}
}

// take spends one token of key's bucket; without one, it says how long
// until there is one. An empty key is not limited.
func (l *limiter) take(key string) (ok bool, retryAfter time.Duration) {
	if l.rate.N <= 0 || key == "" {
		return true, 0
	}
	perToken := l.rate.Per / time.Duration(l.rate.N)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxIdleBuckets {
			l.forgetFull(now)
		}
		b = &bucket{tokens: float64(l.rate.N), at: now}
		l.buckets[key] = b
	}
	b.refill(now, l.rate)
	if b.tokens < 1 {
		return false, max(time.Second, time.Duration((1-b.tokens)*float64(perToken)))
	}
	b.tokens--
	return true, 0
}

func (b *bucket) refill(now time.Time, r Rate) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(float64(r.N), b.tokens+float64(r.N)*elapsed.Seconds()/r.Per.Seconds())
		b.at = now
	}
}

func (l *limiter) forgetFull(now time.Time) {
	for k, b := range l.buckets {
		if b.refill(now, l.rate); b.tokens >= float64(l.rate.N) {
			delete(l.buckets, k)
		}
	}
}
