package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/rosterhq/roster/sdk"
)

// scanBatch is how many rows a page whose filter SQL cannot answer
// exactly reads per query while it looks for matches.
const scanBatch = 500

// filterWhere translates a member filter: status and role are columns,
// the prefix a test of four key columns, Where what memberWhere makes of
// it.
func filterWhere(tenantID string, f sdk.MemberFilter) cond {
	parts := []cond{memberWhere(tenantID, f.Where)}
	if f.Status != "" {
		parts = append(parts, cond{sql: "status = ?", args: []any{string(f.Status)}, exact: true})
	}
	if f.Role != "" {
		parts = append(parts, cond{sql: "role = ?", args: []any{f.Role}, exact: true})
	}
	if f.Prefix != "" {
		var ors []cond
		for _, col := range []string{"email_key", "given_key", "family_key", "display_key"} {
			ors = append(ors, textLeaf(col, sdk.OpSw, f.Prefix))
		}
		parts = append(parts, or(ors...))
	}
	return and(parts...)
}

// ListMembers implements [sdk.MemberStore]. The page is read in id order
// from the (tenant_id, id) index, or from (tenant_id, status, id) or
// (tenant_id, role, id) when the filter fixes one, starting after q.After;
// a filter that SQL answers exactly costs one query of q.Limit rows, and
// q.Offset is skipped inside that query (see [pageSQL]). Any other filter
// is bounded from above in SQL and checked with [sdk.Cond.Match], reading
// scanBatch rows at a time until the page is full: its cost grows with the
// rows skipped — the q.Offset matches skipped included — not with how deep
// the page is.
func (s *Store) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	const op = "sqlite.ListMembers"
	w := filterWhere(tenantID, q.Filter)
	var keep func(*sdk.Member) bool
	if !w.exact {
		keep = q.Filter.Where.Match
	}
	out, err := pageAt(ctx, s, "members", tenantID, w, q.After, q.Offset, q.Limit, decodeMember, keep)
	return out, s.translate(ctx, op, err)
}

// pageOf reads up to limit records of the tenant from table, in id order
// after after, whose row satisfies w and, when keep is set, which keep
// accepts.
func pageOf[T any](ctx context.Context, s *Store, table, tenantID string, w cond, after string, limit int,
	dec func([]byte) (T, error), keep func(T) bool) ([]T, error) {
	return pageAt(ctx, s, table, tenantID, w, after, 0, limit, dec, keep)
}

// pageAt is pageOf skipping the first offset records it would return.
// Without keep it is one statement whatever the offset; with keep the
// offset is skipped in Go, reading the rows skipped.
func pageAt[T any](ctx context.Context, s *Store, table, tenantID string, w cond, after string, offset, limit int,
	dec func([]byte) (T, error), keep func(T) bool) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, errors.New("negative offset") // the SDK refuses it first
	}
	batch := limit
	if keep != nil {
		batch = max(limit, scanBatch)
	}
	seek := keep == nil && offset > 0
	text := pageSQL(table, w, seek)
	args := make([]any, 0, 2*len(w.args)+5)
	out := []T{}
	for {
		if seek {
			args = append(append(append(args[:0], tenantID, tenantID, after), w.args...), offset)
			args = append(append(args, w.args...), sqlLimit(batch))
		} else {
			args = append(append(append(args[:0], tenantID, after), w.args...), sqlLimit(batch))
		}
		rows, err := s.query(ctx, text, args...)
		if err != nil {
			return nil, err
		}
		n := 0
		for rows.Next() {
			var id string
			var doc sql.RawBytes
			if err := rows.Scan(&id, &doc); err != nil {
				rows.Close()
				return nil, err
			}
			n++
			after = id
			v, err := dec(doc)
			if err != nil {
				rows.Close()
				return nil, err
			}
			if keep == nil || keep(v) {
				if !seek && offset > 0 {
					offset--
					continue
				}
				out = append(out, v)
				if limit > 0 && len(out) == limit {
					break
				}
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if keep == nil || n < batch || batch <= 0 || (limit > 0 && len(out) == limit) {
			return out, nil
		}
	}
}

// pageSQL is the query of pageOf. Its arguments are the tenant id, the
// lower bound, w's and the limit; with seek, the tenant id, the lower
// bound, w's, the offset, w's again and the limit.
//
// A seek finds the first id of the page in a subquery that reads ids only
// (SELECT id … LIMIT 1 OFFSET ?), then reads the page's rows from there:
// the rows skipped are stepped over in the index without their documents
// being decoded or copied. When the offset is past the end the subquery is
// NULL and the page empty.
func pageSQL(table string, w cond, seek bool) string {
	var b strings.Builder
	b.WriteString("SELECT id, doc FROM " + table + " WHERE tenant_id = ? AND ")
	if seek {
		b.WriteString("id >= (SELECT id FROM " + table + " WHERE tenant_id = ? AND id > ?")
		if w.sql != "" {
			b.WriteString(" AND " + w.sql)
		}
		b.WriteString(" ORDER BY id LIMIT 1 OFFSET ?)")
	} else {
		b.WriteString("id > ?")
	}
	if w.sql != "" {
		b.WriteString(" AND " + w.sql)
	}
	b.WriteString(" ORDER BY id LIMIT ?")
	return b.String()
}

// sqlLimit turns a page size into SQL's LIMIT: zero or less is no limit.
func sqlLimit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// CountMembers implements [sdk.MemberStore]: count(*) over the indexes
// when SQL answers the filter exactly, otherwise a scan of the rows SQL
// bounds, checked with [sdk.Cond.Match].
func (s *Store) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	const op = "sqlite.CountMembers"
	n, err := countOf(ctx, s, "members", tenantID, filterWhere(tenantID, f), decodeMember, f.Where.Match)
	return n, s.translate(ctx, op, err)
}

// countOf counts the tenant's rows of table satisfying w, decoding and
// checking them with match when w is not exact.
func countOf[T any](ctx context.Context, s *Store, table, tenantID string, w cond,
	dec func([]byte) (T, error), match func(T) bool) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	where := " WHERE tenant_id = ?"
	if w.sql != "" {
		where += " AND " + w.sql
	}
	args := append([]any{tenantID}, w.args...)
	if w.exact {
		rows, err := s.query(ctx, "SELECT count(*) FROM "+table+where, args...)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		var n int
		if rows.Next() {
			err = rows.Scan(&n)
		}
		return n, errors.Join(err, rows.Err())
	}
	rows, err := s.query(ctx, "SELECT doc FROM "+table+where, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var doc sql.RawBytes
		if err := rows.Scan(&doc); err != nil {
			return 0, err
		}
		v, err := dec(doc)
		if err != nil {
			return 0, err
		}
		if match(v) {
			n++
		}
	}
	return n, rows.Err()
}
