package sdk

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// SyncRecord is one person of an HR export: the desired state of a member.
//
// A record carries the fields its source has (see Omit); each carried
// field is applied to the member, each field it does not carry is left as
// it is. Applying an unchanged record writes nothing.
type SyncRecord struct {
	// Line is the record's line in the source file, for reports (0 when
	// unknown).
	Line int `json:"line,omitempty"`

	// Profile is the person's profile, applied field by field:
	//   - ExternalID matches the member (before Email); an empty one never
	//     clears the member's.
	//   - UserName, when empty, keeps the member's, which follows the email
	//     when it was the email (new members get their email).
	//   - ManagerID is ignored: see Manager.
	//   - Emails, PhoneNumbers and Addresses are merged by item type: the
	//     record's items of a type replace the member's items of that type,
	//     an item without a value removes them, and the member's items of
	//     other types stay. An address part the record does not carry
	//     (Omit names FieldAddressLocality, …) keeps the member's value; an
	//     email or phone item leaving Display or Primary unset keeps the
	//     member's.
	//   - Custom sets the custom attributes it has a key for (any spelling of
	//     the declared name; an empty value clears one) and leaves the
	//     others.
	// Values are checked as [Profile.Validate] does: an invalid one fails
	// the record alone, naming the field.
	Profile `validate:"-"`

	// Email is the person's address: it matches the member when the
	// external id does not, and becomes the member's primary work email.
	Email string `json:"email" validate:"required,max=254,email"`
	// Manager is the manager's external id or email address, in the input
	// or among the members.
	Manager string `json:"manager,omitempty" validate:"max=256,utf8"`
	// Role is a role name; empty keeps the member's role (new members get
	// the tenant's default role).
	Role string `json:"role,omitempty" validate:"max=64"`
	// Status is "active" (or empty) or "inactive".
	Status string `json:"status,omitempty" validate:"omitempty,oneof=active inactive"`

	// Omit names the fields the source does not carry (a CSV without that
	// column): they are left as they are rather than cleared. Keys are
	// profile fields ([ProfileFields], [CustomField] names, the address
	// parts such as [FieldAddressLocality]), [FieldManagerID] for Manager,
	// [FieldRole] and [FieldStatus]. Naming an attribute omits its parts
	// too ([FieldAddresses], [FieldCustom]). Nil carries every field. The
	// map is only read, so records of one file may share it.
	Omit map[Field]bool `json:"-"`
}

// carries reports whether the record carries field f.
func (r *SyncRecord) carries(f Field) bool {
	if r.Omit == nil {
		return true
	}
	if r.Omit[f] {
		return false
	}
	if _, ok := f.customName(); ok {
		return !r.Omit[FieldCustom]
	}
	if strings.HasPrefix(string(f), string(FieldAddresses)+".") {
		return !r.Omit[FieldAddresses]
	}
	return true
}

// addressParts lists the parts of an address a record can carry.
var addressParts = []struct {
	field Field
	get   func(*Address) *string
}{
	{FieldAddressFormatted, func(a *Address) *string { return &a.Formatted }},
	{FieldAddressStreet, func(a *Address) *string { return &a.StreetAddress }},
	{FieldAddressLocality, func(a *Address) *string { return &a.Locality }},
	{FieldAddressRegion, func(a *Address) *string { return &a.Region }},
	{FieldAddressPostalCode, func(a *Address) *string { return &a.PostalCode }},
	{FieldAddressCountry, func(a *Address) *string { return &a.Country }},
}

// applyTo sets the fields of p the record carries (see [SyncRecord]), with
// managerID as the resolved Manager. p is the member's profile, or the
// zero profile for a new member; it may be a shallow copy, as applyTo
// replaces p's slices and map rather than changing them.
func (r *SyncRecord) applyTo(p *Profile, managerID string) {
	oldEmail, oldUser := NormalizeEmail(p.MemberEmail()), NormalizeUserName(p.UserName)
	for _, s := range profileScalars {
		switch s.field {
		case FieldManagerID:
			if r.carries(FieldManagerID) {
				p.ManagerID = managerID
			}
			continue
		case FieldExternalID, FieldUserName:
			if *s.get(&r.Profile) == "" {
				continue // a matching key: never cleared by a sync
			}
		}
		if r.carries(s.field) {
			*s.get(p) = *s.get(&r.Profile)
		}
	}
	var emails []Email
	if r.carries(FieldEmails) {
		emails = r.Emails
	}
	p.Emails = mergeItems(p.Emails, withWorkEmail(emails, r.Email), emailItem)
	if r.carries(FieldPhoneNumbers) {
		p.PhoneNumbers = mergeItems(p.PhoneNumbers, r.PhoneNumbers, phoneItem)
	}
	if r.carries(FieldAddresses) {
		p.Addresses = mergeItems(p.Addresses, r.Addresses, itemKind[Address]{
			typ:     func(a *Address) *string { return &a.Type },
			primary: func(a *Address) *bool { return &a.Primary },
			empty: func(a *Address) bool {
				for _, part := range addressParts {
					if *part.get(a) != "" {
						return false
					}
				}
				return true
			},
			keep: func(old Address, a *Address) {
				for _, part := range addressParts {
					if !r.carries(part.field) {
						*part.get(a) = *part.get(&old)
					}
				}
			},
		})
	}
	if r.carries(FieldCustom) && len(r.Custom) > 0 {
		owned := false // p.Custom may be the member's own map: copy before the first change
		for _, k := range slices.Sorted(maps.Keys(r.Custom)) {
			v := r.Custom[k]
			if cur, ok := p.Custom[k]; !r.carries(CustomField(k)) || (ok && cur == v) || (!ok && v == "" && !hasKeyFold(p.Custom, k)) {
				continue
			}
			if !owned {
				p.Custom, owned = maps.Clone(p.Custom), true
			}
			for old := range p.Custom {
				if strings.EqualFold(old, k) {
					delete(p.Custom, old)
				}
			}
			if v != "" {
				if p.Custom == nil {
					p.Custom = map[string]string{}
				}
				p.Custom[k] = v
			}
		}
		if len(p.Custom) == 0 {
			p.Custom = nil
		}
	}
	if (r.UserName == "" || !r.carries(FieldUserName)) && (oldUser == "" || oldUser == oldEmail) {
		p.UserName = p.MemberEmail()
	}
}

