package sdk

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

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
	// A cancelled context stops a sync between batches.
	BatchSize int

	// MaxDeprovision is the most members a sync may deprovision (remove,
	// or deactivate for being absent from the input). When it and
	// MaxDeprovisionPercent are both zero the limit is the larger of 50
	// and 10% of the tenant's members before the sync (rounded up); a
	// negative value allows none. A sync over the limit is refused with
	// ReasonDeprovisionLimit before anything is written: a truncated
	// export must not empty a company.
	MaxDeprovision int
	// MaxDeprovisionPercent, when above zero, sets the limit instead as a
	// percentage (at most 100) of the tenant's members before the sync,
	// rounded up. Setting both limits is an invalid argument.
	MaxDeprovisionPercent float64
	// Force lifts the deprovisioning limit. It never lifts the refusal of
	// an empty input (ReasonEmptyInput).
	Force bool
}

// deprovisionLimit returns the most members a sync of a tenant of n
// members may deprovision.
func (o *SyncOptions) deprovisionLimit(n int) int {
	switch {
	case o.MaxDeprovisionPercent > 0:
		return int(math.Ceil(o.MaxDeprovisionPercent * float64(n) / 100))
	case o.MaxDeprovision < 0:
		return 0
	case o.MaxDeprovision > 0:
		return o.MaxDeprovision
	}
	return max(int(math.Ceil(float64(n)/10)), 50)
}

// SyncChange is one member a sync created or changed.
type SyncChange struct {
	Line     int      `json:"line,omitempty"`
	MemberID string   `json:"memberId"`
	Email    string   `json:"email"`
	Fields   []string `json:"fields,omitempty"` // for updates: the fields that changed
}

// SyncFailure is one record a sync could not apply (in
// [SyncReport.Failed]), one member it left alone on purpose (Skipped), or
// one record it applied short of what the record asked (Notes).
type SyncFailure struct {
	Line    int    `json:"line,omitempty"`
	Key     string `json:"key"` // email or external id
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
	// Field names the record's field at fault, when one is: a profile
	// field ("employeeNumber", "custom.level"), an item by its type
	// ([SyncItemField], with the sub-attribute: `phoneNumbers[type eq
	// "mobile"].value`), or email, manager, managerName, role or status.
	// Message starts with it.
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
	// Notes lists records that applied without part of what they asked,
	// each with its line, key, field and a Reason saying why:
	// ReasonManagerNameUnknown or ReasonManagerNameAmbiguous, for a
	// [SyncRecord.ManagerName] that names nobody or several people (the
	// member's manager was left as it was; a new member has none). A noted
	// record is also counted where it belongs (created, updated,
	// unchanged).
	Notes []SyncFailure `json:"-"`
	// Writes counts the store writes the sync made (0 for a dry run and
	// for an unchanged input).
	Writes int `json:"-"`
	// Interrupted says the context was cancelled while the sync wrote: it
	// stopped after the batch in flight, and NotProcessed planned changes
	// (creates, updates, deactivations, removals) were not attempted or
	// were cancelled. Re-running the same input finishes the job.
	Interrupted  bool `json:"interrupted"`
	NotProcessed int  `json:"notProcessed"`
}

// SyncSummary is the JSON form of a report: the counts under stable keys,
// then the failures and the details.
type SyncSummary struct {
	DryRun      bool `json:"dryRun"`
	Created     int  `json:"created"`
	Updated     int  `json:"updated"`
	Deactivated int  `json:"deactivated"`
	Reactivated int  `json:"reactivated"`
	Deleted     int  `json:"deleted"`
	Unchanged   int  `json:"unchanged"`
	Failed      int  `json:"failed"`
	Skipped     int  `json:"skipped"`
	// Interrupted and NotProcessed are the report's (see [SyncReport]).
	Interrupted  bool          `json:"interrupted"`
	NotProcessed int           `json:"notProcessed"`
	Failures     []SyncFailure `json:"failures"`
	Skips        []SyncFailure `json:"skips"`
	// Notes are the report's (see [SyncReport.Notes]).
	Notes   []SyncFailure `json:"notes"`
	Changes struct {
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
		Skipped: len(r.Skipped), Interrupted: r.Interrupted, NotProcessed: r.NotProcessed,
		Failures: nzf(r.Failed), Skips: nzf(r.Skipped), Notes: nzf(r.Notes),
	}
	s.Changes.Created, s.Changes.Updated, s.Changes.Deactivated = nz(r.Created), nz(r.Updated), nz(r.Deactivated)
	s.Changes.Reactivated, s.Changes.Deleted = nz(r.Reactivated), nz(r.Deleted)
	return s
}

