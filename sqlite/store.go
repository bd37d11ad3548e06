package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is an [sdk.Store] on one SQLite database file. It is safe for
// concurrent use by many goroutines, and several processes may open the
// same file at once: every write is one SQLite transaction taken with
// BEGIN IMMEDIATE, so SQLite's file locks order them.
//
// Create one with [Open] and release it with [Store.Close].
type Store struct {
	path    string
	version int
	log     *slog.Logger
	// w holds the one connection that writes: writes of this process queue
	// for it instead of contending for SQLite's write lock.
	w *sql.DB
	// r is the pool of read connections; in WAL mode they read a snapshot
	// while w writes.
	r  *sql.DB
	st *stmts
	// wsem is held by whoever uses w: a write transaction, or a point
	// read that found it free (see read).
	wsem chan struct{}
	// queue holds the writes waiting for w, under qmu (see write).
	qmu   sync.Mutex
	queue []*job
	// dyn caches the statements built at run time (filters), prepared on
	// r; ndyn counts them.
	dyn  sync.Map // string → *sql.Stmt
	ndyn atomic.Int32
	// ck is the connection of the checkpointer, which copies the WAL into
	// the database in the background (see checkpoints); stop ends it and
	// done reports that it has.
	ck         *sql.DB
	stop, done chan struct{}
	closed     atomic.Bool
}

// Option configures [Open].
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	log         *slog.Logger
	steps       []step // the migrations; tests replace them
}

// WithBusyTimeout sets how long a statement waits for another process's
// lock on the database before it fails. The default is 10 seconds.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// WithLogger sets the logger the store reports migrations to (at info
// level). Without it the store logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// withSteps replaces the list of migrations, for tests of the machinery.
func withSteps(s []step) Option {
	return func(o *options) { o.steps = s }
}

// DefaultBusyTimeout is the busy timeout of [Open] without [WithBusyTimeout].
const DefaultBusyTimeout = 10 * time.Second

// ErrNotRosterDatabase is the cause of an [*OpenError] for a file that
// exists and is not a Roster database: not an SQLite database at all, or
// one with another application id, or one that holds tables of another
// application. Open leaves such a file untouched.
var ErrNotRosterDatabase = errors.New("not a Roster SQLite database")

// ErrNewerSchema is the cause of an [*OpenError] for a Roster database
// whose schema version is above the versions this build knows: it was
// written by a newer Roster. Open leaves it untouched.
var ErrNewerSchema = errors.New("database schema is newer than this build of Roster")

// OpenError is the error of every failed [Open]: Path is the database file
// and Err the cause, such as [ErrNotRosterDatabase], [ErrNewerSchema] or
// an SQLite or file system error (a directory that is missing or not
// writable, a full disk).
type OpenError struct {
	Path string
	Err  error
}

// Error names the path and the cause, and adds a hint at what to do.
func (e *OpenError) Error() string {
	msg := "sqlite: open " + e.Path + ": " + e.Err.Error()
	if h := hint(e.Err); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

// Unwrap returns the cause.
func (e *OpenError) Unwrap() error { return e.Err }

func hint(err error) string {
	switch {
	case errors.Is(err, ErrNotRosterDatabase):
		return "the file belongs to something else; point Roster at a new file or at a Roster database"
	case errors.Is(err, ErrNewerSchema):
		return "a newer Roster wrote it; upgrade Roster"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ""
	}
	switch sqliteCode(err) & 0xff {
	case codeFull:
		return "the disk is full"
	case codeCantOpen, codePerm, codeReadOnly, codeAuth:
		return "check that the directory exists and that this user may write the directory and the file"
	case codeIOErr:
		return "the file system reported an I/O error"
	case codeBusy, codeLocked:
		return "another process holds the database locked; raise the busy timeout or stop it"
	}
	return ""
}

// Open opens the Roster database at path (a file, created with its schema
// when missing; its directory must exist), runs the forward migrations
// this build knows, and returns the store. A file that is not a Roster
// database, or whose schema is newer than this build's, is left untouched.
// Every error is an [*OpenError].
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout, steps: migrations}
	for _, opt := range opts {
		opt(&o)
	}
	s, err := open(ctx, path, o)
	if err != nil {
		return nil, &OpenError{Path: path, Err: err}
	}
	return s, nil
}