func hasKeyFold(m map[string]string, k string) bool {
	for old := range m {
		if strings.EqualFold(old, k) {
			return true
		}
	}
	return false
}

// withWorkEmail makes email the primary work email of items: the first
// item of type work takes its value, else it comes first.
func withWorkEmail(items []Email, email string) []Email {
	if email == "" {
		return items
	}
	out := make([]Email, 0, len(items)+1)
	done := false
	for _, e := range items {
		e.Primary = false
		if !done && strings.EqualFold(strings.TrimSpace(e.Type), "work") {
			e.Value, e.Primary, done = email, true, true
		}
		out = append(out, e)
	}
	if !done {
		out = append([]Email{{Value: email, Type: "work", Primary: true}}, out...)
	}
	return out
}

// itemKind describes the items of one multi-valued attribute for
// mergeItems.
type itemKind[T comparable] struct {
	typ     func(*T) *string
	primary func(*T) *bool
	empty   func(*T) bool      // the item has no value: it removes
	keep    func(old T, it *T) // copy from old what the record leaves to the member
}

var emailItem = itemKind[Email]{
	typ:     func(e *Email) *string { return &e.Type },
	primary: func(e *Email) *bool { return &e.Primary },
	empty:   func(e *Email) bool { return e.Value == "" },
	keep: func(old Email, e *Email) {
		if e.Display == "" && e.Value == old.Value {
			e.Display = old.Display
		}
	},
}

var phoneItem = itemKind[PhoneNumber]{
	typ:     func(e *PhoneNumber) *string { return &e.Type },
	primary: func(e *PhoneNumber) *bool { return &e.Primary },
	empty:   func(e *PhoneNumber) bool { return e.Value == "" },
	keep: func(old PhoneNumber, e *PhoneNumber) {
		if e.Display == "" && e.Value == old.Value {
			e.Display = old.Display
		}
	},
}

// mergeItems merges a record's items into a member's, by type: for each
// type the record has, its items (the non-empty ones) take the place of
// the member's items of that type — the n-th keeping from the member's
// n-th what kind.keep says, and its spelling of the type — or come last
// when the member has none. The member's items of other types stay, in
// their order. When a record item is primary, no other item is; otherwise
// an item keeps the primary flag of the item it replaces.
func mergeItems[T comparable](cur, rec []T, kind itemKind[T]) []T {
	if len(rec) == 0 {
		return cur
	}
	typeOf := func(it *T) string { return strings.ToLower(strings.TrimSpace(*kind.typ(it))) }
	recPrimary := slices.ContainsFunc(rec, func(it T) bool { return *kind.primary(&it) })
	if sameItems(cur, rec, kind, typeOf, recPrimary) {
		return cur // what a re-run finds: nothing to merge
	}
	type slot struct {
		v       T
		fromRec bool
	}
	out := make([]slot, 0, len(cur)+len(rec))
	for _, it := range cur {
		out = append(out, slot{v: it})
	}
	done := map[string]bool{}
	for i := range rec {
		t := typeOf(&rec[i])
		if done[t] {
			continue
		}
		done[t] = true
		var olds []int
		for j := range out {
			if !out[j].fromRec && typeOf(&out[j].v) == t {
				olds = append(olds, j)
			}
		}
		var items []slot
		n := 0
		for _, it := range rec[i:] {
			if typeOf(&it) != t {
				continue
			}
			if n < len(olds) {
				old := out[olds[n]].v
				kind.keep(old, &it)
				*kind.typ(&it) = *kind.typ(&old)
				if !recPrimary {
					*kind.primary(&it) = *kind.primary(&old)
				}
			}
			n++
			if !kind.empty(&it) {
				items = append(items, slot{v: it, fromRec: true})
			}
		}
		if len(olds) == 0 {
			out = append(out, items...)
			continue
		}
		next := make([]slot, 0, len(out)+len(items))
		for j, s := range out {
			switch {
			case j == olds[0]:
				next = append(next, items...)
			case slices.Contains(olds, j):
			default:
				next = append(next, s)
			}
		}
		out = next
	}
	res := make([]T, len(out))
	for i, s := range out {
		res[i] = s.v
		if recPrimary && !s.fromRec {
			*kind.primary(&res[i]) = false
		}
	}
	if len(res) == 0 {
		return nil
	}
	return res
}

