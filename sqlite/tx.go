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
//
// Writes that arrive while another holds the write connection are
// committed together (group commit): the next writer to take the
// connection runs every write queued by then in one transaction, each in
// a savepoint of its own — a write that fails is rolled back to its
// savepoint alone — and commits once. Each caller returns after the
// commit that made its write durable, with its own outcome, as if it had
// run alone at that point of the order; a commit costs one pass over the
// log whatever the number of writes in it, which is most of a small
// write's cost.
func (s *Store) write(ctx context.Context, op string, fn func(t *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &job{ctx: ctx, op: op, fn: fn, done: make(chan error, 1)}
	s.qmu.Lock()
	s.queue = append(s.queue, j)
	s.qmu.Unlock()
	for {
		select {
		case err := <-j.done:
			return err
		case s.wsem <- struct{}{}:
			// This caller leads: it commits what is queued, its own write
			// among it unless an earlier leader took it.
			s.qmu.Lock()
			batch := s.queue
			s.queue = nil
			s.qmu.Unlock()
			if len(batch) > 0 {
				s.commit(batch)
			}
			<-s.wsem
		case <-ctx.Done():
			// The write may still run (it then checks ctx first and
			// gives up) or be running; as for any write whose caller gave
			// up, its outcome is unknown to the caller.
			return ctx.Err()
		}
	}
}

// job is one write waiting for the write connection.
type job struct {
	ctx  context.Context
	op   string
	fn   func(t *wtx) error
	done chan error // receives the outcome once, after the commit
}

// maxBatch bounds the writes one transaction commits.
const maxBatch = 64

// commit runs the writes of batch, in order, in transactions of at most
// maxBatch writes, and tells each its outcome. The caller holds wsem.
func (s *Store) commit(batch []*job) {
	for len(batch) > maxBatch {
		s.commit(batch[:maxBatch])
		batch = batch[maxBatch:]
	}
	if len(batch) == 1 {
		j := batch[0]
		j.done <- s.alone(j)
		return
	}
	// The transaction outlives any one caller's context, and so do the
	// writes in it: a caller's context cancelled while its statement runs
	// would have SQLite interrupt it, and an interrupted INSERT, UPDATE
	// or DELETE rolls back the whole transaction, failing every other
	// write of the batch. A write whose caller is gone before it starts
	// is skipped; one under way completes (its outcome is unknown to a
	// caller that gave up, as write says).
	tx, err := s.w.BeginTx(context.WithoutCancel(batch[0].ctx), nil)
	if err != nil {
		for _, j := range batch {
			j.done <- s.translate(j.ctx, j.op, err)
		}
		return
	}
	outcome := make([]error, len(batch))
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			outcome[i] = err
			continue
		}
		if _, err := tx.ExecContext(context.WithoutCancel(j.ctx), "SAVEPOINT w"); err != nil {
			outcome[i] = err
			continue
		}
		err := j.fn(&wtx{ctx: context.WithoutCancel(j.ctx), tx: tx, s: s})
		if err != nil {
			outcome[i] = err
			if _, rerr := tx.ExecContext(context.WithoutCancel(j.ctx), "ROLLBACK TO w"); rerr != nil {
				s.abort(tx, batch, outcome, rerr)
				return
			}
		}
		if _, rerr := tx.ExecContext(context.WithoutCancel(j.ctx), "RELEASE w"); rerr != nil && outcome[i] == nil {
			// The write is still in the transaction: failing it alone
			// would commit it all the same.
			s.abort(tx, batch, outcome, rerr)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range outcome {
			if outcome[i] == nil {
				outcome[i] = err
			}
		}
	}
	s.tell(batch, outcome)
}

// abort rolls back tx, which cannot go on: nothing of it is kept, so
// every write of batch without an outcome of its own, those done so far
// included, fails with err.
func (s *Store) abort(tx *sql.Tx, batch []*job, outcome []error, err error) {
	_ = tx.Rollback()
	for k := range outcome {
		if outcome[k] == nil {
			outcome[k] = err
		}
	}
	s.tell(batch, outcome)
}

// tell gives each write of batch its translated outcome.
func (s *Store) tell(batch []*job, outcome []error) {
	for i, j := range batch {
		j.done <- s.translate(j.ctx, j.op, outcome[i])
	}
}

// alone runs one write in a transaction of its own.
func (s *Store) alone(j *job) error {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(j.ctx, nil)
	if err != nil {
		return s.translate(j.ctx, j.op, err)
	}
	if err := j.fn(&wtx{ctx: j.ctx, tx: tx, s: s}); err != nil {
		_ = tx.Rollback()
		return s.translate(j.ctx, j.op, err)
	}
	return s.translate(j.ctx, j.op, tx.Commit())
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
