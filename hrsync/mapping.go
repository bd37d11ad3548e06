package hrsync

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rosterhq/roster/sdk"
)

// Column mappings given by people (--map, --map-file): which field a
// column of their file fills, for reports no profile knows.

// MapEntry maps a column of a file to a field.
type MapEntry struct {
	// Column is the header as the file spells it; headers compare as
	// everywhere (case, spaces and punctuation aside).
	Column string
	// Field is a canonical column name ([Fields]: "email", "given_name",
	// "manager_name", …), "custom.NAME" for a custom attribute of the
	// tenant, or "ignore" to ignore the column.
	Field string
	// From says where the entry was given, for errors: "--map",
	// "people.map:3".
	From string
}

// FieldIgnore is the [MapEntry.Field] that ignores a column.
const FieldIgnore = "ignore"

// Fields lists the canonical fields a column can fill, in the alias
// table's order.
func Fields() []string {
	out := make([]string, len(columns))
	for i := range columns {
		out[i] = columns[i].name
	}
	return out
}

// fieldByKey maps normalised field names to canonical ones, so that a
// mapping may say "givenName" or "Given Name" for given_name.
var fieldByKey = func() map[string]string {
	m := map[string]string{}
	for _, c := range columns {
		m[normalise(c.name)] = c.name
	}
	return m
}()

func validFields() string {
	return strings.Join(Fields(), ", ") + ", custom.NAME (a custom attribute of the tenant) or ignore"
}

// ParseMap reads mappings as a person types them on a command line:
// "Their Column=field,Other Column=field" (a header with a comma goes in
// a mapping file). The result has passed [CheckMap].
func ParseMap(s string) ([]MapEntry, error) {
	var out []MapEntry
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		e, err := parseEntry(part, "--map")
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return CheckMap(out)
}

// ParseMapFile reads a mapping file: one "Their Column=field" a line;
// blank lines and lines starting with # are skipped. name locates
// errors ("people.map:3"). The result has passed [CheckMap].
func ParseMapFile(r io.Reader, name string) ([]MapEntry, error) {
	var out []MapEntry
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseEntry(line, fmt.Sprintf("%s:%d", name, n))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return CheckMap(out)
}

func parseEntry(s, from string) (MapEntry, error) {
	i := strings.LastIndex(s, "=")
	if i < 0 {
		return MapEntry{}, mappingError("%s: %q is not Their Column=field", from, strings.TrimSpace(s))
	}
	e := MapEntry{Column: strings.TrimSpace(s[:i]), Field: strings.TrimSpace(s[i+1:]), From: from}
	if e.Column == "" {
		return MapEntry{}, mappingError("%s: %q names no column", from, strings.TrimSpace(s))
	}
	return e, nil
}

// CheckMap checks mappings before any file is read, and returns them
// with their fields spelled canonically. It refuses, with an error
// matching [ErrMapping] that lists the valid fields where it helps: a
// field that is not one; a column mapped to two fields; two columns
// mapped to one field. A custom attribute's name is checked against the
// tenant's when the file is read.
func CheckMap(entries []MapEntry) ([]MapEntry, error) {
	out := make([]MapEntry, 0, len(entries))
	byColumn := map[string]int{}
	byField := map[string]int{}
	for _, e := range entries {
		f, ok := canonicalField(e.Field)
		if !ok {
			return nil, mappingError("%s: %q is not a field; the fields are %s", e.From, e.Field, validFields())
		}
		e.Field = f
		k := normalise(e.Column)
		if j, dup := byColumn[k]; dup {
			if out[j].Field == f {
				continue
			}
			return nil, mappingError("column %q is mapped to %s (%s) and to %s (%s); map it once", e.Column, out[j].Field, out[j].From, f, e.From)
		}
		if f != FieldIgnore {
			if j, dup := byField[strings.ToLower(f)]; dup {
				return nil, mappingError("columns %q (%s) and %q (%s) are both mapped to %s, which takes one column; map one of them to another field or to ignore",
					out[j].Column, out[j].From, e.Column, e.From, f)
			}
			byField[strings.ToLower(f)] = len(out)
		}
		byColumn[k] = len(out)
		out = append(out, e)
	}
	return out, nil
}

// canonicalField spells a mapping's field as the alias table does.
func canonicalField(f string) (string, bool) {
	if name, ok := strings.CutPrefix(f, customPrefix); ok {
		return customPrefix + strings.TrimSpace(name), strings.TrimSpace(name) != ""
	}
	if normalise(f) == FieldIgnore {
		return FieldIgnore, true
	}
	c, ok := fieldByKey[normalise(f)]
	return c, ok
}