// Reasons specific to syncs.
const (
	// ReasonUnknownManager: a manager reference names no member (and, in a
	// sync, no record of the input); the record fails.
	ReasonUnknownManager Reason = "unknown_manager"
	// ReasonManagerCycle: managers would form a cycle; a sync refuses its
	// whole input.
	ReasonManagerCycle Reason = "manager_cycle"

	// ReasonManagerNameUnknown (a [SyncReport.Notes] entry): a record's
	// ManagerName is the name of nobody in the input or the tenant.
	// ReasonManagerNameAmbiguous (also a note): it is the name of several
	// people; the note says how many and who. Either way the record
	// applies without a new manager.
	ReasonManagerNameUnknown   Reason = "manager_name_unknown"
	ReasonManagerNameAmbiguous Reason = "manager_name_ambiguous"
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
// Managers are found among the records and the members, by reference
// ([SyncRecord.Manager]: external id, then employee number, then email)
// or by name ([SyncRecord.ManagerName]). A name that is nobody's or
// several people's does not fail its record: the record applies, the
// member's manager is left as it was (a new member gets none), and
// [SyncReport.Notes] says why. Resolution is deterministic, so a re-run of
// an unchanged input resolves every manager as before and writes nothing.
//
// Input that cannot be trusted as a whole — two records with one email,
// external id or userName, managers that form a cycle — is refused before
// anything is written. A record that is merely invalid (a bad email, a
// value too long or not of its custom attribute's type, an unknown role or
// manager, an email or userName of another member, a value its reader
// marked [SyncRecord.Invalid]) fails alone and is reported with its line
// and field; its person is still in the input, so a member it matches
// (by external id or email) is not deprovisioned for being absent. When
// the seat limit is reached the remaining creates fail with
// ReasonSeatLimit and everything else applies.
//
// Deprovisioning is guarded, since a truncated or empty export looks like
// a company whose staff all left. An input with no records refuses any
// deprovisioning (ReasonEmptyInput), even with opts.Force. A sync that
// would deprovision more members than opts allow (see
// [SyncOptions.MaxDeprovision]) is refused with ReasonDeprovisionLimit
// unless opts.Force is set. Both are [*Error]s with CodeFailedPrecondition
// and nothing is written; a dry run returns its report with the error, so
// that the caller can show the plan and the refusal together.
//
// A sync is idempotent: re-running an unchanged input writes nothing, and a
// run interrupted half-way, when re-run, converges to the state of one
// clean run. Reads and writes go to the store in batches, so 100k records
// cost a few hundred round trips, not 100k. When ctx is cancelled while
// the sync writes, it stops after the batch in flight and returns its
// report, with Interrupted set and the changes it did not make counted in
// NotProcessed, and an error wrapping ctx's error; writes the cancellation
// cut short are counted as not processed, not as failed.
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
	switch {
	case opts.MaxDeprovisionPercent < 0 || opts.MaxDeprovisionPercent > 100 || math.IsNaN(opts.MaxDeprovisionPercent):
		return nil, invalid(op, "MaxDeprovisionPercent", fmt.Sprintf("%v is not a percentage from 0 to 100", opts.MaxDeprovisionPercent))
	case opts.MaxDeprovisionPercent > 0 && opts.MaxDeprovision != 0:
		return nil, invalid(op, "MaxDeprovision", "set MaxDeprovision or MaxDeprovisionPercent, not both")
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
	if err := pl.plan(records, opts, progress); err != nil {
		return nil, err
	}
	guard := pl.guard(records, opts, len(existing))
	if opts.DryRun {
		pl.simulateSeats()
		return pl.rep, guard
	}
	if guard != nil {
		return nil, guard
	}
	if err := pl.apply(ctx, actor, opts, progress); err != nil {
		return pl.rep, err
	}
	return pl.rep, nil
}

// guard refuses a plan that deprovisions on an empty input, or more
// members than opts allow of the n the tenant had.
func (pl *syncPlan) guard(records []SyncRecord, opts SyncOptions, n int) error {
	if opts.Deprovision == DeprovisionNone {
		return nil
	}
	if len(records) == 0 {
		return &Error{Op: pl.op, Code: CodeFailedPrecondition, Reason: ReasonEmptyInput,
			Message: fmt.Sprintf("the input has no records, and deprovisioning %s would empty the tenant; nothing was written (an empty input never deprovisions, even when forced)", opts.Deprovision)}
	}
	count := len(pl.deletes)
	for _, u := range pl.updates {
		if u.rec == nil {
			count++
		}
	}
	limit := opts.deprovisionLimit(n)
	if opts.Force || count <= limit {
		return nil
	}
	return &Error{Op: pl.op, Code: CodeFailedPrecondition, Reason: ReasonDeprovisionLimit,
		Message: fmt.Sprintf("the sync would deprovision (%s) %d of the tenant's %d members, more than the limit of %d; nothing was written. Check that the input is complete, then raise the limit or force the sync", opts.Deprovision, count, n, limit)}
}

// checkSyncInput refuses inputs that cannot be applied record by record:
// repeated emails, external ids or userNames. (Manager cycles are found
// once managers are resolved: see resolveManagers.)
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
	return nil
}

