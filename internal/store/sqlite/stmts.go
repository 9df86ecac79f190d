package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtDB is a *sql.DB whose QueryContext, QueryRowContext and ExecContext
// run through prepared statements kept per SQL text.
//
// On a *sql.DB, database/sql prepares every query afresh, and parsing
// (sqlite3_prepare) was 16% of wharf's CPU when project pages missed the
// page cache (bench/README.md, finding 10). A kept *sql.Stmt is prepared on
// a connection the first time it runs there and reused for the connection's
// life, so each text is parsed once per connection.
//
// A kept statement holds no lock between uses: the driver resets it when its
// Rows are closed (Row.Scan closes them; collect defers it) or its Exec
// ends, which ends its read transaction as finalizing would, so it neither
// pins an old WAL snapshot nor holds back a checkpoint.
type stmtDB struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt // nil once closed
}

// maxStmts bounds the texts kept. Listings assemble theirs from filters and
// cursors, a few dozen shapes in all; past the bound, queries run unprepared.
const maxStmts = 256

func newStmtDB(db *sql.DB) *stmtDB { return &stmtDB{DB: db, stmts: map[string]*sql.Stmt{}} }

func (db *stmtDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := db.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.DB.QueryContext(ctx, query, args...)
}

func (db *stmtDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.DB.QueryRowContext(ctx, query, args...)
}

func (db *stmtDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := db.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.DB.ExecContext(ctx, query, args...)
}

// stmt returns query's kept statement, preparing it on first use.
func (db *stmtDB) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := db.kept(query); st != nil {
		return st
	}
	return db.prepare(ctx, query)
}

func (db *stmtDB) kept(query string) *sql.Stmt {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.stmts[query]
}

// prepare prepares and keeps query's statement. It returns nil when the
// statement is not kept (the cache is full or closed, or preparing failed:
// running the query unprepared then reports the error).
func (db *stmtDB) prepare(ctx context.Context, query string) *sql.Stmt {
	db.mu.RLock()
	full := len(db.stmts) >= maxStmts
	db.mu.RUnlock()
	if full {
		return nil
	}
	// Prepared outside the lock: it waits for a connection.
	st, err := db.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	switch kept := db.stmts[query]; {
	case kept != nil: // prepared meanwhile
		st.Close()
		return kept
	case db.stmts == nil || len(db.stmts) >= maxStmts: // closed, or filled meanwhile
		st.Close()
		return nil
	}
	db.stmts[query] = st
	return st
}

func (db *stmtDB) Close() error {
	db.mu.Lock()
	stmts := db.stmts
	db.stmts = nil
	db.mu.Unlock()
	var errs []error
	for _, st := range stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, db.DB.Close())...)
}

// writeTx is a write transaction whose queries use the writer's kept
// statements, bound to the transaction by StmtContext (which reuses the one
// already prepared on the writer's connection).
type writeTx struct {
	*sql.Tx
	db *stmtDB
	// unprepared lists the texts that ran without a kept statement: preparing
	// one needs the writer's only connection, which the transaction holds,
	// so write prepares them once the transaction has ended.
	unprepared []string
}

func (tx *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

func (tx *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

func (tx *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

func (tx *writeTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := tx.db.kept(query); st != nil {
		return tx.Tx.StmtContext(ctx, st)
	}
	tx.unprepared = append(tx.unprepared, query)
	return nil
}