// ColumnMapping says how one column of a file (a key, for JSON Lines) is
// read: into a field, or not at all and why.
type ColumnMapping struct {
	// Column is the header as the file spells it.
	Column string `json:"column"`
	// Field is the canonical field it fills ("email", "custom.level"),
	// "" when the column is ignored.
	Field string `json:"field,omitempty"`
	// Via says what mapped it: "map" (--map), "custom" (a custom
	// attribute's name), "profile" (the source's profile) or "alias"
	// (the alias table).
	Via string `json:"via,omitempty"`
	// Note says what the column holds, when its name does not.
	Note string `json:"note,omitempty"`
	// Ignored says why the column is ignored.
	Ignored string `json:"ignored,omitempty"`
}

// mapper finds the columns of a file's headers: the mappings given, the
// tenant's custom attributes, the source's profile, the alias table.
type mapper struct {
	custom  []column
	names   []string // the custom attributes' names
	entries map[string]MapEntry
	src     Source // "" until detected
	given   bool   // src was given, not detected
	vocab   vocabulary
	status  StatusMap
}

func newMapper(opts ReadOptions) (*mapper, error) {
	m := &mapper{src: opts.Source, given: opts.Source != "", status: opts.StatusMap, entries: map[string]MapEntry{}}
	if opts.Source != "" && profileOf(opts.Source) == generic && opts.Source != SourceGeneric {
		return nil, fmt.Errorf("hrsync: unknown source %q: use %s", opts.Source, sourceList())
	}
	for _, a := range opts.CustomAttributes {
		m.custom = append(m.custom, custom(a))
		m.names = append(m.names, a.Name)
	}
	entries, err := CheckMap(opts.Map)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Field, customPrefix); ok {
			i := slices.IndexFunc(m.names, func(n string) bool { return strings.EqualFold(n, name) })
			if i < 0 {
				return nil, mappingError("%s: %q is not a custom attribute of the tenant (its custom attributes: %s)", e.From, name, nonEmpty(strings.Join(m.names, ", ")))
			}
			e.Field = customPrefix + m.names[i]
		}
		m.entries[normalise(e.Column)] = e
	}
	for k, v := range opts.StatusMap {
		if _, ok := statusTargets[v]; !ok || v == "" {
			return nil, mappingError("status %q is mapped to %q; use active, inactive or ignore", k, v)
		}
	}
	if m.src != "" {
		m.vocab = newVocabulary(profileOf(m.src).statuses, m.status)
	}
	return m, nil
}

func nonEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// detect fixes the source from a header row, unless it was given.
func (m *mapper) detect(header []string) {
	if m.src == "" {
		m.src = Detect(header)
		m.vocab = newVocabulary(profileOf(m.src).statuses, m.status)
	}
}

// fieldColumn returns the column of a canonical field (or custom.NAME).
func (m *mapper) fieldColumn(f string) *column {
	if name, ok := strings.CutPrefix(f, customPrefix); ok {
		for i, n := range m.names {
			if n == name {
				return &m.custom[i]
			}
		}
		return nil
	}
	return byHeader[normalise(f)]
}

// candidate is a header that would fill a column.
type candidate struct {
	i    int
	c    *column
	via  string
	rank int // the profile alias's place; -1 for others
	a    *alias
}

// layout is how the columns of a header row are read.
type layout struct {
	cols  []ColumnMapping // by header index
	cells []cell          // the columns read, in the alias table's order
	idx   map[string]int  // canonical field → header index
	// omit is the Omit of the records; keepStatus that of records whose
	// status value means nothing about the status.
	omit, keepStatus map[sdk.Field]bool
	vocab            vocabulary
	compose          bool
	// display says how the display name is composed ("" when it is not),
	// for people.
	display string
}

type cell struct {
	i      int
	header string
	c      *column
	a      *alias // the profile's alias that mapped it, if any
}

// layoutError is a problem with a header row: its column (1-based, 0 for
// the whole row), the field, and the message.
type layoutError struct {
	col   int
	field string
	msg   string
	err   error
}

