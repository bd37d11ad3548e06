package sqlite

import (
	"path/filepath"
	"testing"
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
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Backup(t.Context(), filepath.Join(t.TempDir(), "copy.db")); err != nil {
		t.Fatal(err)
	}
}
