package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// The kinds of records a copy counts: the keys of every counts map, in
// the order [Collections] lists them.
const (
	Tenants     = "tenants"
	Members     = "members"
	Groups      = "groups"
	Edges       = "edges"       // group memberships: one per (group, member)
	Invitations = "invitations" // in every state
	Credentials = "credentials" // members with a password hash or TOTP state
	Tokens      = "tokens"
	Audit       = "audit"
)

// Collections lists the kinds of records in the order a copy handles them.
var Collections = []string{Tenants, Members, Credentials, Groups, Edges, Invitations, Tokens, Audit}

// Target is a store that can receive a copy. Every Import method is an
// upsert by id: it stores the records exactly as given (ids, versions,
// timestamps, seat counters, owner), replacing a stored record with the
// same id, so that importing the same records again changes nothing, and
// the store then behaves as if they had been written through it. Imports
// MUST NOT apply the SDK's rules (seat limits, ownership, policy): the
// source applied them. They MUST keep the store's own uniqueness rules,
// refusing a record that breaks one with the [*sdk.Error] the store
// contract gives for it, and pass context errors through.
type Target interface {
	// ImportTenant stores the tenant as given, its seat counter included.
	// A slug another tenant holds is CodeAlreadyExists with
	// ReasonSlugTaken.
	ImportTenant(ctx context.Context, t *sdk.Tenant) error
	// ImportMembers stores the members, ignoring Member.Groups. Each one
	// replaces the stored member with its id whole: its group memberships
	// and credentials go with it, so a copy imports them after
	// (ImportCredentials, ImportEdges). globalEmail says that the
	// members' tenant requires addresses unique across tenants
	// ([sdk.MemberWrite.GlobalEmail]), so that the target keeps for them
	// what it keeps for members written with GlobalEmail. An email,
	// userName or external id another member of the tenant holds is
	// CodeAlreadyExists with ReasonEmailTaken, ReasonUserNameTaken or
	// ReasonExternalIDTaken, naming the member; the other members are
	// stored.
	ImportMembers(ctx context.Context, ms []*sdk.Member, globalEmail bool) error
	// ImportCredentials stores a member's credentials: its password hash
	// and its TOTP state, so that GetCredentials returns them.
	ImportCredentials(ctx context.Context, c *sdk.Credentials) error
	// ImportGroup stores the group as given. A display name or external
	// id another group of the tenant holds is CodeAlreadyExists with
	// ReasonGroupNameTaken or ReasonExternalIDTaken.
	ImportGroup(ctx context.Context, g *sdk.Group) error
	// ImportEdges adds the membership edges of the tenant's groups and
	// members; edges stored already stay as they are. A group that does not
	// exist is CodeNotFound, a member that does not CodeInvalidArgument
	// with ReasonUnknownMember.
	ImportEdges(ctx context.Context, tenantID string, es []sdk.GroupEdge) error
	// ImportInvitation stores the invitation as given.
	ImportInvitation(ctx context.Context, inv *sdk.Invitation) error
	// ImportToken stores the SCIM token as given. A hash another token of
	// the tenant has is CodeAlreadyExists with ReasonTokenExists.
	ImportToken(ctx context.Context, t *sdk.Token) error
	// ImportAudits stores the audit events.
	ImportAudits(ctx context.Context, es []*sdk.AuditEvent) error
	// Counts returns the number of records of each kind in [Collections]
	// among the given tenants, every kind present (0 when there are
	// none): edges as ListGroupMembers lists them, credentials as the
	// members GetCredentials finds credentials of.
	Counts(ctx context.Context, tenantIDs []string) (map[string]int64, error)
}

// Emptier is implemented by targets that can tell whether they hold any
// Roster data at all; [Copy] refuses a target that does (see
// [Options.AllowNonEmpty]).
type Emptier interface {
	// Empty reports whether the target holds no Roster data: no tenant and
	// no record of any other kind. A target's own bookkeeping (such as a
	// Resumer's records) does not count.
	Empty(ctx context.Context) (bool, error)
}

// Resumer is implemented by targets that record the progress of a copy,
// so that a copy interrupted is resumed rather than started over. A copy
// is named by the id of its source ([Options.SourceID]); a target keeps
// one record per source.
type Resumer interface {
	// MigrationState returns the record of the copy from sourceID, or nil
	// when there is none.
	MigrationState(ctx context.Context, sourceID string) (*State, error)
	// StartMigration records that a copy from sourceID, described for
	// people by source, started at at. It replaces any earlier record of
	// sourceID, the tenants it completed included.
	StartMigration(ctx context.Context, sourceID, source string, at time.Time) error
	// MarkTenantDone records that the copy from sourceID completed the
	// tenant at at, having copied counts records of each kind. Marking a
	// tenant again replaces its mark.
	MarkTenantDone(ctx context.Context, sourceID, tenantID string, counts map[string]int64, at time.Time) error
	// MarkFinished records that the copy from sourceID finished at at,
	// every count matching.
	MarkFinished(ctx context.Context, sourceID string, at time.Time) error
}

// State is what a [Resumer] recorded of a copy.
type State struct {
	SourceID string
	// Source describes the source for people (a path, a URI without its
	// credentials).
	Source  string
	Started time.Time
	// Finished is when the copy finished; zero while it has not.
	Finished time.Time
	// Done maps each tenant the copy completed to the number of records
	// of each kind it copied.
	Done map[string]map[string]int64
}

