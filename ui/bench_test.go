package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/sqlite"
)

// BenchmarkMembersPage measures the server time of the members list: one
// GET of the first page (50 members) of a tenant of 10,000, through
// ServeHTTP — the store's reads, the policy over every row and the
// template — on the reference store and on the embedded one:
//
//	go test -run '^$' -bench MembersPage -benchmem -count 6 ./ui/
func BenchmarkMembersPage(b *testing.B) {
	b.Run("memstore/10000", func(b *testing.B) {
		st := memstore.New()
		benchPage(b, st)
	})
	b.Run("sqlite/10000", func(b *testing.B) {
		dir, err := os.MkdirTemp("", "roster-ui-bench-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		st, err := sqlite.Open(context.Background(), filepath.Join(dir, "roster.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchPage(b, st)
	})
}

func benchPage(b *testing.B, st sdk.Store) {
	bt, err := newBigTeam(context.Background(), st, st)
	if err != nil {
		b.Fatal(err)
	}
	h := bt.handler()
	req := httptest.NewRequest(http.MethodGet, "/team/", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
