package postgres

import (
	"context"
	"hash/fnv"
)

// maxHeldLocks bounds the locks one replica holds at once (each is a
// session): concurrent upstream downloads and publishes beyond it wait.
const maxHeldLocks = 64

// Lock holds a session-level advisory lock on a dedicated pool connection,
// so every replica on this database waits for the holder. The key is
// hashed to the lock's 64-bit id; a collision only makes two keys share a
// lock.
func (s *Store) Lock(ctx context.Context, key string) (func(), error) {
	h := fnv.New64a()
	h.Write([]byte("wharf:" + key))
	id := int64(h.Sum64())
	conn, err := s.locks.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		conn.Release()
		return nil, err
	}
	return func() {
		// Unlock even when the caller's context is gone; a failed unlock
		// closes the session, which releases the lock too.
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, id); err != nil {
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, nil
}
