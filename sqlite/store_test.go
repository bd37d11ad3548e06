package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/storetest"
)

// openTest opens a new database in the test's temporary directory, closed
// when the test ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sdk.Store { return openTest(t) })
}
