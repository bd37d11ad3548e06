package sqlite

import (
	"context"
	"errors"
	"fmt"

	msqlite "modernc.org/sqlite"
	lib "modernc.org/sqlite/lib"

	"github.com/rosterhq/roster/sdk"
)

// Primary SQLite result codes the store tells apart.
const (
	codePerm       = lib.SQLITE_PERM
	codeBusy       = lib.SQLITE_BUSY
	codeLocked     = lib.SQLITE_LOCKED
	codeReadOnly   = lib.SQLITE_READONLY
	codeIOErr      = lib.SQLITE_IOERR
	codeFull       = lib.SQLITE_FULL
	codeCantOpen   = lib.SQLITE_CANTOPEN
	codeConstraint = lib.SQLITE_CONSTRAINT
	codeAuth       = lib.SQLITE_AUTH
	codeNotADB     = lib.SQLITE_NOTADB
	codeCorrupt    = lib.SQLITE_CORRUPT
)

// sqliteCode returns the extended result code of the first SQLite error
// in err's chain, or 0.
func sqliteCode(err error) int {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUnique reports whether err is a violated UNIQUE or PRIMARY KEY
// constraint.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == lib.SQLITE_CONSTRAINT_UNIQUE || c == lib.SQLITE_CONSTRAINT_PRIMARYKEY
}

// translate turns an error of the database into the store's answer:
// [*sdk.Error] values pass through, a call whose context is done returns
// the context's error, and anything else becomes CodeUnknown whose cause
// names the database file (a full disk, a read-only file, an I/O error)
// and whose message hints at the remedy.
func (s *Store) translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sdk.Error
	if errors.As(err, &se) {
		return err
	}
	if ctx.Err() != nil {
		// The call was cancelled: whatever failed (the statement SQLite
		// interrupted, the transaction database/sql rolled back), the
		// caller's error is the answer.
		return ctx.Err()
	}
	// The message names the file too: a sync report or a command line
	// shows the message alone, and the operator must know which disk.
	msg := "database error in " + s.path
	if h := hint(err); h != "" {
		msg += ": " + h
	}
	return sdk.E(op, sdk.CodeUnknown, "", msg, fmt.Errorf("%s: %w", s.path, err))
}

func notFound(op, what string) error {
	return sdk.E(op, sdk.CodeNotFound, "", what+" not found", nil)
}

func stale(op string) error {
	return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "the record changed since it was read", nil)
}

func exists(op, what string) error {
	return sdk.E(op, sdk.CodeAlreadyExists, "", what+" id exists", nil)
}

// firstErr returns err when it is not nil, and otherwise refusal.
func firstErr(err, refusal error) error {
	if err != nil {
		return err
	}
	return refusal
}