type syncPlan struct {
	c   *Client
	t   *Tenant
	p   *Policy
	op  string
	rep *SyncReport

	byID, byExt, byEmail, byUserName map[string]*Member

	// For manager resolution (see syncmanager.go).
	records    []SyncRecord
	recID      map[string]string // planned record's "x:"+external id / "e:"+email key → member id
	recOf      map[string]int    // member id → index of the planned record that applies to it
	failedLine map[string]int    // failed record's "x:"/"e:" key → its line
	byEmployee *personIndex      // built on first use
	byName     *personIndex      // built on first use
	mgrID      []string          // record index → resolved manager id
	mgrIssue   map[int]managerIssue

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

// syncKey is the key that names the record in reports.
func (r *SyncRecord) syncKey() string {
	if r.Email == "" {
		return r.ExternalID
	}
	return r.Email
}

func (pl *syncPlan) fail(r *SyncRecord, reason Reason, field, msg string) {
	pl.rep.Failed = append(pl.rep.Failed, SyncFailure{Line: r.Line, Key: r.syncKey(), Reason: reason, Message: msg, Field: field})
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

// plan decides what the sync writes, filling the report with what fails;
// it returns an error only for an input refused as a whole (a manager
// cycle).
func (pl *syncPlan) plan(records []SyncRecord, opts SyncOptions, progress func(string, int, int)) error {
	t := pl.t
	now := pl.c.Now()
	// matched holds the members the input names, failed rows included:
	// they are not absent, whatever else is wrong with their row.
	matched := make(map[string]bool, len(records))
	// First pass: match records to members and give new members their id,
	// so managers resolve in one pass whatever the file's order.
	type slot struct {
		m   *Member
		err error
	}
	slots := make([]slot, len(records))
	planned := make([]bool, len(records))
	pl.records = records
	pl.recID = make(map[string]string, 2*len(records))
	pl.recOf = make(map[string]int, len(records))
	for i := range records {
		r := &records[i]
		r.Email = strings.TrimSpace(r.Email)
		var err error
		if r.Invalid != nil {
			err = r.invalidErr(pl.op)
		} else {
			err = pl.checkRecord(r)
		}
		var m *Member
		if r.ExternalID != "" {
			m = pl.byExt[r.ExternalID]
		}
		if m == nil {
			m = pl.byEmail[NormalizeEmail(r.Email)]
			if m != nil && r.ExternalID != "" && m.ExternalID != "" && m.ExternalID != r.ExternalID {
				if err == nil {
					err = &Error{Op: pl.op, Code: CodeAlreadyExists, Reason: ReasonEmailTaken, Field: "email",
						Message: fmt.Sprintf("%s belongs to the member with external id %s", r.Email, m.ExternalID)}
				}
				m = nil // another person's address
			}
		}
		if m != nil {
			matched[m.ID] = true
		}
		if err != nil {
			slots[i].err = err
			pl.failedRecord(r)
			continue
		}
		id := ""
		if m != nil {
			id = m.ID
		} else {
			id = pl.c.newID()
		}
		slots[i].m = m
		planned[i] = true
		if r.ExternalID != "" {
			pl.recID["x:"+r.ExternalID] = id
		}
		pl.recID["e:"+NormalizeEmail(r.Email)] = id
		pl.recOf[id] = i
		if m == nil {
			slots[i].m = &Member{ID: id} // placeholder marks "new"
		}
	}
	if err := pl.resolveManagers(planned); err != nil {
		return err
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
		managerID := pl.mgrID[i]
		if is, ok := pl.mgrIssue[i]; ok {
			if is.fail {
				pl.fail(r, ReasonUnknownManager, "manager", is.note.Message)
				continue
			}
			if cur != nil {
				managerID = cur.ManagerID // a name that did not resolve changes nothing
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
			pl.noteManager(i, nil)
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
			pl.noteManager(i, cur)
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
		pl.noteManager(i, cur)
	}
	progress("plan", len(records), len(records))

	if opts.Deprovision == DeprovisionNone {
		return nil
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
	return nil
}

// failedRecord remembers the keys of a record that fails before planning,
// so that a manager reference to it that names nobody says why.
func (pl *syncPlan) failedRecord(r *SyncRecord) {
	if r.Line <= 0 {
		return
	}
	if pl.failedLine == nil {
		pl.failedLine = map[string]int{}
	}
	if r.ExternalID != "" {
		pl.failedLine["x:"+r.ExternalID] = r.Line
	}
	if k := NormalizeEmail(r.Email); k != "" {
		pl.failedLine["e:"+k] = r.Line
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

// simulateSeats fills a dry run's report as apply would, predicting the
// seat limit from the tenant's counter.
func (pl *syncPlan) simulateSeats() {
	free := pl.t.SeatsFree()
	s := &pl.t.Settings
	for _, u := range pl.updates {
		free -= int(seatChange(pl.t, u.before.Status, u.after.Status))
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
	cancelled := 0 // writes of the batch in flight the cancellation cut short
	failed := func(o *syncOp, err error) {
		if isContextErr(err) {
			cancelled++
			return
		}
		if o.rec != nil {
			pl.failErr(o.rec, err)
			return
		}
		pl.rep.Failed = append(pl.rep.Failed, SyncFailure{Key: o.email(), Reason: ReasonOf(err), Message: err.Error()})
	}
	flushAudit := func() {
		if len(audit) == 0 {
			return
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
	}
	// stop reports the changes not made when ctx is cancelled or a write
	// was cut short by it, and returns the error to end the sync with.
	stop := func() error {
		err := ctx.Err()
		if err == nil && cancelled == 0 {
			return nil
		}
		if err == nil {
			err = context.Canceled // a store saw a cancellation ctx does not show
		}
		pl.rep.Interrupted = true
		pl.rep.NotProcessed = total - done + cancelled
		return fmt.Errorf("%s: interrupted with %d of %d change(s) not processed: %w", pl.op, pl.rep.NotProcessed, total, err)
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
		flushAudit()
		return stop()
	}

	// Updates that give seats back go first, those that take seats last.
	slices.SortStableFunc(pl.updates, func(a, b *syncOp) int {
		return int(seatChange(t, a.before.Status, a.after.Status)) - int(seatChange(t, b.before.Status, b.after.Status))
	})
	for batch := range slices.Chunk(pl.deletes, opts.BatchSize) {
		if err := stop(); err != nil {
			return err
		}
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
			errs := make([]error, len(ops))
			for i, d := range ops {
				errs[i] = pl.c.store.DeleteMember(ctx, memberDelete(t, d.before))
			}
			return errs
		}); err != nil {
			return err
		}
	}
	for batch := range slices.Chunk(pl.updates, opts.BatchSize) {
		if err := stop(); err != nil {
			return err
		}
		if err := writeBatch(batch, len(batch), func(ops []*syncOp) []error {
			errs := make([]error, len(ops))
			for i, u := range ops {
				errs[i] = pl.c.updateStored(ctx, t, MemberWrite{Member: u.after, ExpectedVersion: u.before.Version, Seat: seatChange(t, u.before.Status, u.after.Status)})
			}
			return errs
		}); err != nil {
			return err
		}
	}
	for batch := range slices.Chunk(pl.creates, opts.BatchSize) {
		if err := stop(); err != nil {
			return err
		}
		if err := writeBatch(batch, len(batch), func(ops []*syncOp) []error {
			ws := make([]MemberWrite, len(ops))
			for i, cr := range ops {
				ws[i] = MemberWrite{Member: cr.after, Seat: seatTaken(t, cr.after.Status), GlobalEmail: pl.c.uniqueEmails(t)}
			}
			return bs.CreateMembers(ctx, ws)
		}); err != nil {
			return err
		}
	}
	return nil
}
