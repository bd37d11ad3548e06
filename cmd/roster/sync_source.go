package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/hrsync"
)

// How sync reads a file's columns: the source's profile (--source, else
// detected from the header), the mappings people give (--map,
// --map-file, --status-map), and --show-mapping, which prints how each
// column will be read without syncing.

// sourceFlags are sync's flags about the file's columns.
type sourceFlags struct {
	source      string
	mapArg      string
	mapFile     string
	statusMap   string
	showMapping bool
}

func (s *sourceFlags) register(f *pflag.FlagSet) {
	var names []string
	for _, src := range hrsync.Sources() {
		names = append(names, string(src))
	}
	f.StringVar(&s.source, "source", "", "the HR system the export comes from: "+strings.Join(names, ", ")+" (default: detected from the header)")
	f.StringVar(&s.mapArg, "map", "", "map columns to fields: 'Their Column=field,Other=ignore' (--show-mapping lists the fields)")
	f.StringVar(&s.mapFile, "map-file", "", "read column mappings from FILE, one 'Their Column=field' a line (# comments)")
	f.StringVar(&s.statusMap, "status-map", "", "what status values mean: 'Garden leave=active,Retired=inactive,Contractor=ignore'")
	f.BoolVar(&s.showMapping, "show-mapping", false, "print how each column of the file will be read, and which are ignored, then exit without syncing")
}

// readOptions checks the flags and returns what they ask of the reader;
// a bad value is a usage error naming the valid ones.
func (s sourceFlags) readOptions() (hrsync.ReadOptions, error) {
	var o hrsync.ReadOptions
	src, err := hrsync.ParseSource(s.source)
	if err != nil {
		return o, usageError{fmt.Errorf("--source %q: use %s", s.source, sourceNames())}
	}
	o.Source = src
	var entries []hrsync.MapEntry
	if s.mapFile != "" {
		f, err := os.Open(s.mapFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return o, errorf(err, "cannot read the mapping file %s: %v", s.mapFile, err)
		}
		defer f.Close()
		if entries, err = hrsync.ParseMapFile(f, s.mapFile); err != nil {
			return o, mapUsage(err)
		}
	}
	if s.mapArg != "" {
		more, err := hrsync.ParseMap(s.mapArg)
		if err != nil {
			return o, mapUsage(err)
		}
		entries = append(entries, more...)
	}
	if o.Map, err = hrsync.CheckMap(entries); err != nil { // --map against --map-file
		return o, mapUsage(err)
	}
	if s.statusMap != "" {
		if o.StatusMap, err = hrsync.ParseStatusMap(s.statusMap); err != nil {
			return o, usageError{fmt.Errorf("--status-map: %s", strings.TrimPrefix(err.Error(), hrsync.ErrMapping.Error()+": "))}
		}
	}
	return o, nil
}

