package sdk

import (
	"fmt"
	"slices"
	"strings"
)

// A sync resolves each record's manager before it plans any change, so
// that cycles are found whatever the kind of reference, and so that a
// re-run resolves the same reference to the same member.
//
// References resolve against the desired state: a member matched by a
// record is known by the record's values for the fields the record
// carries, and by its stored values for the others; a record whose row
// fails is not applied, so its member (if any) is known by its stored
// values only.

// personIndex maps a key (an employee number, a name) to the people who
// have it, each once.
type personIndex struct {
	one  map[string]string   // key of one person → their id
	many map[string][]string // key of several people → their ids
}

func newPersonIndex(n int) *personIndex {
	return &personIndex{one: make(map[string]string, n), many: map[string][]string{}}
}

func (x *personIndex) add(key, id string) {
	if key == "" {
		return
	}
	if ids, ok := x.many[key]; ok {
		if !slices.Contains(ids, id) {
			x.many[key] = append(ids, id)
		}
		return
	}
	if cur, ok := x.one[key]; ok {
		if cur != id {
			delete(x.one, key)
			x.many[key] = []string{cur, id}
		}
		return
	}
	x.one[key] = id
}

// get returns the ids of the people with key.
func (x *personIndex) get(key string) []string {
	if id, ok := x.one[key]; ok {
		return []string{id}
	}
	return x.many[key]
}