// sameItems reports whether merging rec into cur leaves cur as it is
// because they hold the same items, one per type, in the same order.
func sameItems[T comparable](cur, rec []T, kind itemKind[T], typeOf func(*T) string, recPrimary bool) bool {
	if len(cur) != len(rec) {
		return false
	}
	for i := range rec {
		it, old := rec[i], cur[i]
		t := typeOf(&it)
		if t != typeOf(&old) || kind.empty(&it) {
			return false
		}
		for j := range i {
			if typeOf(&rec[j]) == t {
				return false
			}
		}
		kind.keep(old, &it)
		*kind.typ(&it) = *kind.typ(&old)
		if !recPrimary {
			*kind.primary(&it) = *kind.primary(&old)
		}
		if it != old {
			return false
		}
	}
	return true
}

var itemIndexRe = regexp.MustCompile(`^(emails|phoneNumbers|addresses)\[(\d+)\](.*)$`)

// typedField names an item of p by its type rather than its index
// ("phoneNumbers[1].value" → `phoneNumbers[type eq "mobile"].value`), which
// is what a record's source calls it.
func typedField(p *Profile, f string) string {
	m := itemIndexRe.FindStringSubmatch(f)
	if m == nil {
		return f
	}
	i, _ := strconv.Atoi(m[2])
	typ := ""
	switch Field(m[1]) {
	case FieldEmails:
		if i < len(p.Emails) {
			typ = p.Emails[i].Type
		}
	case FieldPhoneNumbers:
		if i < len(p.PhoneNumbers) {
			typ = p.PhoneNumbers[i].Type
		}
	case FieldAddresses:
		if i < len(p.Addresses) {
			typ = p.Addresses[i].Type
		}
	}
	if typ == "" {
		return f
	}
	return SyncItemField(Field(m[1]), typ) + m[3]
}

// SyncItemField names the items of type typ of a multi-valued attribute in
// a sync failure's Field, as a SCIM value path: SyncItemField(FieldPhoneNumbers,
// "mobile") is `phoneNumbers[type eq "mobile"]`; a sub-attribute follows
// it (`….value`).
func SyncItemField(attr Field, typ string) string {
	return fmt.Sprintf("%s[type eq %q]", attr, strings.ToLower(strings.TrimSpace(typ)))
}

// Deprovision says what happens to members absent from a sync's input.
type Deprovision string

// Deprovisioning modes.
const (
	DeprovisionNone       Deprovision = "none"
	DeprovisionDeactivate Deprovision = "deactivate"
	DeprovisionDelete     Deprovision = "delete"
)

// SyncOptions tune a sync.
type SyncOptions struct {
	// Deprovision handles members absent from the input; default none. The
	// owner is never deprovisioned (it is reported as skipped).
	Deprovision Deprovision
	// DryRun computes the report without writing anything.
	DryRun bool
	// Progress, when set, is called as work advances: phase is "read",
	// "plan" or "write", done counts what is finished of total.
	Progress func(phase string, done, total int)
	// BatchSize is how many writes go to the store at once; default 1000.
	BatchSize int
}

// SyncChange is one member a sync created or changed.
type SyncChange struct {
	Line     int      `json:"line,omitempty"`
	MemberID string   `json:"memberId"`
	Email    string   `json:"email"`
	Fields   []string `json:"fields,omitempty"` // for updates: the fields that changed
}

// SyncFailure is one record a sync could not apply, or one member it left
// alone on purpose (Skipped).
type SyncFailure struct {
	Line    int    `json:"line,omitempty"`
	Key     string `json:"key"` // email or external id
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
	// Field names the record's field at fault, when one is: a profile
	// field ("employeeNumber", "custom.level"), an item by its type
	// ([SyncItemField], with the sub-attribute: `phoneNumbers[type eq
	// "mobile"].value`), or email, manager, role or status. Message starts
	// with it.
	Field string `json:"field,omitempty"`
}

// SyncReport is what a sync did (or, for a dry run, would do).
type SyncReport struct {
	DryRun      bool          `json:"dryRun"`
	Created     []SyncChange  `json:"-"`
	Updated     []SyncChange  `json:"-"`
	Deactivated []SyncChange  `json:"-"`
	Reactivated []SyncChange  `json:"-"`
	Deleted     []SyncChange  `json:"-"`
	Unchanged   int           `json:"-"`
	Failed      []SyncFailure `json:"-"`
	Skipped     []SyncFailure `json:"-"`
	// Writes counts the store writes the sync made (0 for a dry run and
	// for an unchanged input).
	Writes int `json:"-"`
}

