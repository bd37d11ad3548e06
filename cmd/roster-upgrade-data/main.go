// Command roster-upgrade-data converts a data directory written by an
// earlier Roster, whose embedded store was FerretDB v1 (files under
// DIR/db/), into the SQLite store this Roster keeps in DIR/roster.db.
//
//	go run ./cmd/roster-upgrade-data --data DIR [--db roster]
//
// It starts the earlier embedded database on DIR (refusing while a roster
// server holds the directory), copies every tenant, member, credential,
// group, membership, invitation, SCIM token and audit event into
// DIR/roster.db.partial, checks that the counts of each kind match, and
// only then renames the file to DIR/roster.db. DIR/db is left as it was:
// remove it once the new store serves. Interrupted, it starts over on the
// next run; a DIR that already holds roster.db is left alone.
//
// The command is separate from roster so that the roster binary carries
// no FerretDB: only this converter (and the tests of the mongo store) do.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run converts the data directory the arguments name and returns the exit
// code: 0 done, 1 failed, 2 a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("roster-upgrade-data", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("data", "./roster-data", "the data directory to convert")
	db := fl.String("db", "roster", "the database name the earlier roster used (its --db)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "roster-upgrade-data: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if err := convert(ctx, *dir, *db, stdout); err != nil {
		fmt.Fprintf(stderr, "roster-upgrade-data: %v\n", err)
		return 1
	}
	return 0
}

// convert copies the earlier embedded database of dir into dir/roster.db.
func convert(ctx context.Context, dir, db string, out io.Writer) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	final := filepath.Join(abs, "roster.db")
	if _, err := os.Stat(final); err == nil {
		return fmt.Errorf("%s exists: %s is already in the SQLite format; nothing to do", final, abs)
	}
	if fi, err := os.Stat(filepath.Join(abs, "db")); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s holds no earlier embedded database (no %s directory): nothing to convert", abs, filepath.Join(abs, "db"))
	}
	partial := final + ".partial"
	for _, p := range []string{partial, partial + "-wal", partial + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot remove the unfinished %s: %w", p, err)
		}
	}

	quiet := slog.New(slog.DiscardHandler)
	srv, err := embedded.Start(ctx, embedded.Config{Dir: abs, Logger: quiet})
	if err != nil {
		return fmt.Errorf("cannot start the earlier embedded database in %s: %w", abs, err)
	}
	defer srv.Close()
	old, err := mongo.Open(ctx, srv.URI(), db)
	if err != nil {
		return fmt.Errorf("cannot open the earlier embedded database in %s: %w", abs, err)
	}
	defer func() { _ = old.Close(context.WithoutCancel(ctx)) }()
	// A wrong --db reads an empty database: converting it would put an
	// empty store in place and say it succeeded.
	if ts, err := old.ListTenants(ctx, sdk.TenantQuery{Limit: 1}); err != nil {
		return fmt.Errorf("cannot read the earlier embedded database in %s: %w", abs, err)
	} else if len(ts) == 0 {
		names, _ := old.Database().Client().ListDatabaseNames(ctx, bson.D{})
		return fmt.Errorf("database %q of the earlier embedded database in %s holds no tenant: nothing to convert (its databases: %s; pass the earlier roster's --db)", db, abs, strings.Join(names, ", "))
	}
	dst, err := sqlite.Open(ctx, partial)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = dst.Close()
		}
	}()

	start := time.Now()
	fmt.Fprintf(out, "Converting %s into %s ...\n", filepath.Join(abs, "db"), final)
	rep, err := migrate.Copy(ctx, embedded.Serialize(old, nil), dst, migrate.Options{
		Progress: func(p migrate.Progress) {
			if p.Done {
				fmt.Fprintf(out, "  %s\n", p)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("%w (nothing was changed in %s; run the command again)", err, abs)
	}
	closed = true
	if err := dst.Close(); err != nil {
		return err
	}
	if err := os.Rename(partial, final); err != nil {
		return fmt.Errorf("cannot put the converted store in place: %w", err)
	}
	fmt.Fprintf(out, "Converted %d tenant(s) in %s; counts match:\n", rep.Tenants, time.Since(start).Round(time.Millisecond))
	for _, k := range migrate.Collections {
		fmt.Fprintf(out, "  %-12s %d\n", k, rep.Target[k])
	}
	fmt.Fprintf(out, "roster serve --data %s now serves it. %s is unchanged: remove it once you are satisfied.\n", abs, filepath.Join(abs, "db"))
	return nil
}
