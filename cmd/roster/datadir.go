package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster/sqlite"
)

// Files of a data directory.
const (
	// dbFile is the SQLite database; SQLite keeps dbFile-wal and
	// dbFile-shm beside it while it is open.
	dbFile = "roster.db"
	// lockFile is held (flock) by the server serving the directory, so
	// that a second server on it fails clearly. Admin commands do not take
	// it: SQLite's own locking orders their writes with the server's.
	lockFile = "roster.lock"
	// legacyDir is where Roster's earlier embedded database (FerretDB v1)
	// kept its SQLite files.
	legacyDir = "db"
)

// legacyDataError reports a data directory holding the earlier embedded
// database (FerretDB), which this version does not read.
type legacyDataError struct{ dir string }

func (e *legacyDataError) Error() string {
	return fmt.Sprintf(`data directory %[1]s holds the embedded database of an earlier Roster (FerretDB, in %[2]s); this version keeps its data in %[3]s and did not touch it.
To bring that data over, stop every roster using %[1]s and run, from a checkout of the Roster source:
    go run ./cmd/roster-upgrade-data --data %[1]s
It copies everything into %[3]s and keeps %[2]s as it was; or point --data at a new directory to start afresh`,
		e.dir, filepath.Join(e.dir, legacyDir), filepath.Join(e.dir, dbFile))
}

// dataDir resolves a data directory: it makes it absolute, creates it when
// create is set (and fails naming it when it does not exist otherwise),
// and refuses one in the earlier embedded format.
func dataDir(dir string, create bool) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("data directory %s: %w", dir, err)
	}
	if create {
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", fmt.Errorf("cannot create data directory %s: %w", abs, unwrapPath(err))
		}
	} else if fi, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("data directory %s does not exist: pass --data (or set %s) to where 'roster serve' keeps its data, or create a tenant first", abs, envData)
	} else if err != nil {
		return "", fmt.Errorf("data directory %s: %w", abs, unwrapPath(err))
	} else if !fi.IsDir() {
		return "", fmt.Errorf("data directory %s is not a directory", abs)
	}
	if isLegacy(abs) {
		return "", &legacyDataError{dir: abs}
	}
	return abs, nil
}

// isLegacy reports whether dir holds the earlier embedded database and no
// SQLite store of this version.
func isLegacy(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, dbFile)); err == nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, legacyDir))
	return err == nil && fi.IsDir()
}

// openSQLite opens the SQLite store of the data directory dir.
func openSQLite(ctx context.Context, dir string, log *slog.Logger) (*sqlite.Store, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dir, dbFile), sqlite.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("cannot open the data directory %s: %w", dir, err)
	}
	return st, nil
}

// unwrapPath drops the path of a *fs.PathError, for messages that name it
// themselves.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
