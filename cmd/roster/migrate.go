package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/sqlite"
)

// migrateOptions are the flags of 'roster migrate'.
type migrateOptions struct {
	uri           string
	db            string
	allowNonEmpty bool
}

func newMigrateCmd(a *app) *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate --to-mongo-uri URI [--db NAME] [--data DIR] [--allow-non-empty]",
		Short: "Copy the data directory's store into MongoDB",
		Long: `Copy every tenant, member, group, group membership, invitation,
credential, SCIM token and audit event of the data directory's embedded
store into the MongoDB database NAME (default roster) at URI, keeping every
id, version and timestamp, so that 'roster serve --mongo-uri URI' takes
over where the data directory left off.

The copy reads a consistent snapshot of the data directory (taken as
'roster backup' takes one, so a running server may keep serving, but
writes made after the snapshot are not copied: stop the server, or stop
its traffic, for the final copy). It refuses a database that already holds
Roster data, unless --allow-non-empty (records with the same ids are
replaced). Interrupted, it is resumed by running the same command again:
tenants copied completely are skipped, the rest copied again.

It ends by counting each collection on both sides for the tenants copied
and fails (exit 1) if any count differs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.uri == "" {
				return usageError{errors.New("--to-mongo-uri URI is required: the MongoDB to copy into")}
			}
			a.envOr(cmd.Flags(), "db", envDB, &o.db)
			return a.withSQLite(cmd, "migrate", func(ctx context.Context, st *openedStore, log *slog.Logger) error {
				return a.migrate(ctx, st.sqlite, o, log)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.uri, "to-mongo-uri", "", "MongoDB connection URI to copy into")
	f.StringVar(&o.db, "db", defaultDB, "MongoDB database name to copy into (env "+envDB+")")
	f.BoolVar(&o.allowNonEmpty, "allow-non-empty", false, "copy into a database that already holds Roster data")
	f.BoolVar(&a.jsonOut, "json", false, "print the report as JSON")
	return cmd
}

func (a *app) migrate(ctx context.Context, src *sqlite.Store, o migrateOptions, log *slog.Logger) error {
	dst, err := openMongo(ctx, o.uri, o.db, "--to-mongo-uri", log)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = dst.Close(cctx)
	}()

	// A snapshot, beside the database so that it is on the same disk,
	// under one name, so that a run killed before it removed its snapshot
	// leaves nothing behind once the next run starts.
	snap := src.Path() + ".migrate-snapshot"
	removeSnapshot := func() {
		for _, f := range []string{snap, snap + "-wal", snap + "-shm"} {
			_ = os.Remove(f)
		}
	}
	removeSnapshot()
	a.say("Taking a snapshot of %s ...", src.Path())
	if err := src.Backup(ctx, snap); err != nil {
		return fmt.Errorf("snapshot of %s: %w", src.Path(), err)
	}
	defer removeSnapshot()
	from, err := sqlite.Open(ctx, snap)
	if err != nil {
		return fmt.Errorf("snapshot of %s: %w", src.Path(), err)
	}
	defer from.Close()

	start := time.Now()
	// Each tenant's end is reported; within a tenant, at most one line
	// every two seconds.
	var last time.Time
	progress := func(p migrate.Progress) {
		if p.Done || p.Skipped || time.Since(last) >= 2*time.Second {
			last = time.Now()
			a.say("  %s", p)
		}
	}
	rep, err := migrate.Copy(ctx, from, dst, migrate.Options{
		SourceID:      src.Path(),
		Source:        src.Path(),
		AllowNonEmpty: o.allowNonEmpty,
		Progress:      progress,
	})
	if err != nil {
		if errors.Is(err, migrate.ErrTargetNotEmpty) {
			return fmt.Errorf("MongoDB database %s at %s: %w", o.db, redactURI(o.uri), err)
		}
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: run the same command again to resume (tenants copied completely are skipped)")
		}
		return fmt.Errorf("migrate: %w (run the same command again to resume)", err)
	}
	if a.jsonOut {
		return a.printJSON(rep)
	}
	a.say("Copied %d tenant(s) from %s into MongoDB database %s at %s in %s:", rep.Tenants, src.Path(), o.db, redactURI(o.uri), time.Since(start).Round(time.Millisecond))
	for _, k := range migrate.Collections {
		a.say("  %-12s %8d in the data directory, %8d in MongoDB", k, rep.Source[k], rep.Target[k])
	}
	a.say("Counts match. Start the server on MongoDB with:\n  %s serve --mongo-uri '%s' --db %s", commandName(), redactURI(o.uri), o.db)
	return nil
}