// plan maps a header row. With lenient (JSON Lines, whose keys have
// always been read this way), two keys for one field are both read
// rather than refused.
func (m *mapper) plan(header []string, lenient bool) (*layout, *layoutError) {
	p := profileOf(m.src)
	l := &layout{cols: make([]ColumnMapping, len(header)), idx: map[string]int{}, vocab: m.vocab}
	byField := map[string][]candidate{}
	var order []string
	mapped := map[string]int{} // --map entry key → header index
	for i, h := range header {
		l.cols[i].Column = h
		k := normalise(h)
		var cand candidate
		switch e, ok := m.entries[k]; {
		case ok:
			if j, dup := mapped[k]; dup {
				return nil, &layoutError{col: i + 1, err: ErrMapping,
					msg: fmt.Sprintf("columns %q and %q both match %s %q; rename one, or map them apart in a mapping file", header[j], h, e.From, e.Column)}
			}
			mapped[k] = i
			if e.Field == FieldIgnore {
				l.cols[i].Via, l.cols[i].Ignored = "map", "ignored as "+e.From+" says"
				continue
			}
			cand = candidate{i: i, c: m.fieldColumn(e.Field), via: "map", rank: -1}
		case strings.TrimSpace(h) == "":
			l.cols[i].Ignored = "the column has no header"
			continue
		default:
			if c := m.columnOfCustom(h); c != nil {
				cand = candidate{i: i, c: c, via: "custom", rank: -1}
				break
			}
			if a, rank := p.aliasOf(k); a != nil {
				if a.field == "" {
					l.cols[i].Via, l.cols[i].Ignored = "profile", a.note
					continue
				}
				cand = candidate{i: i, c: m.fieldColumn(a.field), via: "profile", rank: rank, a: a}
				break
			}
			if c := byHeader[k]; c != nil {
				cand = candidate{i: i, c: c, via: "alias", rank: -1}
				break
			}
			l.cols[i].Ignored = fmt.Sprintf("no Roster field has this name (--map it to one, or declare a custom attribute named %q)", strings.TrimSpace(h))
			continue
		}
		if _, ok := byField[cand.c.name]; !ok {
			order = append(order, cand.c.name)
		}
		byField[cand.c.name] = append(byField[cand.c.name], cand)
	}
	for _, e := range m.entries {
		if _, ok := mapped[normalise(e.Column)]; !ok && !lenient {
			return nil, &layoutError{err: ErrMapping,
				msg: fmt.Sprintf("%s names column %q, which the file does not have; its columns are %s", e.From, e.Column, quoteList(header))}
		}
	}
	// A column that needs another field (a manager id needs the ids) is
	// read only when some column fills that field.
	for _, f := range order {
		byField[f] = slices.DeleteFunc(byField[f], func(c candidate) bool {
			if c.a == nil || c.a.needs == "" || len(byField[c.a.needs]) > 0 {
				return false
			}
			l.cols[c.i].Via, l.cols[c.i].Ignored = "profile", c.a.unmet
			return true
		})
	}
	for _, f := range order {
		cands := byField[f]
		if len(cands) == 0 {
			continue
		}
		win, lerr := pick(cands, header, lenient)
		if lerr != nil {
			return nil, lerr
		}
		for _, c := range cands {
			if !slices.Contains(win, c.i) {
				l.cols[c.i].Via = c.via
				l.cols[c.i].Ignored = fmt.Sprintf("%s is read from column %q", f, header[win[0]])
				continue
			}
			l.cols[c.i].Field, l.cols[c.i].Via = f, c.via
			if c.a != nil {
				l.cols[c.i].Note = c.a.note
			}
			l.idx[f] = c.i
			l.cells = append(l.cells, cell{i: c.i, header: header[c.i], c: c.c, a: c.a})
		}
	}
	// Without a status column, an employment type that says Terminated
	// gives the status (see alias.alsoStatus).
	if _, ok := l.idx["status"]; !ok {
		for _, c := range l.cells {
			if c.a != nil && c.a.alsoStatus {
				l.idx["status"] = c.i
				l.cells = append(l.cells, cell{i: c.i, header: c.header, c: &typeStatus})
				l.cols[c.i].Note = strings.TrimSuffix(l.cols[c.i].Note, "; Status says active or inactive") +
					"; the file has no Status column, so a value that deactivates (Terminated) deactivates, and any other is active"
				break
			}
		}
	}
	// Fill records in the table's order, whatever the file's.
	rank := func(c *column) int {
		if i := slices.IndexFunc(columns, func(t column) bool { return t.name == c.name }); i >= 0 {
			return i
		}
		return len(columns)
	}
	slices.SortStableFunc(l.cells, func(a, b cell) int { return rank(a.c) - rank(b.c) })

	present := map[string]bool{}
	for f := range l.idx {
		present[f] = true
	}
	_, hasDisplay := l.idx["display_name"]
	_, hasNick := l.idx["nickname"]
	_, hasPrefFamily := l.idx["preferred_family_name"]
	if !hasDisplay && (hasPrefFamily || p.compose && hasNick) {
		l.compose = true
		present["display_name"] = true
		l.display = l.describeDisplay(header)
	}
	l.omit = omitted(present)
	l.keepStatus = omitted(present)
	l.keepStatus[sdk.FieldStatus] = true
	return l, nil
}

