package hrsync

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// endless is an export without end: a header, then record after record.
// It fails the test when read past max bytes.
type endless struct {
	t       *testing.T
	header  string
	line    func(i int) string
	max     int
	read    int
	pending []byte
	i       int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.read >= e.max {
		e.t.Errorf("read %d bytes, past the %d the reader needs", e.read, e.max)
		return 0, io.ErrUnexpectedEOF
	}
	for len(e.pending) < len(p) {
		if e.i == 0 {
			e.pending = append(e.pending, e.header...)
		} else {
			e.pending = append(e.pending, e.line(e.i)...)
		}
		e.i++
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	e.read += n
	return n, nil
}

func TestReadStopsAtTheLimit(t *testing.T) {
	const limit = 1000
	for _, c := range []struct {
		name   string
		format Format
		header string
		line   func(int) string
	}{
		{"csv", CSV, "email,name\n", func(i int) string { return fmt.Sprintf("u%d@x.test,U %d\n\n", i, i) }},
		{"jsonl", JSONL, "", func(i int) string { return fmt.Sprintf(`{"email":"u%d@x.test"}`+"\n\n", i) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The records take some 30 KB; the reader may buffer 64 KiB
			// ahead (twice for JSON Lines), never the rest.
			r := &endless{t: t, header: c.header, line: c.line, max: 300 << 10}
			_, err := Read(r, c.format, ReadOptions{MaxRecords: limit})
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrTooManyRecords) {
				t.Fatalf("err = %v", err)
			}
			// Each record is followed by a blank line, which does not
			// count.
			want := 2*limit + 1 // record n is on line 2n-1
			if c.header != "" {
				want++
			}
			if e.Line != want || !strings.Contains(e.Error(), "more than 1000 records") {
				t.Fatalf("err = %v, want line %d", e, want)
			}
		})
	}
	// At the limit exactly, the file is read.
	in := "email\n"
	for i := range 3 {
		in += fmt.Sprintf("u%d@x.test\n", i)
	}
	if f, err := Read(strings.NewReader(in), CSV, ReadOptions{MaxRecords: 3}); err != nil || len(f.Records) != 3 {
		t.Fatalf("at the limit: %v", err)
	}
	if (ReadOptions{}).maxRecords() != sdk.MaxSyncRecords {
		t.Fatal("the default limit is not the SDK's")
	}
}
