package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rosterhq/roster/hrsync"
	"github.com/rosterhq/roster/sdk"
)

type syncOptions struct {
	slug        string
	file        string
	format      string
	dryRun      bool
	deprovision string
	metricsFile string
	maxDeprov   string
	force       bool
	delimiter   string
	src         sourceFlags
}

func newSyncCmd(a *app) *cobra.Command {
	var o syncOptions
	cmd := &cobra.Command{
		Use:   "sync --tenant SLUG --file FILE|- [--format csv|jsonl] [--source SOURCE] [--map 'Column=field,…'] [--map-file FILE] [--status-map 'Value=active,…'] [--show-mapping] [--dry-run] [--deprovision none|deactivate|delete [--max-deprovision N|P%] [--force]] [--json]",
		Short: "Make a tenant's members match an HR export (CSV or JSON Lines)",
		Long: `Make a tenant's members match an HR export: records are matched to members
by external id, then by email; matched members are updated where a field
differs, new records become active members, records with status inactive
deactivate their member, and --deprovision says what happens to members
absent from the file (none, the default; deactivate; delete). The owner is
never changed or deprovisioned by a sync. Re-running an unchanged file
writes nothing.

A CSV file has a header row; the columns are
  external_id, email, user_name, given_name, middle_name, family_name,
  honorific_prefix, honorific_suffix, formatted_name, display_name,
  nickname, title, user_type, department, division, organization,
  cost_center, employee_number, preferred_language, locale, timezone,
  profile_url, phone_work, phone_mobile, address_street, address_locality,
  address_region, address_postal_code, address_country, address_formatted,
  manager, manager_name, preferred_family_name, role, status
and the tenant's custom attributes by name, in any order. Common HR names
are accepted ("Work Email", "First Name", "Employee ID", "Employee Number",
"Job Title", "Manager Email", "Cost Center", "Mobile Phone", "City",
"State", "Zip", "Time Zone", ...). The phones become the member's work and
mobile numbers, the address columns their work address, the email their
primary work email. Only email is required; a column the file lacks leaves
that field as it is, an empty cell clears it, and unknown columns are
reported and ignored. JSON Lines files carry one object per line with the
same keys. The format comes from --format, else from the file name
(.jsonl, .ndjson and .json are JSON Lines, anything else CSV). A CSV
file's delimiter is detected from its header (comma, semicolon, tab or
pipe) unless --delimiter gives it. --file -
reads standard input (CSV unless --format says otherwise); the report
calls it "stdin".

Exports of BambooHR, Workday, HiBob, Personio and Rippling are read as
those systems write them: the source is detected from the header (the
report says "read as a Workday export") or given with --source
bamboohr|workday|hibob|personio|rippling|generic. Each source's profile
knows its column names (Primary_Work_Email, Employee #, Reports to, ...),
which of its columns are not what their name suggests (BambooHR's
Employment Status is an employment type; HiBob's Reports to is a name),
and what its status values mean: people on leave stay active, Terminated
deactivates, Full-Time says nothing about the status. A manager is found
by external id, employee number or email, or by name when that is all
the file has (matched when exactly one person has the name; otherwise
the member is left without a new manager and the report says why).
Legal names fill the given and family names; a preferred name wins for
the display name. For other reports, --map 'Their Column=field,...' (or
--map-file FILE, one mapping a line) says which field a column fills,
and --status-map 'Garden leave=active,Retired=inactive,Contractor=ignore'
what status values mean; a status value nothing maps fails its row, not
the file. Rows without any value (Excel's trailing ",,,,") are skipped
and counted. --show-mapping prints how each column will be read and
why any is ignored, and exits without syncing (with --json, as JSON).

Deprovisioning is guarded, since a truncated or empty export looks like a
company whose staff all left. A file without records (empty, or a header
only) never deprovisions: the sync is refused, even with --force. A sync
that would deprovision (delete, or deactivate for being absent) more
members than --max-deprovision allows is refused before anything is
written; the limit is a number of members (200) or a percentage of the
tenant's members before the sync (5%), by default 10% or 50 members,
whichever is larger. --force lifts the limit. A dry run prints its plan
and the refusal, and exits 1 too.

Ctrl-C or SIGTERM stops a sync after the batch of writes in flight: the
report says what was done and how many changes were not processed, and
the exit status is 130. Re-running the same file finishes the job.

A file that cannot be trusted as a whole (bad encoding, no email column, an
unparsable row, an email or external id twice, a cycle of managers) is
refused with its line and column, and nothing is written. A row that
merely fails (a bad email, a value too long or not of its custom
attribute's type, an unknown role, manager or status, no free seat) is reported
with its column and the others apply; the exit status is then 1.

The report goes to stderr, or with --json to stdout as one JSON object
(counts under created, updated, deactivated, reactivated, deleted,
unchanged, failed and skipped, then the failures and the changes, the
ignored columns under ignored, the source under source and the blank rows
skipped under blankRows). A
progress bar is drawn on stderr whenever stderr is a terminal, also when the
report on stdout is redirected to a file.

--metrics-file FILE records the run for Prometheus, in the format of
node_exporter's textfile collector (point its
--collector.textfile.directory at FILE's directory; name FILE *.prom):
roster_sync_rows_total{tenant,outcome} (rows by outcome, added to the
counts already in FILE), roster_sync_duration_seconds{tenant},
roster_sync_last_run_timestamp_seconds{tenant} and
roster_sync_last_success_timestamp_seconds{tenant} (a run that applied
every row); alert on time() minus the last. Other tenants' samples in FILE
are kept. A dry run writes nothing there.`,
		Example: `  roster sync --tenant acme --file people.csv --dry-run
  roster sync --tenant acme --file people.csv --deprovision deactivate
  roster sync --tenant acme --file people.csv --deprovision deactivate --max-deprovision 20%
  roster sync --tenant acme --file workday-report.csv --show-mapping
  roster sync --tenant acme --file report.csv --map 'Login=email,Boss=manager_name' --status-map 'Sabbatical=active'
  hr-export | roster sync --tenant acme --file - --format csv
  roster sync --tenant acme --file export.jsonl --json > report.json
  roster sync --tenant acme --file people.csv --metrics-file /var/lib/node_exporter/roster_sync.prom`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.sync(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.slug, "tenant", "", "slug of the tenant (required)")
	f.StringVar(&o.file, "file", "", "the HR export to read, - for standard input (required)")
	f.StringVar(&o.format, "format", "", "csv or jsonl (default: from the file name)")
	f.StringVar(&o.delimiter, "delimiter", "", "the CSV delimiter: one character, or comma, semicolon, tab (or \\t) or pipe (default: detected from the header)")
	f.BoolVar(&o.dryRun, "dry-run", false, "report what would change without writing anything")
	f.StringVar(&o.deprovision, "deprovision", string(sdk.DeprovisionNone), "what happens to members absent from the file: none, deactivate or delete")
	f.StringVar(&o.maxDeprov, "max-deprovision", "", "refuse to deprovision more than N members or P% of the tenant's (default 10% or 50, whichever is larger)")
	f.BoolVar(&o.force, "force", false, "deprovision past --max-deprovision (never on a file without records)")
	f.BoolVar(&a.jsonOut, "json", false, "print the report on stdout as JSON")
	f.StringVar(&o.metricsFile, "metrics-file", "", "record the run's rows by outcome, duration and time in FILE for node_exporter's textfile collector")
	o.src.register(f)
	_ = cmd.MarkFlagRequired("tenant")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func (a *app) sync(cmd *cobra.Command, o syncOptions) error {
	stdin := o.file == "-"
	name := o.file
	if stdin {
		name = "stdin"
	}
	format := hrsync.Format(strings.ToLower(o.format))
	switch {
	case format == "" && stdin:
		format = hrsync.CSV
	case format == "":
		format = hrsync.FormatOf(o.file)
	case format == hrsync.CSV, format == hrsync.JSONL:
	default:
		return usageError{fmt.Errorf("--format %q: use csv or jsonl", o.format)}
	}
	dep := sdk.Deprovision(strings.ToLower(o.deprovision))
	switch dep {
	case sdk.DeprovisionNone, sdk.DeprovisionDeactivate, sdk.DeprovisionDelete:
	default:
		return usageError{fmt.Errorf("--deprovision %q: use none, deactivate or delete", o.deprovision)}
	}
	delim, err := hrsync.ParseDelimiter(o.delimiter)
	if err != nil {
		why := "it is not one character"
		var de *hrsync.DelimiterError
		if errors.As(err, &de) {
			why = de.Reason
		}
		return usageError{fmt.Errorf("--delimiter %q: %s; use one character, or comma, semicolon, tab (or \\t) or pipe", o.delimiter, why)}
	}
	if delim != 0 && format == hrsync.JSONL {
		return usageError{fmt.Errorf("--delimiter %q: a JSON Lines file has no delimiter; drop --delimiter or give --format csv", o.delimiter)}
	}
	ro, err := o.src.readOptions()
	if err != nil {
		return err
	}
	ro.Delimiter = delim
	opts, err := parseMaxDeprovision(o.maxDeprov)
	if err != nil {
		return err
	}
	opts.Deprovision, opts.DryRun, opts.Force = dep, o.dryRun, o.force

	// The file is opened before the store: a file that cannot be read
	// costs nothing. It is parsed once the tenant is known, since its
	// custom attributes are columns too; a file that cannot be trusted
	// still writes nothing.
	in := a.input()
	if !stdin {
		f, err := openExport(o.file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}

	err = a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
		t, err := tenantBySlug(ctx, c, o.slug)
		if err != nil {
			return err
		}
		ro.CustomAttributes = t.Settings.CustomAttributes
		if o.src.showMapping {
			file, err := readExport(in, name, format, ro, hrsync.Inspect)
			if err != nil {
				return err
			}
			return a.showMapping(name, file, ro.StatusMap)
		}
		file, err := readExport(in, name, format, ro, hrsync.Read)
		if err != nil {
			return err
		}
		// Say how the file was read when the reader decided: a file named
		// or given as CSV that is JSON Lines, a delimiter that is not a
		// comma.
		what := "column"
		switch {
		case file.Format == hrsync.JSONL && format != hrsync.JSONL:
			a.say("%s: read as JSON Lines (its first line is a JSON object); give --format jsonl or name it .jsonl to say so", name)
			what = "key"
		case file.Format == hrsync.JSONL:
			what = "key"
		case delim == 0 && file.Delimiter != 0 && file.Delimiter != ',':
			a.say("%s: read as %s-separated (detected from the header; --delimiter sets it)", name, hrsync.DelimiterName(file.Delimiter))
		}
		a.saySource(name, file)
		if len(file.Unknown) > 0 {
			a.say("%s: ignored %ss: %s", name, what, strings.Join(file.Unknown, ", "))
		}
		a.sayIgnoredWhy(name, file, what)
		bar := a.newProgress()
		start := time.Now()
		opts.Progress = bar.update
		rep, err := c.Sync(ctx, sdk.SyncActor("cli:"+filepath.Base(name)), t.ID, file.Records, opts)
		bar.finish()
		took := time.Since(start)
		if o.metricsFile != "" && !o.dryRun {
			summary := &sdk.SyncSummary{}
			if rep != nil {
				summary = rep.Summary()
			}
			ok := err == nil && rep != nil && len(rep.Failed) == 0
			if merr := writeSyncMetrics(o.metricsFile, t.Slug, summary, took, ok, time.Now()); merr != nil {
				// The sync's own outcome stays the exit status.
				a.warn("%v", merr)
			}
		}
		interrupted := errors.Is(err, context.Canceled) && ctx.Err() != nil
		guard := guardErr(err, name)
		if err != nil && rep == nil {
			switch {
			case guard != nil:
				return guard
			case interrupted:
				return interruptedError{errorf(err, "interrupted before anything was written; run the sync again")}
			}
			switch sdk.ReasonOf(err) {
			case sdk.ReasonDuplicateItem, sdk.ReasonManagerCycle:
				return errorf(err, "%s: %s; nothing was written", name, reasonMessage(err))
			}
			return err
		}
		nameColumns(rep, file, what)
		if a.jsonOut {
			if jerr := a.printJSON(syncJSON{SyncSummary: rep.Summary(), Ignored: nonNil(file.Unknown), Source: file.Source, BlankRows: file.BlankRows}); jerr != nil {
				return errors.Join(err, jerr)
			}
		} else {
			a.printSyncReport(rep, name, t.Slug, took, guard == nil)
		}
		switch {
		case guard != nil:
			return guard
		case interrupted:
			if !a.jsonOut {
				a.say("Interrupted: the sync stopped after the batch in flight; %d change(s) written, %d not processed. Run the same sync again to finish the job.", rep.Writes, rep.NotProcessed)
			}
			return interruptedError{errorf(err, "interrupted: %d change(s) not processed; run the sync again to finish the job", rep.NotProcessed)}
		}
		if err != nil {
			// Interrupted, or the store failed half-way: the report says
			// what was done; a re-run completes the rest.
			return fmt.Errorf("the sync stopped before the end (re-running it completes it): %w", err)
		}
		if n := len(rep.Failed); n > 0 {
			where := "listed above"
			if a.jsonOut {
				where = "listed under \"failures\""
			}
			return errorf(nil, "%d of %d record(s) failed (%s)", n, len(file.Records), where)
		}
		return nil
	})
	var ie interruptedError
	if err != nil && !errors.As(err, &ie) && errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
		// Interrupted opening the store or reading the tenant.
		return interruptedError{errorf(err, "interrupted before anything was written; run the sync again")}
	}
	return err
}