// employeeKey is how employee numbers compare: trimmed and
// case-insensitively, as the stores' employee number keys do.
func employeeKey(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// nameKey is how names compare: case-insensitively, with runs of
// whitespace collapsed and a comma followed by one space; accents count
// ("José" is not "Jose").
func nameKey(s string) string {
	if !strings.Contains(s, ",") {
		return strings.Join(strings.Fields(strings.ToLower(s)), " ")
	}
	parts := strings.Split(strings.ToLower(s), ",")
	for i, p := range parts {
		parts[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.TrimSpace(strings.Join(parts, ", "))
}

// nameKeys returns the names a person with profile parts p answers to
// (see [SyncRecord.ManagerName]).
func nameKeys(display, formatted, given, middle, family string) []string {
	keys := []string{nameKey(display), nameKey(formatted)}
	if given != "" && family != "" {
		keys = append(keys, nameKey(given+" "+family), nameKey(family+", "+given))
		if middle != "" {
			keys = append(keys, nameKey(given+" "+middle+" "+family), nameKey(family+", "+given+" "+middle))
		}
	}
	return keys
}

// syncPerson returns what a sync knows of the person of id: the record
// that applies to them (nil if none) and the member (nil for a new one).
func (pl *syncPlan) syncPerson(id string) (*SyncRecord, *Member) {
	var r *SyncRecord
	if i, ok := pl.recOf[id]; ok {
		r = &pl.records[i]
	}
	return r, pl.byID[id]
}

// desired returns the value of a profile field of the person a record r
// and a member m describe: the record's when it carries f, else the
// member's.
func desired(r *SyncRecord, m *Member, f Field, get func(*Profile) *string) string {
	if r != nil && r.carries(f) {
		return *get(&r.Profile)
	}
	if m != nil {
		return *get(&m.Profile)
	}
	return ""
}

// forEachPerson calls fn for every person of the input and the tenant,
// once each, with the record that applies to them and their member.
func (pl *syncPlan) forEachPerson(fn func(id string, r *SyncRecord, m *Member)) {
	for id, m := range pl.byID {
		r, _ := pl.syncPerson(id)
		fn(id, r, m)
	}
	for id, i := range pl.recOf {
		if pl.byID[id] == nil {
			fn(id, &pl.records[i], nil)
		}
	}
}

// employees indexes everyone by employee number, on first use.
func (pl *syncPlan) employees() *personIndex {
	if pl.byEmployee == nil {
		x := newPersonIndex(len(pl.byID) + len(pl.recOf))
		get := func(p *Profile) *string { return &p.EmployeeNumber }
		pl.forEachPerson(func(id string, r *SyncRecord, m *Member) {
			x.add(employeeKey(desired(r, m, FieldEmployeeNumber, get)), id)
		})
		pl.byEmployee = x
	}
	return pl.byEmployee
}

// names indexes everyone by the names they answer to, on first use.
func (pl *syncPlan) names() *personIndex {
	if pl.byName == nil {
		x := newPersonIndex(3 * (len(pl.byID) + len(pl.recOf)))
		pl.forEachPerson(func(id string, r *SyncRecord, m *Member) {
			d := func(f Field, get func(*Profile) *string) string { return desired(r, m, f, get) }
			for _, k := range nameKeys(
				d(FieldDisplayName, func(p *Profile) *string { return &p.DisplayName }),
				d(FieldFormattedName, func(p *Profile) *string { return &p.FormattedName }),
				d(FieldGivenName, func(p *Profile) *string { return &p.GivenName }),
				d(FieldMiddleName, func(p *Profile) *string { return &p.MiddleName }),
				d(FieldFamilyName, func(p *Profile) *string { return &p.FamilyName }),
			) {
				x.add(k, id)
			}
		})
		pl.byName = x
	}
	return pl.byName
}

// resolveRef resolves a record's Manager: by external id, then employee
// number, then email, each among the records first (the desired state),
// then among the members. It returns the manager's id, or "" and, when
// the reference is the employee number of several people, their ids.
func (pl *syncPlan) resolveRef(ref string) (id string, shared []string) {
	if id, ok := pl.recID["x:"+ref]; ok {
		return id, nil
	}
	if m := pl.byExt[ref]; m != nil {
		return m.ID, nil
	}
	if k := employeeKey(ref); k != "" {
		ids := pl.employees().get(k)
		if len(ids) == 1 {
			return ids[0], nil
		}
		shared = ids
	}
	k := NormalizeEmail(ref)
	if id, ok := pl.recID["e:"+k]; ok {
		return id, nil
	}
	if m := pl.byEmail[k]; m != nil {
		return m.ID, nil
	}
	return "", shared
}

// resolveName returns the ids of the people, other than self, who answer
// to name.
func (pl *syncPlan) resolveName(name, self string) []string {
	ids := pl.names().get(nameKey(name))
	if slices.Contains(ids, self) {
		ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == self })
	}
	return ids
}

// who describes the people of ids for a report: their emails (and
// lines), at most three.
func (pl *syncPlan) who(ids []string) string {
	var out []string
	for _, id := range ids {
		r, m := pl.syncPerson(id)
		switch {
		case r != nil && r.Line > 0:
			out = append(out, fmt.Sprintf("%s (line %d)", r.Email, r.Line))
		case r != nil:
			out = append(out, r.Email)
		case m != nil:
			out = append(out, m.Email)
		}
	}
	slices.Sort(out)
	if len(out) > 3 {
		out = append(out[:3], "…")
	}
	return strings.Join(out, ", ")
}

// managerIssue is why a record's manager did not resolve.
type managerIssue struct {
	fail bool        // Manager names nobody and there is no name: the record fails
	note SyncFailure // otherwise: reported when the record applies, the manager left as it is
}

// resolveManagers resolves the manager of each record that will be
// planned (slots[i] true) and carries one, into pl.mgrID, noting in
// pl.mgrIssue those that do not resolve; then it refuses the input if
// the managers it found form a cycle among the records.
func (pl *syncPlan) resolveManagers(ok []bool) error {
	records := pl.records
	pl.mgrID = make([]string, len(records))
	pl.mgrIssue = map[int]managerIssue{}
	for i := range records {
		r := &records[i]
		if !ok[i] || !r.carries(FieldManagerID) || (r.Manager == "" && r.ManagerName == "") {
			continue
		}
		self := pl.recordID(r)
		var shared []string
		if r.Manager != "" {
			var id string
			if id, shared = pl.resolveRef(r.Manager); id != "" {
				pl.mgrID[i] = id
				continue
			}
			if r.ManagerName == "" {
				pl.mgrIssue[i] = managerIssue{fail: true, note: SyncFailure{Message: pl.unknownManager(r.Manager, shared)}}
				continue
			}
		}
		ids := pl.resolveName(r.ManagerName, self)
		if len(ids) == 1 {
			pl.mgrID[i] = ids[0]
			continue
		}
		prefix := ""
		if r.Manager != "" {
			prefix = pl.unknownManager(r.Manager, shared) + ", and "
		}
		n := SyncFailure{Line: r.Line, Key: r.syncKey(), Field: "managerName", Reason: ReasonManagerNameUnknown,
			Message: fmt.Sprintf("%smanagerName %q matches nobody in the file or the tenant", prefix, r.ManagerName)}
		if len(ids) > 1 {
			n.Reason = ReasonManagerNameAmbiguous
			n.Message = fmt.Sprintf("%smanagerName %q matches %d people: %s", prefix, r.ManagerName, len(ids), pl.who(ids))
		}
		pl.mgrIssue[i] = managerIssue{note: n}
	}
	return pl.checkManagerCycles()
}

// recordID returns the id of the person a planned record describes.
func (pl *syncPlan) recordID(r *SyncRecord) string {
	if r.ExternalID != "" {
		if id, ok := pl.recID["x:"+r.ExternalID]; ok {
			return id
		}
	}
	return pl.recID["e:"+NormalizeEmail(r.Email)]
}

// unknownManager says why the Manager reference ref names nobody.
func (pl *syncPlan) unknownManager(ref string, shared []string) string {
	switch {
	case len(shared) > 1:
		return fmt.Sprintf("manager %q is the employee number of %d people (%s)", ref, len(shared), pl.who(shared))
	case pl.failedLine["x:"+ref] > 0:
		return fmt.Sprintf("manager %q is on line %d, which failed", ref, pl.failedLine["x:"+ref])
	case pl.failedLine["e:"+NormalizeEmail(ref)] > 0:
		return fmt.Sprintf("manager %q is on line %d, which failed", ref, pl.failedLine["e:"+NormalizeEmail(ref)])
	}
	return fmt.Sprintf("manager %q is neither in the file nor a member", ref)
}

// checkManagerCycles refuses managers that form a cycle among the
// records, walking each chain with colouring.
func (pl *syncPlan) checkManagerCycles() error {
	records := pl.records
	next := func(i int) int {
		if id := pl.mgrID[i]; id != "" {
			if j, ok := pl.recOf[id]; ok {
				return j
			}
		}
		return -1
	}
	line := func(i int) string {
		if records[i].Line > 0 {
			return fmt.Sprintf("line %d", records[i].Line)
		}
		return fmt.Sprintf("record %d", i+1)
	}
	state := make([]uint8, len(records)) // 0 new, 1 on the current path, 2 done
	for i := range records {
		var path []int
		j := i
		for j >= 0 && state[j] == 0 {
			state[j] = 1
			path = append(path, j)
			j = next(j)
		}
		if j >= 0 && state[j] == 1 {
			start := slices.Index(path, j)
			var names []string
			for _, k := range path[start:] {
				names = append(names, fmt.Sprintf("%s (%s)", records[k].Email, line(k)))
			}
			names = append(names, records[j].Email)
			return &Error{Op: pl.op, Code: CodeInvalidArgument, Reason: ReasonManagerCycle, Field: "manager",
				Message: "managers form a cycle: " + strings.Join(names, " → ")}
		}
		for _, k := range path {
			state[k] = 2
		}
	}
	return nil
}

// noteManager reports, once record i is planned for member cur (nil for
// a new one), that its manager name did not resolve.
func (pl *syncPlan) noteManager(i int, cur *Member) {
	is, ok := pl.mgrIssue[i]
	if !ok || is.fail {
		return
	}
	n := is.note
	if cur == nil {
		n.Message += "; the member was created without a manager"
	} else {
		n.Message += "; the member's manager was left as it was"
	}
	pl.rep.Notes = append(pl.rep.Notes, n)
}