func sourceNames() string {
	var names []string
	for _, s := range hrsync.Sources() {
		names = append(names, string(s))
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// mapUsage phrases a mapping the reader refused as a usage error.
func mapUsage(err error) error {
	if !errors.Is(err, hrsync.ErrMapping) {
		return err
	}
	return usageError{errors.New(strings.TrimPrefix(err.Error(), hrsync.ErrMapping.Error()+": "))}
}

// saySource tells people which vendor's profile read a file.
func (a *app) saySource(name string, file *hrsync.File) {
	if file.Source == hrsync.SourceGeneric {
		return
	}
	how := "detected from its header; --source sets it"
	if !file.Detected {
		how = "--source " + string(file.Source)
	}
	a.say("%s: read as a %s export (%s)", name, file.Source.Name(), how)
}

// sayIgnoredWhy tells people why the columns ignored on purpose are (a
// profile's, a mapping's, a column that gave way to another), and how
// many blank rows were skipped. The line listing the ignored columns,
// which scripts read, comes before.
func (a *app) sayIgnoredWhy(name string, file *hrsync.File, what string) {
	for _, c := range file.Columns {
		if c.Field == "" && c.Via != "" {
			a.say("%s: %s %q ignored: %s", name, what, c.Column, c.Ignored)
		}
	}
	if file.BlankRows > 0 {
		a.say("%s: skipped %d blank row(s)", name, file.BlankRows)
	}
}

// mappingJSON is --show-mapping's --json output.
type mappingJSON struct {
	File        string                 `json:"file"`
	Format      hrsync.Format          `json:"format"`
	Delimiter   string                 `json:"delimiter,omitempty"`
	Source      hrsync.Source          `json:"source"`
	SourceName  string                 `json:"sourceName"`
	Detected    bool                   `json:"detected"`
	Columns     []hrsync.ColumnMapping `json:"columns"`
	Ignored     []string               `json:"ignored"`
	DisplayName string                 `json:"displayName,omitempty"`
	Statuses    map[string][]string    `json:"statuses,omitempty"`
	Fields      []string               `json:"fields"`
}

// showMapping prints how each column of a file will be read, on stdout.
func (a *app) showMapping(name string, file *hrsync.File, statusMap hrsync.StatusMap) error {
	hasStatus := file.Column("status") != ""
	var statuses map[string][]string
	if hasStatus {
		statuses = hrsync.Statuses(file.Source, statusMap)
	}
	if a.jsonOut {
		j := mappingJSON{File: name, Format: file.Format, Source: file.Source, SourceName: file.Source.Name(), Detected: file.Detected,
			Columns: file.Columns, Ignored: nonNil(file.Unknown), DisplayName: file.DisplayName, Statuses: statuses, Fields: hrsync.Fields()}
		if j.Columns == nil {
			j.Columns = []hrsync.ColumnMapping{}
		}
		if file.Delimiter != 0 {
			j.Delimiter = string(file.Delimiter)
		}
		return a.printJSON(j)
	}
	out := a.stdout
	how := "detected from its header; --source sets it"
	if !file.Detected {
		how = "--source " + string(file.Source)
	}
	kind := "a " + file.Source.Name() + " export"
	if file.Source == hrsync.SourceGeneric {
		kind = "a generic export (the documented columns and their aliases)"
	}
	fmt.Fprintf(out, "%s: read as %s (%s)", name, kind, how)
	if file.Format == hrsync.CSV {
		fmt.Fprintf(out, ", %s-separated", hrsync.DelimiterName(file.Delimiter))
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	what := "COLUMN"
	if file.Format == hrsync.JSONL {
		what = "KEY"
	}
	fmt.Fprintf(w, "  %s\tREAD AS\tNOTE\n", what)
	for _, c := range file.Columns {
		col := c.Column
		if col == "" {
			col = `""`
		}
		switch {
		case c.Field == "":
			fmt.Fprintf(w, "  %s\tignored\t%s\n", col, c.Ignored)
		default:
			note := c.Note
			switch c.Via {
			case "map":
				note = strings.TrimSpace("mapped by --map. " + note)
			case "custom":
				note = strings.TrimSpace("the tenant's custom attribute. " + note)
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", col, c.Field, note)
		}
	}
	_ = w.Flush()
	if file.DisplayName != "" {
		fmt.Fprintf(out, "The display name is composed of %s.\n", file.DisplayName)
	}
	if hasStatus {
		fmt.Fprintln(out, "Status values (--status-map 'Value=active|inactive|ignore' changes them; others fail their row):")
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, m := range []struct{ key, label string }{
			{hrsync.StatusActive, "active"}, {hrsync.StatusInactive, "deactivated"}, {hrsync.StatusIgnore, "not a status (left as is)"},
		} {
			if vs := statuses[m.key]; len(vs) > 0 {
				fmt.Fprintf(w, "  %s\t%s\n", m.label, strings.Join(vs, ", "))
			}
		}
		_ = w.Flush()
	}
	fmt.Fprintf(out, "Fields a column can be mapped to (--map 'Their Column=field'): %s, custom.NAME, ignore.\n", strings.Join(hrsync.Fields(), ", "))
	a.say("Nothing was synced (--show-mapping).")
	return nil
}