// typeStatus is the status read from an employment type column (see
// alias.alsoStatus).
var typeStatus = column{name: "status", omit: sdk.FieldStatus, path: "status", set: func(*sdk.SyncRecord, string) error { return nil }}

func (m *mapper) columnOfCustom(h string) *column {
	h = strings.TrimSpace(h)
	for i, n := range m.names {
		if strings.EqualFold(h, n) {
			return &m.custom[i]
		}
	}
	return nil
}

// pick returns the header indexes that fill a field several columns
// could: the one --map names, else the profile's first, else (lenient)
// all of them; otherwise the file is ambiguous.
func pick(cands []candidate, header []string, lenient bool) ([]int, *layoutError) {
	if len(cands) == 1 {
		return []int{cands[0].i}, nil
	}
	if i := slices.IndexFunc(cands, func(c candidate) bool { return c.via == "map" }); i >= 0 {
		return []int{cands[i].i}, nil
	}
	if !slices.ContainsFunc(cands, func(c candidate) bool { return c.via != "profile" }) {
		best := slices.MinFunc(cands, func(a, b candidate) int { return a.rank - b.rank })
		return []int{best.i}, nil
	}
	if lenient {
		var all []int
		for _, c := range cands {
			all = append(all, c.i)
		}
		return all, nil
	}
	a, b := cands[0], cands[1]
	return nil, &layoutError{col: b.i + 1, field: b.c.name,
		msg: fmt.Sprintf("column %q is the same as column %d (%q); keep one, or say which to read with --map '%s=ignore'", header[b.i], a.i+1, header[a.i], strings.TrimSpace(header[b.i]))}
}

// describeDisplay says how the display name is composed, for people.
func (l *layout) describeDisplay(header []string) string {
	part := func(pref, legal string) string {
		var hs []string
		for _, f := range []string{pref, legal} {
			if i, ok := l.idx[f]; ok {
				hs = append(hs, fmt.Sprintf("%q", header[i]))
			}
		}
		return strings.Join(hs, ", else ")
	}
	first, last := part("nickname", "given_name"), part("preferred_family_name", "family_name")
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return first + ", then " + last
}

// quoteList quotes headers for a message, at most 30.
func quoteList(header []string) string {
	var q []string
	for i, h := range header {
		if i == 30 {
			q = append(q, fmt.Sprintf("… (%d more)", len(header)-30))
			break
		}
		q = append(q, fmt.Sprintf("%q", h))
	}
	if len(q) == 0 {
		return "none"
	}
	return strings.Join(q, ", ")
}

// rowState is what a record's cells leave for after them: the name parts the
// display name is composed of, and whether its status value meant
// nothing.
type rowState struct {
	given, family, nick, prefFamily string
	keepStatus                      bool
}

// set fills a record with one cell's value.
func (l *layout) set(rec *sdk.SyncRecord, st *rowState, c *column, header, v string) error {
	if c == &typeStatus {
		if l.vocab[normalise(v)] == StatusInactive {
			rec.Status = "inactive"
		} else {
			rec.Status = "active"
		}
		return nil
	}
	switch c.name {
	case "status":
		s, carried, invalid := l.vocab.statusOf(v, header)
		rec.Status, st.keepStatus = s, !carried
		if invalid != nil && rec.Invalid == nil {
			rec.Invalid = invalid
		}
		return nil
	case "given_name":
		st.given = v
	case "family_name":
		st.family = v
	case "nickname":
		st.nick = v
	case "preferred_family_name":
		st.prefFamily = v
	}
	return c.set(rec, v)
}

// finish completes a record once its cells are set.
func (l *layout) finish(rec *sdk.SyncRecord, st *rowState) {
	rec.Omit = l.omit
	if st.keepStatus {
		rec.Omit = l.keepStatus
	}
	if l.compose {
		first, last := st.nick, st.prefFamily
		if first == "" {
			first = st.given
		}
		if last == "" {
			last = st.family
		}
		rec.DisplayName = strings.TrimSpace(first + " " + last)
	}
}