// SyncSummary is the JSON form of a report: the counts under stable keys,
// then the failures and the details.
type SyncSummary struct {
	DryRun      bool          `json:"dryRun"`
	Created     int           `json:"created"`
	Updated     int           `json:"updated"`
	Deactivated int           `json:"deactivated"`
	Reactivated int           `json:"reactivated"`
	Deleted     int           `json:"deleted"`
	Unchanged   int           `json:"unchanged"`
	Failed      int           `json:"failed"`
	Skipped     int           `json:"skipped"`
	Failures    []SyncFailure `json:"failures"`
	Skips       []SyncFailure `json:"skips"`
	Changes     struct {
		Created     []SyncChange `json:"created"`
		Updated     []SyncChange `json:"updated"`
		Deactivated []SyncChange `json:"deactivated"`
		Reactivated []SyncChange `json:"reactivated"`
		Deleted     []SyncChange `json:"deleted"`
	} `json:"changes"`
}

// Summary returns the report's JSON form.
func (r *SyncReport) Summary() *SyncSummary {
	nz := func(s []SyncChange) []SyncChange {
		if s == nil {
			return []SyncChange{}
		}
		return s
	}
	nzf := func(s []SyncFailure) []SyncFailure {
		if s == nil {
			return []SyncFailure{}
		}
		return s
	}
	s := &SyncSummary{
		DryRun: r.DryRun, Created: len(r.Created), Updated: len(r.Updated), Deactivated: len(r.Deactivated),
		Reactivated: len(r.Reactivated), Deleted: len(r.Deleted), Unchanged: r.Unchanged, Failed: len(r.Failed),
		Skipped: len(r.Skipped), Failures: nzf(r.Failed), Skips: nzf(r.Skipped),
	}
	s.Changes.Created, s.Changes.Updated, s.Changes.Deactivated = nz(r.Created), nz(r.Updated), nz(r.Deactivated)
	s.Changes.Reactivated, s.Changes.Deleted = nz(r.Reactivated), nz(r.Deleted)
	return s
}

// Reasons specific to syncs.
const (
	ReasonUnknownManager Reason = "unknown_manager"
	ReasonManagerCycle   Reason = "manager_cycle"
)

// MaxSyncRecords is the largest input one sync takes.
const MaxSyncRecords = 1_000_000

type syncOp struct {
	rec     *SyncRecord
	idx     int
	before  *Member // nil for a create
	after   *Member
	fields  []string // for the report: email, the changed profile fields, role
	changed []Field  // for the event: the changed profile fields
	kind    EventType
}

