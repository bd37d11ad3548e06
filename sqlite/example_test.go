package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sqlite"
)

// Open creates the database on first use; the SDK client then runs on it.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-data-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := sqlite.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		log.Fatal(err) // an *sqlite.OpenError, naming the file
	}
	defer s.Close()

	client := sdk.New(s)
	t, owner, err := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: 5,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Slug, owner.Email, t.SeatsUsed, "of", t.SeatLimit(), "seats")
	// Output: acme owner@acme.test 1 of 5 seats
}

// Backup copies the live database to a new file, itself a database Open
// accepts.
func ExampleStore_Backup() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-data-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := sqlite.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	if err := s.Backup(ctx, filepath.Join(dir, "roster-backup.db")); err != nil {
		log.Fatal(err)
	}
	b, err := sqlite.Open(ctx, filepath.Join(dir, "roster-backup.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	fmt.Println(b.SchemaVersion() == s.SchemaVersion())
	// Output: true
}
