// Package postgres is the scale-out store.Store: PostgreSQL through pgx,
// shared by any number of wharf replicas.
//
// It keeps SQLite's semantics without SQLite's single writer: transactions
// run at READ COMMITTED, and every "create unless it exists" is an
// INSERT ... ON CONFLICT DO NOTHING. A conflicting insert waits for the
// transaction that holds the key to finish, and the next statement's fresh
// snapshot sees its row, so concurrent writers (in one process or many)
// leave exactly one winner and the losers read what it wrote. Deletes that
// report orphaned blobs lock the domain row first, which serializes them
// with the domain's AddAssets as SQLite's single writer does (lockDomain).
//
// The pool takes pgxpool's settings from the DSN (pool_max_conns ...); behind
// a transaction-mode pooler such as PgBouncer, add
// default_query_exec_mode=exec, as pgx caches prepared statements per
// connection by default.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wharfhq/wharf/internal/store"
)

// Store is a store.Store on one PostgreSQL database.
type Store struct {
	db *pgxpool.Pool
	// locks holds the sessions of held advisory locks (Lock), apart from
	// db, so that holders waiting on db for their writes can never starve
	// each other of connections.
	locks *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// migrationLock is the pg_advisory_lock key that serializes migrations of
// replicas starting at once ("wharf_mg" in ASCII).
const migrationLock int64 = 0x77686172665f6d67

// Open connects to the database dsn names (a postgres:// URL or libpq
// keyword/value string) and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	lockCfg := cfg.Copy()
	lockCfg.MaxConns, lockCfg.MinConns = maxHeldLocks, 0
	locks, err := pgxpool.NewWithConfig(ctx, lockCfg)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{db: db, locks: locks}, nil
}

func (s *Store) Close() error {
	s.db.Close()
	s.locks.Close()
	return nil
}

// migrate applies missing migrations on a connection of its own that holds
// the advisory lock: replicas starting together queue here, and the lock
// goes with the session if this process dies halfway.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	for v := 1; v <= len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var newest int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
				return err
			}
			if newest > len(migrations) {
				return fmt.Errorf("schema version %d is newer than this wharf knows (%d); upgrade wharf", newest, len(migrations))
			}
			if newest >= v {
				return nil
			}
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil { // no arguments: simple protocol, several statements
				return fmt.Errorf("migration %d: %w", v, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// write runs fn in a transaction and commits if fn returns nil. READ
// COMMITTED never fails with serialization errors, but a deadlock (which
// PostgreSQL breaks by aborting one side) is retried the same way.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.db, fn)
		if attempt < 5 && (sqlState(err) == "40001" || sqlState(err) == "40P01") {
			continue
		}
		return err
	}
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// IsUnavailable tells whether err means PostgreSQL could not be reached or
// is (re)starting or shutting down: the request may succeed later, so the
// server answers 503 with Retry-After rather than 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now (starting up, shutting down, recovery)
			"53300": // too_many_connections
			return true
		}
		return len(pe.Code) == 5 && pe.Code[:2] == "08" // connection_exception and its subclasses
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

type scanner interface{ Scan(dest ...any) error }

// querier is what both the pool and a transaction offer, so key lookups
// work inside and outside transactions.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// notFound turns "no row" into ErrNotFound about what.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// affected returns sentinel about what when the statement changed no row.
func affected(tag pgconn.CommandTag, err error, what string, sentinel error) error {
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("%s: %w", what, sentinel)
	}
	return err
}

// timeVal and timeOf map times to nanoseconds since the epoch (exact for
// 1678..2262) and the zero time to NULL.
func timeVal(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func timeOf(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// prefixRange turns a prefix filter into an index range: col >= lo AND
// (hi == "" OR col < hi), with hi the smallest string above every string
// starting with prefix. Unlike SQLite's byte increment, it increments the
// last rune: PostgreSQL refuses invalid UTF-8, and UTF-8 byte order is code
// point order, so the range holds exactly the (valid) strings with prefix.
func prefixRange(prefix string) (lo, hi string) {
	rs := []rune(prefix)
	for len(rs) > 0 {
		r := rs[len(rs)-1] + 1
		if r == 0xD800 { // surrogates are not runes
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			rs[len(rs)-1] = r
			return prefix, string(rs)
		}
		rs = rs[:len(rs)-1]
	}
	return prefix, ""
}
