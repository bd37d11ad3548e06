package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestOpenNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != path || s.SchemaVersion() != len(migrations) {
		t.Fatalf("Path %q SchemaVersion %d", s.Path(), s.SchemaVersion())
	}
	c := sdk.New(s, sdk.WithLogger(quiet))
	tn, _, err := c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "o@acme.test", IncludedSeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened, the data is there and the file identifies itself.
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetTenant(t.Context(), tn.ID); err != nil {
		t.Fatal(err)
	}
	var id, version int
	var mode string
	if err := s.r.QueryRow("PRAGMA application_id").Scan(&id); err != nil || id != applicationID {
		t.Errorf("application_id = %#x, %v", id, err)
	}
	if err := s.r.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != len(migrations) {
		t.Errorf("user_version = %d, %v", version, err)
	}
	if err := s.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
}

func TestOpenEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(empty file) = %v", err)
	}
	s.Close()
}

// wantOpenError checks that err is an *OpenError naming path, with the
// cause want (when not nil).
func wantOpenError(t *testing.T, err error, path string, want error) *OpenError {
	t.Helper()
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not an *OpenError", err, err)
	}
	if oe.Path != path || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenError %q does not name %s", err, path)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error %v, want %v", err, want)
	}
	return oe
}

// TestOpenForeign checks that Open refuses files that are no Roster
// database, with ErrNotRosterDatabase, and leaves them untouched.
func TestOpenForeign(t *testing.T) {
	sqliteFile := func(stmts ...string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range stmts {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"text", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("name,email\nann,ann@x.test\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"short", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("SQLite"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"sqlite tables", sqliteFile("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", "INSERT INTO notes(body) VALUES ('hello')")},
		{"sqlite wal tables", sqliteFile("PRAGMA journal_mode=WAL", "CREATE TABLE members (id TEXT)")},
		{"sqlite application id", sqliteFile("PRAGMA application_id = 1234")},
		{"sqlite user version", sqliteFile("PRAGMA user_version = 7")},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "roster.db")
			c.make(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			s, err := Open(t.Context(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			wantOpenError(t, err, path, ErrNotRosterDatabase)
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("Open changed the file")
			}
			if now, _ := os.ReadDir(dir); len(now) != len(entries) {
				t.Errorf("Open left files beside it: %v, was %v", now, entries)
			}
		})
	}
}

func TestOpenUnwritable(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
		// Root writes anywhere; sysfs refuses even root.
		f.Close()
		dir = "/sys"
	}
	for _, path := range []string{
		filepath.Join(dir, "roster.db"),
		filepath.Join(t.TempDir(), "missing", "roster.db"),
	} {
		_, err := Open(t.Context(), path)
		oe := wantOpenError(t, err, path, nil)
		if !strings.Contains(oe.Error(), "writ") {
			t.Errorf("OpenError %q gives no hint", oe)
		}
	}
}

// v2 is a migration step for the tests of the machinery.
var v2 = step{2, "test table", execAll(
	`CREATE TABLE test_v2 (n INTEGER NOT NULL)`,
	`INSERT INTO test_v2 SELECT count(*) FROM tenants`,
)}

// logged collects log records.
type logged struct {
	slog.Handler
	msgs *[]string
}

func (l logged) Enabled(context.Context, slog.Level) bool { return true }

func (l logged) Handle(_ context.Context, r slog.Record) error {
	*l.msgs = append(*l.msgs, r.Message)
	return nil
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c := sdk.New(s, sdk.WithLogger(quiet))
	if _, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "o@acme.test", IncludedSeats: 3}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A failing step changes nothing.
	broken := step{2, "broken", execAll(`CREATE TABLE half (n INTEGER)`, `INSERT INTO nowhere VALUES (1)`)}
	_, err = Open(ctx, path, withSteps(append(migrations[:1:1], broken)))
	wantOpenError(t, err, path, nil)

	var msgs []string
	s, err = Open(ctx, path, withSteps(append(migrations[:1:1], v2)), WithLogger(slog.New(logged{slog.DiscardHandler, &msgs})))
	if err != nil {
		t.Fatal(err)
	}
	if s.SchemaVersion() != 2 {
		t.Errorf("SchemaVersion = %d, want 2", s.SchemaVersion())
	}
	var n, version, half int
	if err := s.r.QueryRow("SELECT n FROM test_v2").Scan(&n); err != nil || n != 1 {
		t.Errorf("the v2 step saw %d tenants, %v; want 1", n, err)
	}
	if err := s.r.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != 2 {
		t.Errorf("user_version = %d, %v", version, err)
	}
	if err := s.r.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'half'").Scan(&half); err != nil || half != 0 {
		t.Errorf("the failed step left its table: %d, %v", half, err)
	}
	if len(msgs) != 1 {
		t.Errorf("logged %q, want one migration", msgs)
	}
	if _, err := s.GetTenantBySlug(ctx, "acme"); err != nil {
		t.Errorf("the data did not survive the migration: %v", err)
	}
	s.Close()

	// This build's Open refuses the newer database and leaves it alone.
	before, _ := os.ReadFile(path)
	_, err = Open(ctx, path)
	wantOpenError(t, err, path, ErrNewerSchema)
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("Open changed a newer database")
	}
	// Opening at the same version migrates nothing.
	msgs = nil
	s, err = Open(ctx, path, withSteps(append(migrations[:1:1], v2)), WithLogger(slog.New(logged{slog.DiscardHandler, &msgs})))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(msgs) != 0 {
		t.Errorf("reopening logged %q", msgs)
	}
}

func TestBackup(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	c := sdk.New(s, sdk.WithLogger(quiet))
	tn, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "o@acme.test", IncludedSeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, to); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, to); !errors.Is(err, os.ErrExist) {
		t.Errorf("Backup(over an existing file) = %v", err)
	}
	// The store stays usable, and the copy is a Roster database.
	if _, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: "after@acme.test"}); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.SchemaVersion() != s.SchemaVersion() {
		t.Errorf("backup schema version %d", b.SchemaVersion())
	}
	if n, err := b.CountMembers(ctx, tn.ID, sdk.MemberFilter{}); err != nil || n != 1 {
		t.Errorf("backup has %d members, %v; want the owner alone", n, err)
	}
}