// guardErr phrases a refusal of the SDK's deprovisioning guard for a
// sync of the file name, or returns nil for any other error.
func guardErr(err error, name string) error {
	switch sdk.ReasonOf(err) {
	case sdk.ReasonEmptyInput:
		return errorf(err, "%s: refused by the empty-input guard (%s): %s", name, sdk.ReasonEmptyInput, reasonMessage(err))
	case sdk.ReasonDeprovisionLimit:
		return errorf(err, "%s: refused by the deprovisioning guard (%s): %s (--max-deprovision N or P%%, or --force)", name, sdk.ReasonDeprovisionLimit, reasonMessage(err))
	}
	return nil
}

// parseMaxDeprovision reads --max-deprovision: a number of members or a
// percentage of the tenant's; "" is the SDK's default.
func parseMaxDeprovision(v string) (sdk.SyncOptions, error) {
	var o sdk.SyncOptions
	v = strings.TrimSpace(v)
	if v == "" {
		return o, nil
	}
	bad := usageError{fmt.Errorf("--max-deprovision %q: use a number of members (200) or a percentage from 0%% to 100%% of the tenant's members (5%%)", v)}
	if p, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f >= 0 && f <= 100) { // NaN fails both
			return o, bad
		}
		if f == 0 {
			o.MaxDeprovision = -1 // the SDK's "none"
		} else {
			o.MaxDeprovisionPercent = f
		}
		return o, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return o, bad
	}
	if n == 0 {
		n = -1
	}
	o.MaxDeprovision = n
	return o, nil
}

