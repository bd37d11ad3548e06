package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rosterhq/roster/sdk"
)

// wtx is one write transaction: BEGIN IMMEDIATE on the write connection,
// so it holds SQLite's write lock from its first statement and never has
// to upgrade a read lock (two writers that did could only fail, never
// wait). Every store method that writes runs exactly one.
type wtx struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store
	st  [numQueries]*sql.Stmt // the prepared statements bound to tx, as used
}

// write runs fn in one write transaction, committing when it returns nil
// and rolling back otherwise. Its error is translated (see translate).
func (s *Store) write(ctx context.Context, op string, fn func(t *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.wsem }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(ctx, op, err)
	}
	t := &wtx{ctx: ctx, tx: tx, s: s}
	if err := fn(t); err != nil {
		_ = tx.Rollback()
		return s.translate(ctx, op, err)
	}
	return s.translate(ctx, op, tx.Commit())
}

// stmt returns the prepared statement q bound to the transaction.
func (t *wtx) stmt(q query) *sql.Stmt {
	if t.st[q] == nil {
		t.st[q] = t.tx.StmtContext(t.ctx, t.s.st.w[q])
	}
	return t.st[q]
}

func (t *wtx) exec(q query, args ...any) (int64, error) {
	res, err := t.stmt(q).ExecContext(t.ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// put runs the write q with args, which the record's args function made
// (err is its error); conflict, when set, explains a violated unique
// index.
func (t *wtx) put(q query, args []any, err error, conflict func(cause error) error) error {
	if err != nil {
		return err
	}
	if _, err := t.exec(q, args...); err != nil {
		if conflict != nil && isUnique(err) {
			return conflict(err)
		}
		return err
	}
	return nil
}

func (t *wtx) row(q query, args ...any) *sql.Row {
	return t.stmt(q).QueryRowContext(t.ctx, args...)
}

// count runs a query answering one integer.
func (t *wtx) count(q query, args ...any) (int64, error) {
	var n int64
	err := t.row(q, args...).Scan(&n)
	return n, err
}

// found runs a count query and reports whether it counted anything.
func (t *wtx) found(q query, args ...any) (bool, error) {
	n, err := t.count(q, args...)
	return n > 0, err
}

// read returns the statement q for a read, and the function that gives
// back what it holds. A point read (a statement prepared on both sides)
// runs on the write connection when no write holds it: its page cache
// survives this process's writes, while a read connection's is dropped
// whenever another connection commits. Otherwise it runs on the read
// pool.
func (s *Store) read(q query) (*sql.Stmt, func()) {
	if s.st.w[q] != nil {
		select {
		case s.wsem <- struct{}{}:
			return s.st.w[q], s.releaseWriter
		default:
		}
	}
	return s.st.r[q], func() {}
}

func (s *Store) releaseWriter() { <-s.wsem }

// readOne runs the read statement q, which selects one doc column, and
// decodes the row with dec; no row is CodeNotFound for what.
func readOne[T any](ctx context.Context, s *Store, op, what string, q query, dec func([]byte) (T, error), args ...any) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	st, release := s.read(q)
	defer release()
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return zero, s.translate(ctx, op, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return zero, s.translate(ctx, op, err)
		}
		return zero, notFound(op, what)
	}
	var doc sql.RawBytes
	if err := rows.Scan(&doc); err != nil {
		return zero, s.translate(ctx, op, err)
	}
	v, err := dec(doc)
	if err != nil {
		return zero, s.translate(ctx, op, err)
	}
	return v, nil
}

// collect runs a query selecting one doc column and decodes each row with
// dec, in order.
func collect[T any](ctx context.Context, rows *sql.Rows, err error, dec func([]byte) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var doc sql.RawBytes
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		v, err := dec(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func badSeat(op string, c sdk.SeatChange) error {
	return sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, fmt.Sprintf("seat change %d is not one this write takes", c), nil)
}

func seatLimit(op string) error {
	return sdk.E(op, sdk.CodeResourceExhausted, sdk.ReasonSeatLimit, "the tenant's seat limit is reached", nil)
}
