package hrsync

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What the reader works out about a file before parsing it: the delimiter
// of a CSV file, and whether a file given as CSV is JSON Lines.

// Sentinels that a [*Error] (or, for a delimiter, a [*DelimiterError])
// matches with [errors.Is].
var (
	// ErrLooksLikeJSONLines: the first line of a file given as CSV
	// starts like a JSON object but is not a whole one (malformed, or
	// longer than the reader looks ahead), so it was not read as JSON
	// Lines.
	ErrLooksLikeJSONLines = errors.New("the file looks like JSON Lines")
	// ErrDelimiter: [ReadOptions.Delimiter] cannot separate CSV fields.
	ErrDelimiter = errors.New("invalid delimiter")
)

// detectable are the delimiters Read recognises in a header, in the order
// that breaks a tie.
var detectable = []rune{',', ';', '\t', '|'}

// DelimiterError is an unusable [ReadOptions.Delimiter]. It matches
// [ErrDelimiter].
type DelimiterError struct {
	Delimiter rune
	Reason    string
}

func (e *DelimiterError) Error() string {
	return fmt.Sprintf("hrsync: %q cannot be the delimiter: %s", e.Delimiter, e.Reason)
}

// Is reports whether target is [ErrDelimiter].
func (e *DelimiterError) Is(target error) bool { return target == ErrDelimiter }

// CheckDelimiter returns a [*DelimiterError] when d cannot separate the
// fields of a CSV file: a quote, a line break, a letter or digit, or not a
// valid character. 0 (detect) is valid.
func CheckDelimiter(d rune) error {
	var reason string
	switch {
	case d == 0:
		return nil
	case d == '"':
		reason = "it is the quote character"
	case d == '\r' || d == '\n':
		reason = "it ends lines"
	case unicode.IsLetter(d) || unicode.IsDigit(d):
		reason = "it is a letter or digit"
	case d == utf8.RuneError || !utf8.ValidRune(d) || d == '\uFEFF' || !unicode.IsPrint(d) && d != '\t':
		reason = "it is not a printable character"
	default:
		return nil
	}
	return &DelimiterError{Delimiter: d, Reason: reason}
}

// ParseDelimiter reads a delimiter as a person types it: a single
// character, or one of the names "comma", "semicolon", "tab", "pipe" (and
// `\t`). "" is 0, detect. The result has passed [CheckDelimiter].
func ParseDelimiter(s string) (rune, error) {
	var d rune
	switch strings.ToLower(s) {
	case "":
		return 0, nil
	case "comma":
		d = ','
	case "semicolon":
		d = ';'
	case "tab", `\t`:
		d = '\t'
	case "pipe":
		d = '|'
	default:
		r, n := utf8.DecodeRuneInString(s)
		if n != len(s) {
			return 0, fmt.Errorf("hrsync: %w: %q is not one character (or comma, semicolon, tab, pipe)", ErrDelimiter, s)
		}
		d = r
	}
	if err := CheckDelimiter(d); err != nil {
		return 0, err
	}
	return d, nil
}

// DelimiterName names a delimiter for people: "comma", "semicolon", "tab",
// "pipe", or the character quoted.
func DelimiterName(d rune) string {
	switch d {
	case ',':
		return "comma"
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	case '|':
		return "pipe"
	}
	return fmt.Sprintf("%q", d)
}

// sniff looks at the start of a file, as much as br buffers, and returns
// the first non-blank line (without its line break), its line number, and
// whether the line is complete.
func sniff(br *bufio.Reader) (first []byte, line int, complete bool) {
	buf, err := br.Peek(br.Size())
	line = 1
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			// The last line in the buffer: complete only at the end of
			// the input.
			return buf, line, err != nil
		}
		if l := buf[:i]; len(bytes.TrimSpace(l)) > 0 {
			return l, line, true
		}
		buf = buf[i+1:]
		line++
	}
	return nil, line, true
}

// looksLikeJSON reports whether a line given as CSV is the start of a
// JSON object: "{" then a quote or "}". No CSV header starts so: a quote
// in the middle of an unquoted field is a parse error, and "{}" has no
// email column.
func looksLikeJSON(l []byte) bool {
	l = bytes.TrimSpace(l)
	if len(l) < 2 || l[0] != '{' {
		return false
	}
	rest := bytes.TrimSpace(l[1:])
	return len(rest) > 0 && (rest[0] == '"' || rest[0] == '}')
}

// detectDelimiter picks the delimiter of a header line: whichever of
// comma, semicolon, tab and pipe it has most of outside quotes, comma on a
// tie or when it has none (a one-column file). A header cut short by the
// buffer is counted as far as it goes.
func detectDelimiter(header []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, c := range header {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted:
			counts[rune(c)]++
		}
	}
	best := ','
	for _, d := range detectable {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// jsonLinesGivenAsCSV decides what to do with a file given as CSV whose
// first line looks like JSON: read it as JSON Lines when that line is a
// whole, valid JSON object (the file cannot be CSV then), else refuse it.
func jsonLinesGivenAsCSV(first []byte, line int, complete bool) error {
	if complete && json.Valid(bytes.TrimSpace(first)) {
		return nil
	}
	return &Error{Line: line, Column: 1, Err: ErrLooksLikeJSONLines,
		Msg: "the file looks like JSON Lines, not CSV (the line starts with {); read it as JSON Lines (--format jsonl, or name it .jsonl)"}
}
