package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeWalkthroughs runs every roster command of the README's
// walk-throughs (First steps, the SCIM walk-through's commands, then
// examples/hr) in the order a reader follows them, on one data directory:
// each must succeed, so that no walk-through trips over another's tenant.
func TestReadmeWalkthroughs(t *testing.T) {
	t.Parallel()
	data := "--data=" + filepath.Join(t.TempDir(), "data")
	var cmds [][]string
	for _, doc := range []string{"../../README.md", "../../examples/hr/README.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, walkthroughCommands(string(b))...)
	}
	if len(cmds) < 20 {
		t.Fatalf("found %d roster commands in the READMEs; the parser lost them", len(cmds))
	}
	for _, args := range cmds {
		for i, a := range args {
			if strings.HasPrefix(a, "examples/") {
				args[i] = "../../" + a
			}
		}
		r := roster(t, nil, append(args, data)...)
		if r.code != 0 {
			t.Fatalf("roster %s, run in the README's order: %s", strings.Join(args, " "), r)
		}
	}
	t.Logf("ran %d commands of the READMEs in order", len(cmds))
}

// walkthroughCommands returns the arguments of each 'go run ./cmd/roster'
// line (also inside VAR=$(…)) of the sh blocks of a Markdown text, but
// serve, which the walk-throughs run in another terminal.
func walkthroughCommands(md string) [][]string {
	var out [][]string
	in := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in && strings.TrimPrefix(line, "```") == "sh"
			continue
		}
		const prefix = "go run ./cmd/roster "
		i := strings.Index(line, prefix)
		if !in || i < 0 || (i > 0 && !strings.HasSuffix(line[:i], "$(")) {
			continue
		}
		rest := line[i+len(prefix):]
		if j := strings.Index(rest, ")"); i > 0 && j >= 0 {
			rest = rest[:j]
		}
		args := shellWords(rest)
		if len(args) > 0 && args[0] != "serve" {
			out = append(out, args)
		}
	}
	return out
}

// shellWords splits a command line as sh would for the plain words,
// single- and double-quoted strings and comments the READMEs use.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '#' && !inWord:
			return words
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	got := shellWords(`tenant create acme-hr --name "Acme (HR demo)" --x 'a b' --seats 10   # comment`)
	want := []string{"tenant", "create", "acme-hr", "--name", "Acme (HR demo)", "--x", "a b", "--seats", "10"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("shellWords = %q, want %q", got, want)
	}
}
