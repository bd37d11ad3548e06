package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// applicationID is PRAGMA application_id of every Roster database: "RSTR".
const applicationID = 0x52535452

// step is one forward migration: apply brings a database at schema version
// version-1 to version, inside the migration's transaction.
type step struct {
	version int
	name    string
	apply   func(ctx context.Context, tx *sql.Tx) error
}

// migrations are the schema versions this build knows, in order; the
// version of a database is the number of steps applied to it.
var migrations = []step{
	{1, "initial schema", execAll(schemaV1...)},
}

// execAll returns a step body running the statements in order.
func execAll(stmts ...string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%w (in %.60q)", err, q)
			}
		}
		return nil
	}
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// probe looks at an existing file before anything writes to it: it must
// be empty, or a Roster database this build can read. It never changes
// the file nor creates any beside it: it reads the header, and, when the
// header carries no application id (an empty database, another
// application's, or a new Roster database whose first transaction is
// still in its WAL), asks SQLite through an immutable read-only
// connection, which takes no lock and ignores any WAL. migrate checks
// again, authoritatively, inside its transaction.
//
// An immutable read can catch a running server's checkpoint copying pages
// from the WAL into the file, and see a half-written page (SQLITE_CORRUPT,
// or a header that looks foreign). Such a read is tried again a few times,
// a little later each time, while a WAL file sits beside the database.
func probe(ctx context.Context, abs string, known int) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = probeOnce(ctx, abs, known)
		transient := sqliteCode(err)&0xff == codeCorrupt || errors.Is(err, ErrNotRosterDatabase)
		if err == nil || !transient || attempt == probeAttempts || !hasWAL(abs) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
	}
}

// probeAttempts bounds probe's reads of a database being checkpointed.
const probeAttempts = 5

// hasWAL reports whether a non-empty WAL file sits beside the database:
// some connection has it open in WAL mode (or crashed with it so).
func hasWAL(abs string) bool {
	fi, err := os.Stat(abs + "-wal")
	return err == nil && fi.Size() > 0
}

func probeOnce(ctx context.Context, abs string, known int) error {
	f, err := os.Open(abs)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	f.Close()
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil // an empty file is an empty database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case n < len(head) || !bytes.Equal(head[:len(sqliteMagic)], sqliteMagic):
		return ErrNotRosterDatabase
	}
	switch binary.BigEndian.Uint32(head[68:]) {
	case applicationID:
		// The header may lag behind the WAL, never run ahead of it.
		return check(applicationID, int(binary.BigEndian.Uint32(head[60:])), 1, known)
	case 0:
	default:
		return ErrNotRosterDatabase
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro&immutable=1"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	id, version, tables, err := identify(ctx, conn)
	if err != nil {
		if sqliteCode(err)&0xff == codeNotADB {
			return ErrNotRosterDatabase
		}
		return err
	}
	return check(id, version, tables, known)
}

// querier is what identify needs of a connection or transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// identify reads the database's application id, user version and number
// of schema objects.
func identify(ctx context.Context, q querier) (id, version, objects int, err error) {
	if err = q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return
	}
	if err = q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return
	}
	err = q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects)
	return
}

// current returns the schema version of the database q reads, after
// checking that it is a Roster database this build can open.
func current(ctx context.Context, q querier, known int) (int, error) {
	id, version, objects, err := identify(ctx, q)
	if err != nil {
		return 0, err
	}
	if err := check(id, version, objects, known); err != nil {
		return 0, err
	}
	return version, nil
}

// check decides from identify's answer whether a database is one Open
// may use: Roster's (at a version it knows) or empty.
func check(id, version, objects, known int) error {
	switch {
	case id == 0 && objects == 0 && version == 0:
		return nil
	case id != applicationID:
		return ErrNotRosterDatabase
	case version > known:
		return fmt.Errorf("%w: version %d, this build knows up to %d", ErrNewerSchema, version, known)
	}
	return nil
}

// migrate switches the database to WAL and brings its schema to the last
// of steps in one write transaction, which another process opening the
// file at the same moment waits for (and then finds nothing to do). It
// returns the schema version.
func migrate(ctx context.Context, db *sql.DB, steps []step, log *slog.Logger) (int, error) {
	for i, s := range steps {
		if s.version != i+1 {
			return 0, fmt.Errorf("migration %q has version %d, want %d", s.name, s.version, i+1)
		}
	}
	// A database already in WAL mode at the current version (every open
	// but the first) is checked with reads alone, which never wait for a
	// writer: a write transaction here would queue behind the writes of
	// other processes, and a busy server or sync could starve it past the
	// busy timeout.
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return 0, err
	}
	if mode == "wal" {
		if version, err := current(ctx, db, len(steps)); err != nil || version == len(steps) {
			return version, err
		}
	} else {
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
			return 0, err
		}
		if mode != "wal" {
			return 0, fmt.Errorf("the file system does not support SQLite's WAL mode (journal mode %q)", mode)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	version, err := current(ctx, tx, len(steps))
	if err != nil || version == len(steps) {
		return version, err
	}
	for _, s := range steps[version:] {
		start := time.Now()
		if err := s.apply(ctx, tx); err != nil {
			return 0, fmt.Errorf("migration %d (%s): %w", s.version, s.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
			s.version, s.name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return 0, fmt.Errorf("migration %d (%s): %w", s.version, s.name, err)
		}
		log.Info("sqlite: schema migrated", "version", s.version, "step", s.name, "took", time.Since(start))
	}
	// PRAGMA takes no parameters; both values are integers this code chose.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps))); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(steps), nil
}
