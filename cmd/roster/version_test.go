package main

import (
	"strings"
	"testing"
)

// TestVersionFromLinker checks that a version and commit set at link time
// (-X main.version, -X main.commit, as the Dockerfile does) win over the
// build information.
func TestVersionFromLinker(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v9.8.7", "0123456789abcdef0123"
	v := readVersion()
	if v.Version != "v9.8.7" || v.Commit != "0123456789abcdef0123" || v.Modified {
		t.Fatalf("readVersion() = %+v, want version v9.8.7, commit 0123456789abcdef0123, not modified", v)
	}
	if s := v.String(); !strings.HasPrefix(s, "v9.8.7 (commit 0123456789ab") {
		t.Errorf("String() = %q", s)
	}
	version, commit = "", ""
	if v := readVersion(); v.Version == "v9.8.7" || v.Commit == "0123456789abcdef0123" {
		t.Errorf("without link-time values readVersion() = %+v, still the linked ones", v)
	}
}
