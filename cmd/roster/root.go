package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Environment variables holding global settings; a flag given on the
// command line wins over its variable.
const (
	envData     = "ROSTER_DATA"
	envMongoURI = "ROSTER_MONGODB_URI"
	envDB       = "ROSTER_DB"
	envAddr     = "ROSTER_ADDR"
)

// Defaults of the global settings.
const (
	defaultData = "./roster-data"
	defaultDB   = "roster"
	defaultAddr = "127.0.0.1:8080"
)

// app is what a command runs against: its output streams and environment.
// Tests build one with buffers and a map.
type app struct {
	stdout io.Writer // machine output: tables, --json documents
	stderr io.Writer // human messages and logs
	stdin  io.Reader // --password-stdin, --file -; nil means os.Stdin
	getenv func(string) string
	// isTerminal reports whether a stream is a terminal; nil means the
	// real check. Tests set it to see the progress bar.
	isTerminal func(io.Writer) bool
	// open opens the store of an admin command; nil means openStore.
	// Tests set it to share one in-memory store between commands.
	open func(ctx context.Context, c storeChoice, mode openMode, log *slog.Logger) (*openedStore, error)

	// Global flags, resolved against the environment by settings.
	data      string
	mongoURI  string
	db        string
	logLevel  string
	logFormat string
	jsonOut   bool
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, a *app) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var u usageError
	usage := errors.As(err, &u) || isCobraUsage(err)
	// The hint names the help of the command that refused the line.
	path := "roster"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	hint := "Run '" + path + " --help' for usage."
	if l := a.jsonLog(); l != nil {
		attrs := []any{}
		if usage {
			attrs = append(attrs, "help", hint)
		}
		l.Error("roster: "+friendly(err), attrs...)
	} else {
		fmt.Fprintf(a.stderr, "roster: %s\n", friendly(err))
		if usage {
			fmt.Fprintln(a.stderr, hint)
		}
	}
	var ec interface{ exitCode() int }
	switch {
	case usage:
		return 2
	case errors.As(err, &ec):
		return ec.exitCode()
	}
	return 1
}

// isCobraUsage recognises the usage errors cobra returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "required flag(s) ")
}

// usageError is a command line the commands cannot make sense of.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "roster",
		Short: "Team management for B2B software: tenants, members, roles, seats and SCIM provisioning",
		Long: `Roster manages the teams of a B2B product: tenants, members, roles and seats.

'roster serve' runs the server. The other commands administer the same
store, and work while a server is running on it. The store is, in order of
precedence: MongoDB (--mongo-uri), in-memory (serve --memory), or the
embedded SQLite store in a data directory (--data, default ./roster-data).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       readVersion().String(),
		// Bare 'roster' prints help rather than failing.
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetVersionTemplate("roster {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{flagError(err)} })

	pf := root.PersistentFlags()
	pf.StringVar(&a.data, "data", defaultData, "data directory of the embedded store (env "+envData+")")
	pf.StringVar(&a.mongoURI, "mongo-uri", "", "MongoDB connection URI; takes precedence over --data (env "+envMongoURI+")")
	pf.StringVar(&a.db, "db", defaultDB, "MongoDB database name (env "+envDB+")")
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn or error (default info for serve, warn otherwise)")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")

	root.AddCommand(newServeCmd(a), newTenantCmd(a), newMemberCmd(a), newTokenCmd(a), newSyncCmd(a), newBackupCmd(a), newMigrateCmd(a), newVersionCmd(a),
		newGroupCmd(a), newAuditCmd(a))
	return root
}

// envOr sets a flag's value from the environment when the flag was not
// given on the command line.
func (a *app) envOr(fs *pflag.FlagSet, flag, env string, dst *string) {
	if fs.Changed(flag) {
		return
	}
	if v := a.getenv(env); v != "" {
		*dst = v
	}
}

// logger returns the logger for a command writing to stderr, at the level
// of --log-level or def.
func (a *app) logger(def slog.Level) (*slog.Logger, error) {
	level := def
	if a.logLevel != "" {
		if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
			return nil, usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", a.logLevel)}
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(a.logFormat) {
	case "text", "":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: use text or json", a.logFormat)}
}

// printJSON writes v to stdout as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// say writes a human message to stderr: a line of text, or with
// --log-format json a log record at info level (an empty line, spacing
// for people, is then left out).
func (a *app) say(format string, args ...any) {
	if l := a.jsonLog(); l != nil {
		if msg := strings.TrimSpace(fmt.Sprintf(format, args...)); msg != "" {
			l.Info(msg)
		}
		return
	}
	fmt.Fprintf(a.stderr, format+"\n", args...)
}

// warn writes a warning for people to stderr, "WARNING: " and the
// message, or with --log-format json a log record at warn level.
func (a *app) warn(format string, args ...any) {
	if l := a.jsonLog(); l != nil {
		l.Warn(fmt.Sprintf(format, args...))
		return
	}
	fmt.Fprintf(a.stderr, "WARNING: "+format+"\n", args...)
}

// jsonLog returns a logger writing JSON to stderr when --log-format is
// json, so that every line on stderr is JSON; otherwise nil.
func (a *app) jsonLog() *slog.Logger {
	if !strings.EqualFold(strings.TrimSpace(a.logFormat), "json") {
		return nil
	}
	return slog.New(slog.NewJSONHandler(a.stderr, nil))
}

// badFlagValue matches pflag's error for a value a typed flag cannot
// parse, e.g. `invalid argument "maybe" for "--require-mfa" flag:
// strconv.ParseBool: parsing "maybe": invalid syntax`.
var badFlagValue = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?(--[\w-]+)" flag: strconv\.(Parse\w+)`)

// flagError rephrases pflag's parse errors of typed flags as the other
// refusals are phrased: the flag, the value and what it takes.
func flagError(err error) error {
	m := badFlagValue.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	want := "a valid value"
	switch m[3] {
	case "ParseBool":
		want = "true or false"
	case "ParseInt", "ParseUint":
		want = "a whole number"
	case "ParseFloat":
		want = "a number"
	}
	return fmt.Errorf("%s %q: use %s", m[2], m[1], want)
}