// Sync makes the tenant's members match an HR export. Records are matched
// to members by external id, then by email (case-insensitively); matched
// members are updated where a carried field differs (see [SyncRecord]),
// unmatched records become new active members, records with status
// inactive deactivate their member, and members absent from the input are
// deprovisioned as opts say. Each member written gets one write and one
// audit event naming the fields that changed.
//
// Input that cannot be trusted as a whole — two records with one email,
// external id or userName, a cycle of managers — is refused before
// anything is written. A record that is merely invalid (a bad email, a
// value too long or not of its custom attribute's type, an unknown role or
// manager, an email or userName of another member) fails alone and is
// reported with its line and field. When the seat limit is reached the
// remaining creates fail with ReasonSeatLimit and everything else applies.
//
// A sync is idempotent: re-running an unchanged input writes nothing, and a
// run interrupted half-way, when re-run, converges to the state of one
// clean run. Reads and writes go to the store in batches, so 100k records
// cost a few hundred round trips, not 100k.
func (c *Client) Sync(ctx context.Context, actor Actor, tenantID string, records []SyncRecord, opts SyncOptions) (*SyncReport, error) {
	const op = "sdk.Sync"
	switch opts.Deprovision {
	case "":
		opts.Deprovision = DeprovisionNone
	case DeprovisionNone, DeprovisionDeactivate, DeprovisionDelete:
	default:
		return nil, invalid(op, "Deprovision", fmt.Sprintf("%q is not one of none, deactivate, delete", opts.Deprovision))
	}
	if len(records) > MaxSyncRecords {
		return nil, invalid(op, "Records", fmt.Sprintf("at most %d records per sync (got %d)", MaxSyncRecords, len(records)))
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return nil, err
	}
	p, err := c.policyFor(ctx, op, t, actor)
	if err != nil {
		return nil, err
	}
	if p.refusal != "" {
		return nil, deny(p.refusal).Err(op)
	}
	if !p.has(PermTeamManage) {
		return nil, deny(ReasonMissingPermission).Err(op)
	}
	if err := checkSyncInput(op, records); err != nil {
		return nil, err
	}

	// Read every member once. Counting them first costs a query of its
	// own, so it is done only when someone watches the progress.
	total := -1
	if opts.Progress != nil {
		if total, err = c.store.CountMembers(ctx, t.ID, MemberFilter{}); err != nil {
			return nil, withOp(op, err)
		}
	}
	existing := make([]*Member, 0, max(total, 0))
	if sc, ok := c.store.(MemberScanner); ok {
		err := sc.ScanMembers(ctx, t.ID, func(m *Member) error {
			existing = append(existing, m)
			if len(existing)%1000 == 0 {
				progress("read", len(existing), total)
			}
			return nil
		})
		if err != nil {
			return nil, withOp(op, err)
		}
		progress("read", len(existing), total)
	} else {
		for after := ""; ; {
			page, err := c.store.ListMembers(ctx, t.ID, MemberQuery{After: after, Limit: 1000})
			if err != nil {
				return nil, withOp(op, err)
			}
			existing = append(existing, page...)
			progress("read", len(existing), total)
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	pl := &syncPlan{c: c, t: t, p: p, op: op, rep: &SyncReport{DryRun: opts.DryRun}}
	pl.index(existing)
	pl.plan(records, opts, progress)
	if opts.DryRun {
		pl.simulateSeats()
		return pl.rep, nil
	}
	if err := pl.apply(ctx, actor, opts, progress); err != nil {
		return pl.rep, err
	}
	return pl.rep, nil
}

// checkSyncInput refuses inputs that cannot be applied record by record:
// repeated emails, external ids or userNames, and manager cycles.
func checkSyncInput(op string, records []SyncRecord) error {
	emails := make(map[string]int, len(records))
	exts := make(map[string]int, len(records))
	users := map[string]int{}
	line := func(i int) string {
		if records[i].Line > 0 {
			return fmt.Sprintf("line %d", records[i].Line)
		}
		return fmt.Sprintf("record %d", i+1)
	}
	for i := range records {
		r := &records[i]
		if k := NormalizeEmail(r.Email); k != "" {
			if j, dup := emails[k]; dup {
				return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonDuplicateItem, Field: "email",
					Message: fmt.Sprintf("%s: email %s is already on %s", line(i), r.Email, line(j))}
			}
			emails[k] = i
		}
		if r.ExternalID != "" {
			if j, dup := exts[r.ExternalID]; dup {
				return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonDuplicateItem, Field: "external_id",
					Message: fmt.Sprintf("%s: external id %s is already on %s", line(i), r.ExternalID, line(j))}
			}
			exts[r.ExternalID] = i
		}
		if k := NormalizeUserName(r.UserName); k != "" && r.carries(FieldUserName) {
			if j, dup := users[k]; dup {
				return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonDuplicateItem, Field: "user_name",
					Message: fmt.Sprintf("%s: userName %s is already on %s", line(i), r.UserName, line(j))}
			}
			users[k] = i
		}
	}
	// Manager edges within the file; walk each chain with colouring.
	mgr := func(i int) int {
		m := records[i].Manager
		if m == "" || !records[i].carries(FieldManagerID) {
			return -1
		}
		if j, ok := exts[m]; ok {
			return j
		}
		if j, ok := emails[NormalizeEmail(m)]; ok {
			return j
		}
		return -1
	}
	state := make([]uint8, len(records)) // 0 new, 1 on the current path, 2 done
	for i := range records {
		var path []int
		j := i
		for j >= 0 && state[j] == 0 {
			state[j] = 1
			path = append(path, j)
			j = mgr(j)
		}
		if j >= 0 && state[j] == 1 {
			start := slices.Index(path, j)
			var names []string
			for _, k := range path[start:] {
				names = append(names, fmt.Sprintf("%s (%s)", records[k].Email, line(k)))
			}
			names = append(names, records[j].Email)
			return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonManagerCycle, Field: "manager",
				Message: "managers form a cycle: " + strings.Join(names, " → ")}
		}
		for _, k := range path {
			state[k] = 2
		}
	}
	return nil
}

type syncPlan struct {
	c   *Client
	t   *Tenant
	p   *Policy
	op  string
	rep *SyncReport

	byID, byExt, byEmail, byUserName map[string]*Member
	// ids of members and records, for manager resolution
	recID map[string]string // record external id / email key → member id

	creates []*syncOp
	updates []*syncOp // includes deactivations and reactivations
	deletes []*syncOp
}

func (pl *syncPlan) index(ms []*Member) {
	pl.byID = make(map[string]*Member, len(ms))
	pl.byExt = make(map[string]*Member, len(ms))
	pl.byEmail = make(map[string]*Member, len(ms))
	pl.byUserName = make(map[string]*Member, len(ms))
	for _, m := range ms {
		pl.byID[m.ID] = m
		pl.byEmail[m.EmailKey] = m
		if m.UserNameKey != "" {
			pl.byUserName[m.UserNameKey] = m
		}
		if m.ExternalID != "" {
			pl.byExt[m.ExternalID] = m
		}
	}
}

func (pl *syncPlan) fail(r *SyncRecord, reason Reason, field, msg string) {
	key := r.Email
	if key == "" {
		key = r.ExternalID
	}
	pl.rep.Failed = append(pl.rep.Failed, SyncFailure{Line: r.Line, Key: key, Reason: reason, Message: msg, Field: field})
}

func (pl *syncPlan) failErr(r *SyncRecord, err error) {
	msg := err.Error()
	field := ""
	var se *Error
	if e, ok := err.(*Error); ok {
		se = e
	}
	if se != nil && se.Message != "" {
		msg = se.Message
		if se.Field != "" {
			field = se.Field
			msg = se.Field + " " + msg
		}
	}
	reason := ReasonOf(err)
	if reason == "" {
		reason = Reason(CodeOf(err).String())
	}
	pl.fail(r, reason, field, msg)
}

// failInvalid reports a profile that did not validate, naming the item at
// fault by its type, as the record's source does.
func (pl *syncPlan) failInvalid(r *SyncRecord, p *Profile, err error) {
	if se, ok := err.(*Error); ok && se.Field != "" {
		c := *se
		c.Field = typedField(p, se.Field)
		err = &c
	}
	pl.failErr(r, err)
}