func open(ctx context.Context, path string, o options) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := probe(ctx, abs, len(o.steps)); err != nil {
		return nil, err
	}
	log := o.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{path: path, log: log, wsem: make(chan struct{}, 1)}
	base := dsn(abs, o.busyTimeout)
	if s.w, err = sql.Open("sqlite", base+"&_txlock=immediate"); err != nil {
		return nil, err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if s.version, err = migrate(ctx, s.w, o.steps, log); err != nil {
		s.w.Close()
		return nil, err
	}
	if s.r, err = sql.Open("sqlite", base); err != nil {
		s.w.Close()
		return nil, err
	}
	s.r.SetMaxIdleConns(4)
	s.r.SetConnMaxIdleTime(0)
	if s.st, err = prepare(ctx, s.w, s.r); err != nil {
		s.Close()
		return nil, err
	}
	if s.ck, err = sql.Open("sqlite", base); err != nil {
		s.Close()
		return nil, err
	}
	s.ck.SetMaxOpenConns(1)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.checkpoints(checkpointEvery)
	return s, nil
}

// checkpointEvery is how often the checkpointer runs.
const checkpointEvery = time.Second

// checkpoints copies the WAL into the database file every interval with a
// PASSIVE checkpoint, which waits for no reader or writer, so that
// commits rarely run one themselves: SQLite's own automatic checkpoint,
// run by the commit that takes the WAL past wal_autocheckpoint pages,
// stays as a backstop.
func (s *Store) checkpoints(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.ck.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				s.log.Warn("sqlite: checkpoint", "path", s.path, "err", err)
			}
		}
	}
}

// query runs a read built at run time, from a statement prepared once
// for each distinct text (up to maxDynamic short ones).
func (s *Store) query(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st, ok := s.dyn.Load(text); ok {
		return st.(*sql.Stmt).QueryContext(ctx, args...)
	}
	if len(text) > 2000 || s.ndyn.Load() >= maxDynamic {
		return s.r.QueryContext(ctx, text, args...)
	}
	st, err := s.r.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.dyn.LoadOrStore(text, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	} else {
		s.ndyn.Add(1)
	}
	return st.QueryContext(ctx, args...)
}

// maxDynamic bounds the statements query keeps.
const maxDynamic = 256

// dsn is the data source name of the database file at the absolute path
// abs: a file: URI, so that any character of the path is allowed, with the
// per-connection settings.
func dsn(abs string, busy time.Duration) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(OFF)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "wal_autocheckpoint(20000)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	q.Add("_pragma", "cache_size(-65536)")
	u.RawQuery = q.Encode()
	// url.URL writes file:///abs for an absolute path, which SQLite reads.
	return u.String()
}

// Close closes the database; calls in flight may fail, later calls fail
// with CodeUnknown. Closing again does nothing.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if s.stop != nil {
		close(s.stop)
		<-s.done
		errs = append(errs, s.ck.Close())
	}
	s.dyn.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	if s.st != nil {
		errs = append(errs, s.st.close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// SchemaVersion returns the schema version of the open database: the
// highest migration applied, also kept in PRAGMA user_version.
func (s *Store) SchemaVersion() int { return s.version }

// Backup writes a consistent copy of the database to the file to, which
// must not exist, while the store stays in use (VACUUM INTO reads one
// snapshot; writers are not blocked). The copy is itself a Roster database
// that [Open] accepts, compacted.
func (s *Store) Backup(ctx context.Context, to string) error {
	const op = "sqlite.Backup"
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("%s: %s: %w", op, to, os.ErrExist)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := s.r.ExecContext(ctx, "VACUUM INTO ?", to); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: copy %s to %s: %w", op, s.path, to, err)
	}
	return nil
}

var _ io.Closer = (*Store)(nil)
