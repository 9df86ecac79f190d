package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/wharfhq/wharf/internal/store"
)

// listQuery builds the WHERE clause of a keyset-paginated listing.
type listQuery struct {
	conds []string
	args  []any
	limit int
	// after's condition when it ended up on one column, so prefix can tell
	// which lower bound is the stricter one.
	afterCol, afterVal string
}

func (q *listQuery) where(cond string, args ...any) {
	q.conds = append(q.conds, cond)
	q.args = append(q.args, args...)
}

// prefix must come after after.
func (q *listQuery) prefix(col, prefix string) {
	if prefix == "" {
		return
	}
	lo, hi := prefixRange(prefix)
	if q.afterCol != col || q.afterVal < lo {
		q.where(col+" >= ?", lo)
	}
	if hi != "" {
		q.where(col+" < ?", hi)
	}
}

// after resumes after the cursor's key; cols are the ORDER BY columns and
// fixed the values of its leading columns that equality filters pin. Those
// are left out of the row-value comparison: SQLite then seeks straight to
// the cursor instead of filtering every row before it.
func (q *listQuery) after(cursor string, fixed []string, cols ...string) error {
	if cursor == "" {
		return nil
	}
	key, err := store.DecodeCursor(cursor, len(cols))
	if err != nil {
		return err
	}
	for i, f := range fixed {
		switch c := strings.Compare(key[i], f); {
		case c < 0: // cursor before every row
			return nil
		case c > 0: // cursor after every row
			q.where("0")
			return nil
		}
	}
	key, cols = key[len(fixed):], cols[len(fixed):]
	if len(cols) == 1 {
		q.afterCol, q.afterVal = cols[0], key[0]
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	q.where("("+strings.Join(cols, ", ")+") > ("+marks+")", anys(key)...)
	return nil
}

func anys(ss []string) []any {
	a := make([]any, len(ss))
	for i, s := range ss {
		a[i] = s
	}
	return a
}

// sql renders the query: one row more than the limit tells whether there
// is a next page.
func (q listQuery) sql(sel, order string) (string, []any) {
	query := sel
	if len(q.conds) > 0 {
		query += " WHERE " + strings.Join(q.conds, " AND ")
	}
	return query + " ORDER BY " + order + " LIMIT ?", append(slices.Clip(q.args), q.limit+1)
}

func list[T any](ctx context.Context, db querier, q listQuery, sel, order string,
	scan func(scanner) (T, error), key func(T) []string) ([]T, string, error) {
	if q.limit < 1 {
		return nil, "", fmt.Errorf("page limit %d, must be at least 1", q.limit)
	}
	query, args := q.sql(sel, order)
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	items, err := collect(rows, scan)
	if err != nil || len(items) <= q.limit {
		return items, "", err
	}
	items = items[:q.limit]
	return items, store.EncodeCursor(key(items[len(items)-1])...), nil
}

func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var items []T
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, rows.Err()
}