// checkRecord validates the record's own fields (those outside its
// profile), naming them as the record's JSON does.
func (pl *syncPlan) checkRecord(r *SyncRecord) error {
	err := check(pl.op, r)
	if se, ok := err.(*Error); ok && se.Field != "" {
		se.Field = strings.ToLower(se.Field[:1]) + se.Field[1:]
	}
	return err
}

func (pl *syncPlan) plan(records []SyncRecord, opts SyncOptions, progress func(string, int, int)) {
	t := pl.t
	now := pl.c.Now()
	matched := make(map[string]bool, len(records))
	// First pass: match records to members and give new members their id,
	// so managers resolve in one pass whatever the file's order.
	type slot struct {
		m   *Member
		err error
	}
	slots := make([]slot, len(records))
	pl.recID = make(map[string]string, 2*len(records))
	for i := range records {
		r := &records[i]
		r.Email = strings.TrimSpace(r.Email)
		if err := pl.checkRecord(r); err != nil {
			slots[i].err = err
			continue
		}
		m := pl.byExt[r.ExternalID]
		if r.ExternalID == "" || m == nil {
			m = pl.byEmail[NormalizeEmail(r.Email)]
			if m != nil && r.ExternalID != "" && m.ExternalID != "" && m.ExternalID != r.ExternalID {
				slots[i].err = &Error{Op: pl.op, Code: CodeAlreadyExists, Reason: ReasonEmailTaken, Field: "email",
					Message: fmt.Sprintf("%s belongs to the member with external id %s", r.Email, m.ExternalID)}
				continue
			}
		}
		id := ""
		if m != nil {
			id = m.ID
			matched[m.ID] = true
		} else {
			id = pl.c.newID()
		}
		slots[i].m = m
		if r.ExternalID != "" {
			pl.recID["x:"+r.ExternalID] = id
		}
		pl.recID["e:"+NormalizeEmail(r.Email)] = id
		if m == nil {
			slots[i].m = &Member{ID: id} // placeholder marks "new"
		}
	}
	for i := range records {
		r := &records[i]
		if i%10000 == 0 {
			progress("plan", i, len(records))
		}
		if slots[i].err != nil {
			pl.failErr(r, slots[i].err)
			continue
		}
		cur := pl.byID[slots[i].m.ID]
		managerID := ""
		if r.carries(FieldManagerID) && r.Manager != "" {
			managerID = pl.resolveManager(r.Manager)
			if managerID == "" {
				pl.fail(r, ReasonUnknownManager, "manager", fmt.Sprintf("manager %q is neither in the file nor a member", r.Manager))
				continue
			}
		}
		if r.carries(FieldRole) && r.Role != "" {
			if d := pl.p.grantable(r.Role); !d.Allowed {
				pl.failField(r, "role", d.Err(pl.op))
				continue
			}
		}
		inactive := r.carries(FieldStatus) && r.Status == "inactive"
		if cur == nil {
			if inactive {
				// Nobody to deactivate: the desired state already holds.
				pl.rep.Unchanged++
				continue
			}
			role := r.Role
			if role == "" || !r.carries(FieldRole) {
				role = t.DefaultRole()
			}
			var prof Profile
			r.applyTo(&prof, managerID)
			m, err := pl.c.newMember(pl.op, t, prof, role, StatusActive)
			if err != nil {
				pl.failInvalid(r, &prof, err)
				continue
			}
			m.ID = slots[i].m.ID
			if other := pl.byUserName[m.UserNameKey]; other != nil {
				pl.failUserName(r, m, other)
				continue
			}
			pl.creates = append(pl.creates, &syncOp{rec: r, idx: i, after: m, kind: EventMemberAdded})
			continue
		}
		// Apply to a shallow copy: most records of a re-run change nothing,
		// and those are not worth a deep copy of their member.
		prof := cur.Profile
		r.applyTo(&prof, managerID)
		changed := changedFields(&cur.Profile, &prof)
		m := cur
		if len(changed) > 0 {
			m = cur.Clone()
			m.Profile = prof.Clone()
			// Validate and canonicalise (custom values), then compare again:
			// "10" and " 10 " are the same integer.
			if err := derive(pl.op, t, m); err != nil {
				pl.failInvalid(r, &m.Profile, err)
				continue
			}
			changed = changedFields(&cur.Profile, &m.Profile)
		}
		var fields []string
		if m.Email != cur.Email {
			if other := pl.byEmail[m.EmailKey]; other != nil && other.ID != cur.ID {
				pl.fail(r, ReasonEmailTaken, "email", fmt.Sprintf("email %s belongs to another member", m.Email))
				continue
			}
			fields = append(fields, "email")
		}
		if m.UserNameKey != cur.UserNameKey {
			if other := pl.byUserName[m.UserNameKey]; other != nil && other.ID != cur.ID {
				pl.failUserName(r, m, other)
				continue
			}
		}
		for _, f := range changed {
			fields = append(fields, string(f))
		}
		role := r.carries(FieldRole) && r.Role != "" && r.Role != cur.Role
		if role {
			fields = append(fields, "role")
		}
		kind := EventMemberUpdated
		switch {
		case inactive && cur.Status != StatusDeactivated:
			kind = EventMemberDeactivated
		case r.carries(FieldStatus) && !inactive && cur.Status == StatusDeactivated:
			kind = EventMemberReactivated
		}
		if len(fields) == 0 && kind == EventMemberUpdated {
			pl.rep.Unchanged++
			continue
		}
		if m == cur {
			m = cur.Clone()
		}
		if role {
			m.Role = r.Role
		}
		switch kind {
		case EventMemberDeactivated:
			m.Status = StatusDeactivated
			m.SessionEpoch++
		case EventMemberReactivated:
			m.Status = StatusActive
		}
		action := ActionUpdateProfile
		switch {
		case kind == EventMemberDeactivated:
			action = ActionDeactivate
		case kind == EventMemberReactivated:
			action = ActionReactivate
		case slices.Contains(fields, "role"):
			action = ActionChangeRole
		}
		if d := pl.p.Check(action, cur); !d.Allowed {
			if d.Reason == ReasonTargetIsOwner {
				pl.skip(r.Line, cur, d)
			} else {
				pl.failErr(r, d.Err(pl.op))
			}
			continue
		}
		m.UpdatedAt = now
		pl.updates = append(pl.updates, &syncOp{rec: r, idx: i, before: cur, after: m, fields: fields, changed: changed, kind: kind})
	}
	progress("plan", len(records), len(records))

	if opts.Deprovision == DeprovisionNone {
		return
	}
	ids := make([]string, 0, len(pl.byID))
	for id := range pl.byID {
		if !matched[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		cur := pl.byID[id]
		action := ActionRemove
		if opts.Deprovision == DeprovisionDeactivate {
			action = ActionDeactivate
			if cur.Status == StatusDeactivated {
				pl.rep.Unchanged++
				continue
			}
		}
		if d := pl.p.Check(action, cur); !d.Allowed {
			pl.skip(0, cur, d)
			continue
		}
		if action == ActionRemove {
			pl.deletes = append(pl.deletes, &syncOp{before: cur, kind: EventMemberRemoved})
			continue
		}
		m := cur.Clone()
		m.Status = StatusDeactivated
		m.SessionEpoch++
		m.UpdatedAt = now
		pl.updates = append(pl.updates, &syncOp{before: cur, after: m, kind: EventMemberDeactivated})
	}
}

// failField reports err as the failure of the record's field.
func (pl *syncPlan) failField(r *SyncRecord, field string, err error) {
	if se, ok := err.(*Error); ok && se.Field == "" {
		c := *se
		c.Field = field
		err = &c
	}
	pl.failErr(r, err)
}

func (pl *syncPlan) failUserName(r *SyncRecord, m, other *Member) {
	pl.fail(r, ReasonUserNameTaken, string(FieldUserName), fmt.Sprintf("%s %s belongs to the member %s", FieldUserName, m.UserName, other.Email))
}

func (pl *syncPlan) skip(line int, m *Member, d Decision) {
	msg := d.Message
	if d.Reason == ReasonTargetIsOwner {
		msg = "the owner is never changed or deprovisioned by a sync; transfer ownership first"
	}
	pl.rep.Skipped = append(pl.rep.Skipped, SyncFailure{Line: line, Key: m.Email, Reason: d.Reason, Message: msg})
}

func (pl *syncPlan) resolveManager(ref string) string {
	if id, ok := pl.recID["x:"+ref]; ok {
		return id
	}
	if id, ok := pl.recID["e:"+NormalizeEmail(ref)]; ok {
		return id
	}
	if m := pl.byExt[ref]; m != nil {
		return m.ID
	}
	if m := pl.byEmail[NormalizeEmail(ref)]; m != nil {
		return m.ID
	}
	return ""
}

// simulateSeats fills a dry run's report as apply would, predicting the
// seat limit from the tenant's counter.
func (pl *syncPlan) simulateSeats() {
	free := pl.t.SeatsFree()
	s := &pl.t.Settings
	for _, u := range pl.updates {
		free -= seatDelta(pl.t, u.before.Status, u.after.Status)
	}
	for _, d := range pl.deletes {
		if s.HoldsSeat(d.before.Status) {
			free++
		}
	}
	for _, u := range pl.updates {
		pl.report(u)
	}
	for _, d := range pl.deletes {
		pl.report(d)
	}
	for _, cr := range pl.creates {
		if s.HoldsSeat(cr.after.Status) {
			if free <= 0 {
				pl.failErr(cr.rec, seatLimitErr(pl.op))
				continue
			}
			free--
		}
		pl.report(cr)
	}
}

func seatLimitErr(op string) error {
	return &Error{Op: op, Code: CodeResourceExhausted, Reason: ReasonSeatLimit, Message: reasonMessage(ReasonSeatLimit)}
}

func (pl *syncPlan) report(o *syncOp) {
	ch := SyncChange{MemberID: o.memberID(), Email: o.email(), Fields: o.fields}
	if o.rec != nil {
		ch.Line = o.rec.Line
	}
	r := pl.rep
	switch o.kind {
	case EventMemberAdded:
		r.Created = append(r.Created, ch)
	case EventMemberDeactivated:
		r.Deactivated = append(r.Deactivated, ch)
	case EventMemberReactivated:
		r.Reactivated = append(r.Reactivated, ch)
	case EventMemberRemoved:
		r.Deleted = append(r.Deleted, ch)
	default:
		r.Updated = append(r.Updated, ch)
	}
}

func (o *syncOp) memberID() string {
	if o.after != nil {
		return o.after.ID
	}
	return o.before.ID
}

func (o *syncOp) email() string {
	if o.after != nil {
		return o.after.Email
	}
	return o.before.Email
}

// apply writes the plan: changes that free seats first (deactivations and
// removals), then updates that take seats, then creates, each in batches.
func (pl *syncPlan) apply(ctx context.Context, actor Actor, opts SyncOptions, progress func(string, int, int)) error {
	bs := pl.c.bulkStore()
	t := pl.t
	total := len(pl.updates) + len(pl.deletes) + len(pl.creates)
	done := 0
	var audit []*AuditEvent
	var events []Event
	succeeded := func(o *syncOp) {
		pl.report(o)
		pl.rep.Writes++
		if o.kind == EventMemberRemoved {
			pl.c.dropMemberEdges(ctx, t.ID, o.before)
		}
		ev := Event{Type: o.kind, TenantID: t.ID, Actor: actor, MemberID: o.memberID(), Before: o.before, After: o.after, Changed: o.changed}
		a := pl.c.auditEvent(ev)
		ev.Time = a.Time
		events = append(events, ev)
		audit = append(audit, a)
	}
	failed := func(o *syncOp, err error) {
		if o.rec != nil {
			pl.failErr(o.rec, err)
			return
		}
		pl.rep.Failed = append(pl.rep.Failed, SyncFailure{Key: o.email(), Reason: ReasonOf(err), Message: err.Error()})
	}
	flushAudit := func() error {
		if len(audit) == 0 {
			return nil
		}
		if err := bs.AppendAudits(context.WithoutCancel(ctx), audit); err != nil {
			pl.c.log.Error("roster: sync audit append failed", "tenant", t.ID, "events", len(audit), "err", err)
		}
		for _, ev := range events {
			for _, o := range pl.c.observers {
				go pl.c.notify(context.WithoutCancel(ctx), o, ev)
			}
		}
		audit, events = audit[:0], events[:0]
		return ctx.Err()
	}

	// writeBatch sends one batch to the store, reports each item, and
	// flushes the batch's audit events.
	writeBatch := func(ops []*syncOp, size int, write func([]*syncOp) []error) error {
		if len(ops) > 0 {
			for i, err := range write(ops) {
				if err != nil {
					failed(ops[i], withOp(pl.op, err))
				} else {
					succeeded(ops[i])
				}
			}
		}
		done += size
		progress("write", done, total)
		return flushAudit()
	}

	// Updates that give seats back go first, those that take seats last.
	slices.SortStableFunc(pl.updates, func(a, b *syncOp) int {
		return seatDelta(t, a.before.Status, a.after.Status) - seatDelta(t, b.before.Status, b.after.Status)
	})
	for batch := range slices.Chunk(pl.deletes, opts.BatchSize) {
		for _, d := range batch {
			if pl.c.reassigner != nil {
				if _, err := pl.c.reassigner.Reassign(ctx, t.ID, d.before.ID, t.OwnerID); err != nil {
					failed(d, &Error{Op: pl.op, Code: CodeFailedPrecondition, Reason: ReasonReassignFailed, Message: "reassigning the member's items failed", Err: err})
					d.before = nil
				}
			}
		}
		var ops []*syncOp
		for _, d := range batch {
			if d.before != nil {
				ops = append(ops, d)
			}
		}
		if err := writeBatch(ops, len(batch), func(ops []*syncOp) []error {
			ds := make([]MemberDelete, len(ops))
			for i, d := range ops {
				ds[i] = MemberDelete{ID: d.before.ID, Expected: d.before.Version, ReleaseSeat: t.Settings.HoldsSeat(d.before.Status)}
			}
			return bs.DeleteMembers(ctx, t.ID, ds)
		}); err != nil {
			return err
		}
	}
	for batch := range slices.Chunk(pl.updates, opts.BatchSize) {
		if err := writeBatch(batch, len(batch), func(ops []*syncOp) []error {
			us := make([]MemberUpdate, len(ops))
			for i, u := range ops {
				us[i] = MemberUpdate{Member: u.after, Expected: u.before.Version, SeatDelta: seatDelta(t, u.before.Status, u.after.Status)}
			}
			return bs.UpdateMembers(ctx, t.ID, us)
		}); err != nil {
			return err
		}
	}
	for batch := range slices.Chunk(pl.creates, opts.BatchSize) {
		if err := writeBatch(batch, len(batch), func(ops []*syncOp) []error {
			ms := make([]*Member, len(ops))
			holds := make([]bool, len(ops))
			for i, cr := range ops {
				ms[i], holds[i] = cr.after, t.Settings.HoldsSeat(cr.after.Status)
			}
			return bs.CreateMembers(ctx, t.ID, ms, holds)
		}); err != nil {
			return err
		}
	}
	return nil
}
