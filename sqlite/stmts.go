package sqlite

import (
	"context"
	"database/sql"
)

// stmts are the prepared statements of the hot paths.
type stmts struct{}

func prepare(ctx context.Context, w, r *sql.DB) (*stmts, error) { return &stmts{}, nil }

func (st *stmts) close() error { return nil }