// Options configure [Copy]. The zero value copies into an empty target
// without recording progress.
type Options struct {
	// SourceID names the source across runs, such as the absolute path of
	// a data directory. With a target that implements [Resumer], a
	// non-empty SourceID makes the copy record its progress under it and
	// resume an unfinished copy of the same source.
	SourceID string
	// Source describes the source for people, as recorded by a Resumer;
	// default SourceID.
	Source string
	// AllowNonEmpty lets the copy write into a target that holds Roster
	// data already: records with the ids of the source's replace theirs,
	// the others stay (and, within the tenants copied, make the counts
	// differ).
	AllowNonEmpty bool
	// Restart copies every tenant again although the target records an
	// unfinished copy from SourceID. The target then counts as not empty
	// (see AllowNonEmpty) when the earlier run wrote anything.
	Restart bool
	// GlobalEmail says that the deployment requires every address to be
	// unique across tenants ([sdk.WithGlobalEmailUniqueness]), whatever
	// the tenants' own setting ([sdk.Settings].UniqueEmailAcrossTenants).
	GlobalEmail bool
	// BatchSize is the number of records read per page of the source and
	// written per import of members and audit events; default 500.
	BatchSize int
	// Progress, when set, is called as the copy goes: after each batch
	// written, and when a tenant is done or skipped. It runs on the
	// copying goroutine; the copy waits for it.
	Progress func(Progress)
	// Now returns the times a Resumer records; default time.Now.
	Now func() time.Time
}

// DefaultBatchSize is the batch size of [Options] left zero.
const DefaultBatchSize = 500

// Progress reports how far a copy has come.
type Progress struct {
	TenantID string `json:"tenantId"`
	Slug     string `json:"slug"`
	// Tenant is the position of the tenant among the source's (from 1);
	// Tenants their number.
	Tenant  int `json:"tenant"`
	Tenants int `json:"tenants"`
	// Collection is the kind of records being copied (see [Collections]),
	// and Copied how many of them this tenant has had copied so far; ""
	// and 0 when the report is about the whole tenant.
	Collection string `json:"collection,omitempty"`
	Copied     int64  `json:"copied,omitempty"`
	// Done: the tenant is copied and its counts match. Skipped: an earlier
	// run completed it, and it is not copied again.
	Done    bool `json:"done,omitempty"`
	Skipped bool `json:"skipped,omitempty"`
}

// String describes p in one line, such as "tenant 3/12 acme: members 1500".
func (p Progress) String() string {
	s := fmt.Sprintf("tenant %d/%d %s", p.Tenant, p.Tenants, p.Slug)
	switch {
	case p.Skipped:
		return s + ": skipped (copied by an earlier run)"
	case p.Done:
		return s + ": done"
	}
	return fmt.Sprintf("%s: %s %d", s, p.Collection, p.Copied)
}

// Report is the outcome of a copy.
type Report struct {
	SourceID string `json:"sourceId,omitempty"`
	// Tenants is the number of tenants in the source; Copied of them were
	// copied by this run, Skipped had been by an earlier one.
	Tenants int `json:"tenants"`
	Copied  int `json:"copied"`
	Skipped int `json:"skipped"`
	// Resumed says that the run resumed an unfinished copy.
	Resumed bool `json:"resumed"`
	// Source and Target are the number of records of each kind (see
	// [Collections]) in the source and in the target, among the source's
	// tenants. The source's counts of tenants an earlier run completed are
	// those it recorded.
	Source map[string]int64 `json:"source"`
	Target map[string]int64 `json:"target"`
}

// ErrTargetNotEmpty is matched (with errors.Is) by the error of a copy
// refused because the target holds data; see [NotEmptyError].
var ErrTargetNotEmpty = errors.New("the target already holds Roster data")

// NotEmptyError is the error of a copy refused because the target holds
// Roster data and [Options.AllowNonEmpty] is not set.
type NotEmptyError struct {
	// Finished is when a copy from the same source finished, when the
	// target records one; zero otherwise.
	Finished time.Time
	// Source is that copy's description of its source.
	Source string
}

func (e *NotEmptyError) Error() string {
	var b strings.Builder
	b.WriteString("migrate: the target already holds Roster data")
	if !e.Finished.IsZero() {
		fmt.Fprintf(&b, " (a copy from %s finished at %s)", e.Source, e.Finished.UTC().Format(time.RFC3339))
	}
	b.WriteString("; copy into an empty database, or pass --allow-non-empty to copy into this one anyway" +
		" (records with the same ids are replaced, the others stay)")
	return b.String()
}

// Is makes a NotEmptyError match [ErrTargetNotEmpty].
func (e *NotEmptyError) Is(target error) bool { return target == ErrTargetNotEmpty }

// Diff is one kind of record whose counts differ.
type Diff struct {
	Collection     string
	Source, Target int64
}

// MismatchError says that the target's counts differ from the source's
// after a copy.
type MismatchError struct {
	// TenantID is the tenant whose counts differ; "" for the totals over
	// every tenant.
	TenantID string
	Diffs    []Diff
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	b.WriteString("migrate: counts differ after the copy")
	if e.TenantID != "" {
		b.WriteString(" of tenant " + e.TenantID)
	}
	for i, d := range e.Diffs {
		sep := ": "
		if i > 0 {
			sep = "; "
		}
		fmt.Fprintf(&b, "%s%s: %d in the source, %d in the target", sep, d.Collection, d.Source, d.Target)
	}
	return b.String()
}

// compare returns a *MismatchError listing the kinds whose counts differ
// between src and dst, or nil.
func compare(tenantID string, src, dst map[string]int64) error {
	var diffs []Diff
	for _, c := range Collections {
		if src[c] != dst[c] {
			diffs = append(diffs, Diff{Collection: c, Source: src[c], Target: dst[c]})
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return &MismatchError{TenantID: tenantID, Diffs: diffs}
}
