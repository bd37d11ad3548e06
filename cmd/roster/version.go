package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// buildVersion is what the binary knows about how it was built, from the
// build information the Go toolchain embeds.
type buildVersion struct {
	// Version is the main module's version: a tag such as v1.2.0 when
	// installed with 'go install ...@v1.2.0', "(devel)" when built from a
	// checkout.
	Version string `json:"version"`
	// Commit is the VCS revision of a build from a checkout, "" if unknown.
	Commit string `json:"commit"`
	// Modified reports that the checkout had uncommitted changes.
	Modified bool `json:"modified"`
	// Time is the commit's time (RFC 3339), "" if unknown.
	Time string `json:"time"`
	// Go is the Go version that built the binary.
	Go string `json:"go"`
}

// Set at link time by builds that know better than the build information,
// such as the Dockerfile's (whose build context has no .git):
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD)" ./cmd/roster
var version, commit string

// readVersion reads the build information of the running binary; version
// and commit, when set at link time, win.
func readVersion() buildVersion {
	v := readBuildInfo()
	if version != "" {
		v.Version = version
	}
	if commit != "" {
		v.Commit, v.Modified, v.Time = commit, false, ""
	}
	return v
}

func readBuildInfo() buildVersion {
	v := buildVersion{Version: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = bi.GoVersion
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "vcs.time":
			v.Time = s.Value
		}
	}
	return v
}

// String is the one-line form: "v1.2.0 (commit 0a127f7c, 2026-03-01T09:00:00Z; go1.26.0)".
func (v buildVersion) String() string {
	var parts []string
	if v.Commit != "" {
		c := "commit " + v.Commit[:min(len(v.Commit), 12)]
		if v.Modified {
			c += "+modified"
		}
		if v.Time != "" {
			c += ", " + v.Time
		}
		parts = append(parts, c)
	}
	if v.Go != "" {
		parts = append(parts, v.Go)
	}
	if len(parts) == 0 {
		return v.Version
	}
	return fmt.Sprintf("%s (%s)", v.Version, strings.Join(parts, "; "))
}

func newVersionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Print the version of this binary (the module version it was installed at,
or "(devel)" when built from a checkout), the commit it was built from
(with +modified when the checkout had uncommitted changes) and its time,
and the Go version that built it, as 'roster --version' does. With --json,
one JSON object on stdout: version, commit, modified, time, go.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := readVersion()
			if a.jsonOut {
				return a.printJSON(v)
			}
			fmt.Fprintf(a.stdout, "roster %s\n", v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print JSON on stdout")
	return cmd
}
