package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

func newBackupCmd(a *app) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "backup --to FILE [--data DIR]",
		Short: "Copy the data directory's database to a file, while the server runs",
		Long: `Write a consistent copy of the embedded store of the data directory to
FILE: a single SQLite file holding every tenant, member, group, invitation,
credential, token and audit event as of one moment. It runs beside a
running server (the copy is one read transaction; the server keeps
serving) and never overwrites: FILE must not exist.

To restore, stop the server and start it on a directory holding the copy
as roster.db:
    mkdir restored && cp FILE restored/roster.db && roster serve --data restored

For a MongoDB store use the database's own tools (mongodump).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usageError{errors.New("--to FILE is required: where to write the copy")}
			}
			return a.withSQLite(cmd, "backup", func(ctx context.Context, st *openedStore, _ *slog.Logger) error {
				abs, err := filepath.Abs(to)
				if err != nil {
					return err
				}
				start := time.Now()
				if err := st.sqlite.Backup(ctx, abs); errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("%s exists: roster backup never overwrites; choose a new file name", abs)
				} else if err != nil {
					return fmt.Errorf("backup to %s: %w", abs, err)
				}
				fi, err := os.Stat(abs)
				if err != nil {
					return err
				}
				took := time.Since(start).Round(time.Millisecond)
				if a.jsonOut {
					return a.printJSON(map[string]any{
						"file": abs, "bytes": fi.Size(), "schemaVersion": st.sqlite.SchemaVersion(),
						"source": st.sqlite.Path(), "seconds": took.Seconds(),
					})
				}
				a.say("Backed up %s to %s (%s, schema version %d) in %s.", st.sqlite.Path(), abs, humanBytes(fi.Size()), st.sqlite.SchemaVersion(), took)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "file to write the copy to (must not exist)")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the result as JSON")
	return cmd
}

// withSQLite runs fn on the data directory's SQLite store, refusing the
// other stores with a message naming the command.
func (a *app) withSQLite(cmd *cobra.Command, name string, fn func(ctx context.Context, st *openedStore, log *slog.Logger) error) error {
	choice := a.chooseStore(cmd, false)
	if choice.kind != storeEmbedded {
		return usageError{fmt.Errorf("roster %s works on a data directory (--data), not on MongoDB", name)}
	}
	return a.withStore(cmd, choice, openAdmin, func(ctx context.Context, st *openedStore, log *slog.Logger) error {
		if st.sqlite == nil {
			return fmt.Errorf("roster %s works on a data directory (--data)", name)
		}
		return fn(ctx, st, log)
	})
}

// humanBytes formats a size for people.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
