package storebench

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sqlite"
)

// countingStore is the SQLite store with its writes counted, so that a
// benchmark can fail on a run that must write nothing: calls is the number
// of calls of the methods through which a member, a tenant, an audit event
// or a group edge is written (every write a sync can make), and
// dataVersion tells, independently of which methods were called, whether
// anything was committed to the database at all.
//
// It embeds *sqlite.Store, not sdk.Store, so that the optional interfaces
// the SDK discovers (bulk writes, the member scan, …) stay visible.
type countingStore struct {
	*sqlite.Store
	calls atomic.Int64
	// probe is a connection of its own to the database file: SQLite's
	// PRAGMA data_version, read on one connection, changes exactly when
	// another connection has committed a change.
	probe *sql.Conn
}

// sqliteStore opens the SQLite store on a new file in a temporary
// directory, as roster serve --data opens DIR/roster.db.
func sqliteStore(tb testing.TB) *countingStore {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "roster.db")
	st, err := sqlite.Open(ctx, path, sqlite.WithLogger(quiet))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro"}).String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	probe, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = probe.Close() })
	return &countingStore{Store: st, probe: probe}
}

// dataVersion returns SQLite's data_version as the probe connection sees
// it: a different value than at an earlier call means that something was
// committed to the database in between.
func (s *countingStore) dataVersion(tb testing.TB) int64 {
	tb.Helper()
	var v int64
	if err := s.probe.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func (s *countingStore) CreateTenant(ctx context.Context, t *sdk.Tenant, owner sdk.MemberWrite) error {
	s.calls.Add(1)
	return s.Store.CreateTenant(ctx, t, owner)
}

func (s *countingStore) UpdateTenant(ctx context.Context, t *sdk.Tenant, expectedVersion int64) error {
	s.calls.Add(1)
	return s.Store.UpdateTenant(ctx, t, expectedVersion)
}

func (s *countingStore) AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (*sdk.Tenant, error) {
	s.calls.Add(1)
	return s.Store.AdjustExtraSeats(ctx, tenantID, delta, now)
}

func (s *countingStore) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	s.calls.Add(1)
	return s.Store.SetOwner(ctx, tenantID, from, to, now)
}

func (s *countingStore) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	s.calls.Add(1)
	return s.Store.RecountSeats(ctx, tenantID, holding)
}

func (s *countingStore) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	s.calls.Add(1)
	return s.Store.CreateMember(ctx, w)
}

func (s *countingStore) CreateMembers(ctx context.Context, ws []sdk.MemberWrite) []error {
	s.calls.Add(1)
	return s.Store.CreateMembers(ctx, ws)
}

func (s *countingStore) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	s.calls.Add(1)
	return s.Store.UpdateMember(ctx, w)
}

func (s *countingStore) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	s.calls.Add(1)
	return s.Store.DeleteMember(ctx, d)
}

func (s *countingStore) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	s.calls.Add(1)
	return s.Store.AppendAudit(ctx, e)
}

func (s *countingStore) AppendAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	s.calls.Add(1)
	return s.Store.AppendAudits(ctx, es)
}

func (s *countingStore) DeleteEdges(ctx context.Context, tenantID string, edges []sdk.GroupEdge) (int, error) {
	s.calls.Add(1)
	return s.Store.DeleteEdges(ctx, tenantID, edges)
}

var (
	_ sdk.Store           = (*countingStore)(nil)
	_ sdk.BulkMemberStore = (*countingStore)(nil)
	_ sdk.MemberScanner   = (*countingStore)(nil)
)
