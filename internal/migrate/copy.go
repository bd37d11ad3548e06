package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// Copy copies every tenant of src, and everything of each, into dst, and
// checks that the target's counts equal the source's, tenant by tenant
// and in total. It reads src only through the [sdk.Store] contract
// (ScanMembers when src is an [sdk.MemberScanner]) and never calls src
// from inside a scan.
//
// Copy refuses, with a [*NotEmptyError], a target that holds Roster data,
// unless opt.AllowNonEmpty is set or dst is a [Resumer] recording an
// unfinished copy from opt.SourceID, which Copy then resumes: the tenants
// it completed are not copied again. A copy stopped by an error or a
// cancelled ctx leaves the target partly written; running Copy again
// completes it. When the counts differ Copy returns a [*MismatchError],
// with the report when the difference is in the totals.
func Copy(ctx context.Context, src sdk.Store, dst Target, opt Options) (*Report, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Source == "" {
		opt.Source = opt.SourceID
	}
	tenants, err := listTenants(ctx, src, opt.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ids := make([]string, len(tenants))
	for i, t := range tenants {
		ids[i] = t.ID
	}

	var res Resumer
	var st *State
	if r, ok := dst.(Resumer); ok && opt.SourceID != "" {
		res = r
		if st, err = r.MigrationState(ctx, opt.SourceID); err != nil {
			return nil, fmt.Errorf("migrate: reading the progress of an earlier copy: %w", err)
		}
	}
	resume := st != nil && st.Finished.IsZero() && !opt.Restart
	if !resume && !opt.AllowNonEmpty {
		empty, err := isEmpty(ctx, dst, ids)
		if err != nil {
			return nil, fmt.Errorf("migrate: checking that the target is empty: %w", err)
		}
		if !empty {
			e := &NotEmptyError{}
			if st != nil {
				e.Finished, e.Source = st.Finished, st.Source
			}
			return nil, e
		}
	}
	if res != nil && !resume {
		if err := res.StartMigration(ctx, opt.SourceID, opt.Source, opt.Now()); err != nil {
			return nil, fmt.Errorf("migrate: recording the start of the copy: %w", err)
		}
	}

	rep := &Report{SourceID: opt.SourceID, Tenants: len(tenants), Resumed: resume, Source: zeroCounts()}
	for i, t := range tenants {
		p := Progress{TenantID: t.ID, Slug: t.Slug, Tenant: i + 1, Tenants: len(tenants)}
		if done, ok := st.done(t.ID); ok && resume {
			addCounts(rep.Source, done)
			rep.Skipped++
			p.Skipped = true
			opt.progress(p)
			continue
		}
		c := &copier{src: src, dst: dst, opt: &opt, t: t, p: p, n: zeroCounts()}
		if err := c.copy(ctx); err != nil {
			return nil, fmt.Errorf("migrate: tenant %s (%s): %w", t.Slug, t.ID, err)
		}
		got, err := dst.Counts(ctx, []string{t.ID})
		if err != nil {
			return nil, fmt.Errorf("migrate: counting tenant %s in the target: %w", t.Slug, err)
		}
		if err := compare(t.ID, c.n, got); err != nil {
			return nil, err
		}
		if res != nil {
			if err := res.MarkTenantDone(ctx, opt.SourceID, t.ID, c.n, opt.Now()); err != nil {
				return nil, fmt.Errorf("migrate: recording tenant %s as copied: %w", t.Slug, err)
			}
		}
		addCounts(rep.Source, c.n)
		rep.Copied++
		p.Done = true
		opt.progress(p)
	}

	if rep.Target, err = dst.Counts(ctx, ids); err != nil {
		return nil, fmt.Errorf("migrate: counting the target: %w", err)
	}
	if err := compare("", rep.Source, rep.Target); err != nil {
		return rep, err
	}
	if res != nil {
		if err := res.MarkFinished(ctx, opt.SourceID, opt.Now()); err != nil {
			return nil, fmt.Errorf("migrate: recording the end of the copy: %w", err)
		}
	}
	return rep, nil
}

// listTenants reads every tenant of src, a page at a time.
func listTenants(ctx context.Context, src sdk.Store, batch int) ([]*sdk.Tenant, error) {
	var out []*sdk.Tenant
	err := pages(batch, func(after string) ([]*sdk.Tenant, error) {
		ts, err := src.ListTenants(ctx, sdk.TenantQuery{After: after, Limit: batch})
		return ts, wrapRead(err, "listing tenants")
	}, func(t *sdk.Tenant) string { return t.ID }, func(ts []*sdk.Tenant) error {
		out = append(out, ts...)
		return nil
	})
	return out, err
}

// isEmpty asks an [Emptier] target whether it is empty; another target
// counts as empty while it holds none of the tenants ids.
func isEmpty(ctx context.Context, dst Target, ids []string) (bool, error) {
	if e, ok := dst.(Emptier); ok {
		return e.Empty(ctx)
	}
	n, err := dst.Counts(ctx, ids)
	if err != nil {
		return false, err
	}
	for _, v := range n {
		if v != 0 {
			return false, nil
		}
	}
	return true, nil
}

// done returns the counts st recorded for a tenant it completed.
func (st *State) done(tenantID string) (map[string]int64, bool) {
	if st == nil {
		return nil, false
	}
	n, ok := st.Done[tenantID]
	return n, ok
}

func (o *Options) progress(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

func zeroCounts() map[string]int64 {
	n := make(map[string]int64, len(Collections))
	for _, c := range Collections {
		n[c] = 0
	}
	return n
}

func addCounts(to, from map[string]int64) {
	for c, v := range from {
		to[c] += v
	}
}

// pages reads a list a page at a time and hands every page that is not
// empty to write: list returns the page after a cursor, key the cursor of
// an item. It stops after a page shorter than limit, which the store
// contract makes the last.
func pages[T any](limit int, list func(after string) ([]T, error), key func(T) string, write func([]T) error) error {
	after := ""
	for {
		items, err := list(after)
		if err != nil {
			return err
		}
		if len(items) > 0 {
			if err := write(items); err != nil {
				return err
			}
		}
		if len(items) < limit {
			return nil
		}
		after = key(items[len(items)-1])
	}
}

// copier copies one tenant and counts what it copied.
type copier struct {
	src sdk.Store
	dst Target
	opt *Options
	t   *sdk.Tenant
	p   Progress         // the tenant's progress report
	n   map[string]int64 // records copied, by kind
}

// copy copies the tenant and everything of it, in an order in which every
// record comes after those it refers to: members after their tenant,
// credentials after their members (whose import replaces them), edges
// after their groups and members.
func (c *copier) copy(ctx context.Context) error {
	if err := c.dst.ImportTenant(ctx, c.t); err != nil {
		return fmt.Errorf("importing the tenant: %w", err)
	}
	c.add(Tenants, 1)
	ids, err := c.members(ctx)
	if err != nil {
		return err
	}
	if err := c.credentials(ctx, ids); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{c.groups, c.invitations, c.tokens, c.audit} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// add counts n records of a kind copied, and reports progress.
func (c *copier) add(kind string, n int) {
	c.n[kind] += int64(n)
	p := c.p
	p.Collection, p.Copied = kind, c.n[kind]
	c.opt.progress(p)
}

// members copies the tenant's members in batches and returns their ids.
// From a MemberScanner the batches are written from inside the scan (the
// target is another store), and credentials are read after it.
func (c *copier) members(ctx context.Context) ([]string, error) {
	tid := c.t.ID
	global := c.t.Settings.UniqueEmailAcrossTenants || c.opt.GlobalEmail
	var ids []string
	batch := make([]*sdk.Member, 0, c.opt.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := c.dst.ImportMembers(ctx, batch, global); err != nil {
			return fmt.Errorf("importing members: %w", err)
		}
		for _, m := range batch {
			ids = append(ids, m.ID)
		}
		c.add(Members, len(batch))
		batch = batch[:0]
		return nil
	}
	if sc, ok := c.src.(sdk.MemberScanner); ok {
		var werr error // the target's, which stops the scan
		err := sc.ScanMembers(ctx, tid, func(m *sdk.Member) error {
			if batch = append(batch, m); len(batch) == c.opt.BatchSize {
				werr = flush()
			}
			return werr
		})
		switch {
		case werr != nil:
			return ids, werr
		case err != nil:
			return ids, wrapRead(err, "scanning members")
		}
		return ids, flush()
	}
	err := pages(c.opt.BatchSize, func(after string) ([]*sdk.Member, error) {
		ms, err := c.src.ListMembers(ctx, tid, sdk.MemberQuery{After: after, Limit: c.opt.BatchSize})
		return ms, wrapRead(err, "listing members")
	}, func(m *sdk.Member) string { return m.ID }, func(ms []*sdk.Member) error {
		batch = append(batch, ms...)
		return flush()
	})
	return ids, err
}

// credentials copies the credentials of the members ids that have any.
func (c *copier) credentials(ctx context.Context, ids []string) error {
	for _, id := range ids {
		cr, err := c.src.GetCredentials(ctx, c.t.ID, id)
		switch {
		case errors.Is(err, sdk.ErrNotFound):
			continue
		case err != nil:
			return wrapRead(err, "reading the credentials of member "+id)
		}
		if err := c.dst.ImportCredentials(ctx, cr); err != nil {
			return fmt.Errorf("importing the credentials of member %s: %w", id, err)
		}
		c.add(Credentials, 1)
	}
	return nil
}

// groups copies the tenant's groups, each followed by its edges.
func (c *copier) groups(ctx context.Context) error {
	return pages(c.opt.BatchSize, func(after string) ([]*sdk.Group, error) {
		gs, err := c.src.ListGroups(ctx, c.t.ID, sdk.GroupQuery{After: after, Limit: c.opt.BatchSize})
		return gs, wrapRead(err, "listing groups")
	}, func(g *sdk.Group) string { return g.ID }, func(gs []*sdk.Group) error {
		for _, g := range gs {
			if err := c.dst.ImportGroup(ctx, g); err != nil {
				return fmt.Errorf("importing group %s: %w", g.ID, err)
			}
			c.add(Groups, 1)
			if err := c.edges(ctx, g.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// edges copies the membership edges of one group, a page at a time.
func (c *copier) edges(ctx context.Context, groupID string) error {
	return pages(c.opt.BatchSize, func(after string) ([]string, error) {
		ids, err := c.src.ListGroupMembers(ctx, c.t.ID, groupID, after, c.opt.BatchSize)
		return ids, wrapRead(err, "listing the members of group "+groupID)
	}, func(id string) string { return id }, func(ids []string) error {
		es := make([]sdk.GroupEdge, len(ids))
		for i, id := range ids {
			es[i] = sdk.GroupEdge{GroupID: groupID, MemberID: id}
		}
		if err := c.dst.ImportEdges(ctx, c.t.ID, es); err != nil {
			return fmt.Errorf("importing the members of group %s: %w", groupID, err)
		}
		c.add(Edges, len(es))
		return nil
	})
}

// invitations copies the tenant's invitations, in every state.
func (c *copier) invitations(ctx context.Context) error {
	return pages(c.opt.BatchSize, func(after string) ([]*sdk.Invitation, error) {
		is, err := c.src.ListInvitations(ctx, c.t.ID, sdk.InvitationQuery{After: after, Limit: c.opt.BatchSize})
		return is, wrapRead(err, "listing invitations")
	}, func(i *sdk.Invitation) string { return i.ID }, func(is []*sdk.Invitation) error {
		for _, inv := range is {
			if err := c.dst.ImportInvitation(ctx, inv); err != nil {
				return fmt.Errorf("importing invitation %s: %w", inv.ID, err)
			}
		}
		c.add(Invitations, len(is))
		return nil
	})
}

// tokens copies the tenant's SCIM tokens.
func (c *copier) tokens(ctx context.Context) error {
	ts, err := c.src.ListTokens(ctx, c.t.ID)
	if err != nil {
		return wrapRead(err, "listing tokens")
	}
	for _, t := range ts {
		if err := c.dst.ImportToken(ctx, t); err != nil {
			return fmt.Errorf("importing token %s: %w", t.ID, err)
		}
	}
	if len(ts) > 0 {
		c.add(Tokens, len(ts))
	}
	return nil
}

// audit copies the tenant's audit log, newest first, a page at a time.
func (c *copier) audit(ctx context.Context) error {
	return pages(c.opt.BatchSize, func(before string) ([]*sdk.AuditEvent, error) {
		es, err := c.src.ListAudit(ctx, c.t.ID, sdk.AuditQuery{Before: before, Limit: c.opt.BatchSize})
		return es, wrapRead(err, "listing audit events")
	}, func(e *sdk.AuditEvent) string { return e.ID }, func(es []*sdk.AuditEvent) error {
		if err := c.dst.ImportAudits(ctx, es); err != nil {
			return fmt.Errorf("importing audit events: %w", err)
		}
		c.add(Audit, len(es))
		return nil
	})
}

// wrapRead says which read of the source failed.
func wrapRead(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s in the source: %w", what, err)
}
