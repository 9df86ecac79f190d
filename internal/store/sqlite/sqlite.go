// Package sqlite is the embedded default store.Store: one SQLite file in WAL
// mode, through the pure-Go modernc.org/sqlite driver.
//
// Writes go through a single connection whose transactions begin IMMEDIATE:
// writers queue in Go instead of racing for SQLite's lock, and a write
// transaction never has to upgrade a read lock (the upgrade that fails with
// SQLITE_BUSY regardless of busy_timeout). Reads use a pool of read-only
// connections that WAL lets run alongside the writer. busy_timeout still
// covers other processes opening the same file.
//
// Durability: synchronous=FULL by default, so SQLite fsyncs the WAL at every
// commit and an acknowledged write (a publish whose blob is already
// fsynced) survives an OS crash or power loss. NORMAL (OpenSync) syncs only
// at checkpoints: cheaper commits, but the last transactions before such a
// crash can be rolled back (never corrupted). bench/README.md has the cost.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/wharfhq/wharf/internal/store"
)

// Store is a store.Store on one SQLite file.
type Store struct {
	w              *stmtDB // one connection, for writes
	r              *stmtDB // read-only pool
	store.KeyLocks         // one node: process-local locks
}

var _ store.Store = (*Store)(nil)

const basePragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"

// Synchronous is SQLite's synchronous setting (https://sqlite.org/pragma.html#pragma_synchronous).
type Synchronous string

const (
	// SyncFull fsyncs the WAL at every commit: a write is durable once
	// acknowledged. The default.
	SyncFull Synchronous = "FULL"
	// SyncNormal fsyncs only at checkpoints: an OS crash or power loss can
	// roll back the last acknowledged writes (the database stays consistent).
	SyncNormal Synchronous = "NORMAL"
)

// Open opens or creates the database at path and brings its schema up to
// date, with durable commits (SyncFull).
func Open(path string) (*Store, error) { return OpenSync(path, SyncFull) }

// OpenSync is Open with a chosen synchronous setting.
func OpenSync(path string, sync Synchronous) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		// The driver would read these as URI syntax, not as part of the name.
		return nil, fmt.Errorf("sqlite: unsupported database path %q", path)
	}
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("sqlite: synchronous=%q: use FULL or NORMAL", sync)
	}
	pragmas := basePragmas + "&_pragma=synchronous(" + string(sync) + ")"
	w, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	s := &Store{w: newStmtDB(w)}
	if err := s.migrate(context.Background()); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	// Opened after migrate, so every reader sees the file already in WAL mode.
	r, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// Idle readers stay open: opening one re-runs the pragmas.
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = newStmtDB(r)
	return s, nil
}

func (s *Store) Close() error { return errors.Join(s.r.Close(), s.w.Close()) }

func (s *Store) migrate(ctx context.Context) error {
	// Run once per Open: not worth a kept statement.
	if _, err := s.w.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return err
	}
	for v := 1; v <= len(migrations); v++ {
		err := s.write(ctx, func(tx *writeTx) error {
			var newest int
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
				return err
			}
			if newest > len(migrations) {
				return fmt.Errorf("schema version %d is newer than this wharf knows (%d); upgrade wharf", newest, len(migrations))
			}
			if newest >= v { // applied earlier, or by another process meanwhile
				return nil
			}
			if _, err := tx.Tx.ExecContext(ctx, migrations[v-1]); err != nil { // a script, run once: not kept
				return fmt.Errorf("migration %d: %w", v, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// write runs fn in an IMMEDIATE transaction on the writer connection and
// commits if fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *writeTx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &writeTx{Tx: sqlTx, db: s.w}
	defer func() {
		sqlTx.Rollback() // no-op after Commit
		// The connection is free again: keep what ran unprepared.
		for _, q := range tx.unprepared {
			s.w.stmt(ctx, q)
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return sqlTx.Commit()
}

type scanner interface{ Scan(dest ...any) error }

// querier is what both the read pool and a write transaction offer, so
// lookups work inside and outside transactions.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// timeVal and timeOf map times to nanoseconds since the epoch (exact for
// 1678..2262) and the zero time to NULL.
func timeVal(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// prefixRange turns a prefix filter into an index range: name >= lo AND
// (hi == "" OR name < hi), with hi the smallest string above every string
// starting with prefix (SQLite compares text bytewise).
func prefixRange(prefix string) (lo, hi string) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return prefix, ""
	}
	b[len(b)-1]++
	return prefix, string(b)
}