// interruptedError is a sync stopped by a signal: exit status 130, as
// for a process a shell saw end by SIGINT.
type interruptedError struct{ error }

func (e interruptedError) Unwrap() error { return e.error }
func (interruptedError) exitCode() int   { return 130 }

// syncJSON is the --json report: the SDK's summary, the file's columns
// (or keys) that were ignored, the source it was read as and the blank
// rows skipped.
type syncJSON struct {
	*sdk.SyncSummary
	Ignored   []string      `json:"ignored"`
	Source    hrsync.Source `json:"source"`
	BlankRows int           `json:"blankRows"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nameColumns rewrites the failures the SDK names by field to name the
// file's column instead: `column "Mobile Phone": …`; and so the notes
// that start with their field (`column "Reports to": "Sam Lee" matches
// 2 people …`).
func nameColumns(rep *sdk.SyncReport, file *hrsync.File, what string) {
	for i := range rep.Failed {
		f := &rep.Failed[i]
		if h := file.Column(f.Field); h != "" {
			f.Message = fmt.Sprintf("%s %q: %s", what, h, strings.TrimPrefix(f.Message, f.Field+" "))
		}
	}
	for i := range rep.Notes {
		f := &rep.Notes[i]
		if h := file.Column(f.Field); h != "" && strings.HasPrefix(f.Message, f.Field+" ") {
			f.Message = fmt.Sprintf("%s %q: %s", what, h, strings.TrimPrefix(f.Message, f.Field+" "))
		}
	}
}

// openExport opens an HR export, phrasing its problems with the file's
// name.
func openExport(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, errorf(err, "cannot read %s: %v", name, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > hrsync.MaxFileBytes {
		f.Close()
		return nil, errorf(nil, "%s is %d bytes, more than the %d a sync reads; split it by department or site", name, fi.Size(), hrsync.MaxFileBytes)
	}
	return f, nil
}

// readExport parses an HR export with read (hrsync.Read, or
// hrsync.Inspect for its columns alone) and the options ro (the tenant's
// custom attributes, the delimiter, the source and mappings), phrasing
// its problems with the file's name.
func readExport(r io.Reader, name string, format hrsync.Format, ro hrsync.ReadOptions,
	read func(io.Reader, hrsync.Format, hrsync.ReadOptions) (*hrsync.File, error)) (*hrsync.File, error) {
	file, err := read(r, format, ro)
	var he *hrsync.Error
	switch {
	case errors.As(err, &he):
		return nil, errorf(err, "%s: %s; nothing was written", name, he)
	case errors.Is(err, hrsync.ErrMapping):
		return nil, mapUsage(err)
	case err != nil:
		return nil, errorf(err, "cannot read %s: %v", name, err)
	}
	return file, nil
}

// printSyncReport writes a report for people to stderr: the counts, then
// every failure, skip and note with its line, key, reason and message.
// A dry run refused by a guard does not suggest running it for real
// (apply false).
func (a *app) printSyncReport(rep *sdk.SyncReport, name, slug string, took time.Duration, apply bool) {
	s := rep.Summary()
	if l := a.jsonLog(); l != nil {
		// --log-format json: the counts in one record, a record per
		// failure and skip.
		attrs := []any{"file", name, "tenant", slug, "dry_run", rep.DryRun, "took", took.Round(time.Millisecond).String(), "writes", rep.Writes}
		if rep.Interrupted {
			attrs = append(attrs, "interrupted", true, "not_processed", rep.NotProcessed)
		}
		counts := outcomeCounts(s)
		for _, o := range syncOutcomes {
			attrs = append(attrs, o, counts[o])
		}
		l.Info("sync report", attrs...)
		for _, f := range s.Failures {
			l.Warn("sync: row failed", "line", f.Line, "key", f.Key, "reason", f.Reason, "message", f.Message)
		}
		for _, f := range s.Skips {
			l.Info("sync: row skipped", "line", f.Line, "key", f.Key, "reason", f.Reason, "message", f.Message)
		}
		for _, f := range s.Notes {
			l.Info("sync: row noted", "line", f.Line, "key", f.Key, "reason", f.Reason, "message", f.Message)
		}
		return
	}
	if rep.DryRun {
		a.say("Dry run of %s on tenant %q: nothing was written. It would make these changes:", name, slug)
	} else {
		a.say("Synced %s into tenant %q in %s (%d write(s)):", name, slug, took.Round(time.Millisecond), rep.Writes)
	}
	w := tabwriter.NewWriter(a.stderr, 0, 4, 2, ' ', 0)
	for _, c := range []struct {
		name string
		n    int
	}{
		{"created", s.Created}, {"updated", s.Updated}, {"deactivated", s.Deactivated},
		{"reactivated", s.Reactivated}, {"deleted", s.Deleted}, {"unchanged", s.Unchanged},
		{"failed", s.Failed}, {"skipped", s.Skipped},
	} {
		fmt.Fprintf(w, "  %s\t%d\n", c.name, c.n)
	}
	if rep.Interrupted {
		fmt.Fprintf(w, "  not processed\t%d\n", rep.NotProcessed)
	}
	_ = w.Flush()
	list := func(title string, fs []sdk.SyncFailure) {
		if len(fs) == 0 {
			return
		}
		a.say("%s:", title)
		w := tabwriter.NewWriter(a.stderr, 0, 4, 2, ' ', 0)
		for _, f := range fs {
			line := "-"
			if f.Line > 0 {
				line = fmt.Sprintf("line %d", f.Line)
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", line, f.Key, f.Reason, f.Message)
		}
		_ = w.Flush()
	}
	list("Failed", s.Failures)
	list("Skipped", s.Skips)
	list("Notes", s.Notes)
	if apply && rep.DryRun && s.Created+s.Updated+s.Deactivated+s.Reactivated+s.Deleted > 0 {
		a.say("Run it again without --dry-run to apply it.")
	}
}

// syncProgress draws a progress bar per phase of a sync on stderr, or
// nothing when it is not for a person at a terminal.
type syncProgress struct {
	w     io.Writer // nil: silent
	phase string
	bar   *progressbar.ProgressBar
}

// syncPhases names the phases sdk.SyncOptions.Progress reports.
var syncPhases = map[string]string{"read": "reading members", "plan": "planning", "write": "writing"}

// newProgress returns the progress display of a sync: drawn on stderr
// whenever stderr is a terminal (a report redirected from stdout still
// shows progress on the screen), never into a redirected stderr, so that
// a log file does not fill with bar updates.
func (a *app) newProgress() *syncProgress {
	isTerm := a.isTerminal
	if isTerm == nil {
		isTerm = isTerminal
	}
	if !isTerm(a.stderr) {
		return &syncProgress{}
	}
	return &syncProgress{w: a.stderr}
}

func (p *syncProgress) update(phase string, done, total int) {
	if p.w == nil || total <= 0 {
		return
	}
	if phase != p.phase || p.bar == nil {
		p.finish()
		desc, ok := syncPhases[phase]
		if !ok {
			desc = phase
		}
		p.phase = phase
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("%-15s", desc)),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

func (p *syncProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
