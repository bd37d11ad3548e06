package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// The paging benchmarks measure a page by position (SCIM's startIndex,
// sdk.MemberSearch.Offset) at the start, middle and end of tenants of
// 20,000 and 100,000 members, in a database of their own:
//
//	go test -run '^$' -bench 'Offset|SCIMPage' -benchtime 200x ./sqlite

// pagingDB opens a database in a temporary directory of b holding a tenant
// of each of sizes members (the owner included), loaded by an HR sync, and
// returns the tenants' ids by size.
func pagingDB(b *testing.B, sizes ...int) (*sdk.Client, *Store, map[int]string) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "roster.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	c := sdk.New(s, sdk.WithLogger(quiet))
	ts := map[int]string{}
	for _, n := range sizes {
		slug := fmt.Sprintf("paging-%d", n)
		t, _, err := c.CreateTenant(ctx, sdk.SystemActor(),
			sdk.CreateTenantRequest{Slug: slug, OwnerEmail: "owner@" + slug + ".test", IncludedSeats: 10_000_000})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Sync(ctx, sdk.SyncActor("load"), t.ID, syncRecords(n-1), sdk.SyncOptions{}); err != nil {
			b.Fatal(err)
		}
		ts[n] = t.ID
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	return c, s, ts
}

// BenchmarkOffsetSQL compares the two ways SQLite can skip to a position:
// LIMIT ? OFFSET ? on the page's query, and the seek of pageSQL (the first
// id found by a subquery reading ids only). Each reads 100 members.
func BenchmarkOffsetSQL(b *testing.B) {
	_, s, ts := pagingDB(b, 20_000, 100_000)
	ctx := context.Background()
	plain := "SELECT id, doc FROM members WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ? OFFSET ?"
	seek := pageSQL("members", cond{}, true)
	for _, n := range []int{20_000, 100_000} {
		for _, pos := range []int{1, n / 2, n - 100} {
			for _, q := range []struct {
				name, sql string
				args      []any
			}{
				{"plain", plain, []any{ts[n], "", 100, pos - 1}},
				{"seek", seek, []any{ts[n], ts[n], "", pos - 1, 100}},
			} {
				b.Run(fmt.Sprintf("members=%d/pos=%d/%s", n, pos, q.name), func(b *testing.B) {
					for b.Loop() {
						if got := readPage(b, s.r, ctx, q.sql, q.args); got != 100 {
							b.Fatalf("%d rows", got)
						}
					}
				})
			}
		}
	}
}

func readPage(b *testing.B, db *sql.DB, ctx context.Context, text string, args []any) int {
	rows, err := db.QueryContext(ctx, text, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var doc sql.RawBytes
		if err := rows.Scan(&id, &doc); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkSCIMPage is a SCIM page of 100 through the SDK, as scim serves
// startIndex: SearchMembers with Offset and Total (one list, one count).
func BenchmarkSCIMPage(b *testing.B) {
	c, _, ts := pagingDB(b, 20_000)
	ctx := context.Background()
	const n = 20_000
	for _, pos := range []int{1, 10_000, 19_900} {
		b.Run(fmt.Sprintf("members=%d/startIndex=%d", n, pos), func(b *testing.B) {
			for b.Loop() {
				p, total, err := c.SearchMembers(ctx, ts[n], sdk.MemberSearch{
					ListOptions: sdk.ListOptions{PageSize: 100}, Offset: pos - 1, Total: true})
				if err != nil || len(p.Items) != 100 || total != n {
					b.Fatalf("%d items, total %d: %v", len(p.Items), total, err)
				}
			}
		})
	}
}
