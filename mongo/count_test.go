package mongo

import (
	"fmt"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// TestCommandCounts pins the round trips of each operation, measured with
// the driver's command monitor.
func TestCommandCounts(t *testing.T) {
	t.Parallel() // see ferretURI
	var cc CommandCounter
	s := openStore(t, WithCommandMonitor(cc.Monitor()))
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 1000)
	// The members to page through, written in one batch: what is counted
	// below is single calls, and 300 single writes took 15 s of this test
	// on FerretDB under -race.
	var ids []string
	var ws []sdk.MemberWrite
	for i := range 300 {
		m := newMember(tn.ID, fmt.Sprintf("u%03d@x.test", i))
		ws = append(ws, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake})
		ids = append(ids, m.ID)
	}
	for i, err := range s.CreateMembers(ctx, ws) {
		if err != nil {
			t.Fatalf("CreateMembers[%d]: %v", i, err)
		}
	}
	m := newMember(tn.ID, "counted@x.test")
	count := func(name string, want int64, f func() error) {
		t.Helper()
		cc.Reset()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := cc.Count()
		t.Logf("%-28s %d command(s) %v", name, got, cc.ByName())
		if got != want {
			t.Errorf("%s: %d commands, want %d", name, got, want)
		}
	}
	count("CreateMember (seat)", 2, func() error { return s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}) })
	count("CreateMember (no seat)", 2, func() error {
		n := newMember(tn.ID, "noseat@x.test")
		n.Status = sdk.StatusDeactivated
		return s.CreateMember(ctx, sdk.MemberWrite{Member: n})
	})
	count("GetTenant", 1, func() error { _, err := s.GetTenant(ctx, tn.ID); return err })
	count("GetMember", 1, func() error { _, err := s.GetMember(ctx, tn.ID, m.ID); return err })
	count("GetMemberByEmail", 1, func() error { _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, m.EmailKey); return err })
	count("GetMemberByUserName", 1, func() error { _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, m.UserNameKey); return err })
	count("GetMemberWithPasswordHash", 1, func() error { _, _, err := s.GetMemberWithPasswordHash(ctx, tn.ID, m.ID); return err })
	hash := "$argon2id$h"
	count("CreateMember (password)", 2, func() error {
		return s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "pw@x.test"), Seat: sdk.SeatTake, PasswordHash: &hash})
	})
	count("UpdateMember", 1, func() error {
		m.Title = "x"
		return s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version})
	})
	count("UpdateMember (password)", 1, func() error {
		m.Title = "y"
		return s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version, PasswordHash: &hash})
	})
	count("UpdateMember (-1 seat)", 3, func() error {
		m.Status = sdk.StatusDeactivated
		return s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version, Seat: sdk.SeatRelease})
	})
	count("UpdateMember (+1 seat)", 2, func() error {
		m.Status = sdk.StatusActive
		return s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version, Seat: sdk.SeatTake})
	})
	count("CountMembers", 1, func() error { _, err := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{}); return err })
	count("EmailInOtherTenant", 1, func() error { _, err := s.EmailInOtherTenant(ctx, tn.ID, m.EmailKey); return err })
	count("AdjustExtraSeats", 1, func() error { _, err := s.AdjustExtraSeats(ctx, tn.ID, 1, epoch); return err })
	count("AppendAudit", 1, func() error {
		return s.AppendAudit(ctx, &sdk.AuditEvent{ID: sdk.NewID(), TenantID: tn.ID, Time: epoch, Action: "x"})
	})
	count("ListAudit", 1, func() error { _, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{Limit: 51}); return err })
	inv := &sdk.Invitation{ID: sdk.NewID(), TenantID: tn.ID, MemberID: m.ID, Email: m.Email, State: sdk.InvitationPending,
		SecretHash: []byte{1}, ExpiresAt: epoch, Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	count("CreateInvitation", 1, func() error { return s.CreateInvitation(ctx, inv) })
	count("GetInvitation", 1, func() error { _, err := s.GetInvitation(ctx, tn.ID, inv.ID); return err })
	count("GetInvitationByMember", 1, func() error { _, err := s.GetInvitationByMember(ctx, tn.ID, m.ID); return err })
	count("UpdateInvitation", 1, func() error {
		inv.State = sdk.InvitationAccepted
		return s.UpdateInvitation(ctx, inv, inv.Version)
	})
	count("ListInvitations", 1, func() error {
		_, err := s.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{State: sdk.InvitationPending, Limit: 51})
		return err
	})
	creds := &sdk.Credentials{TenantID: tn.ID, MemberID: m.ID, PasswordHash: "h", UpdatedAt: epoch}
	// The password hash lives on the member document, TOTP on the
	// credentials document: reading or deleting both is a command each;
	// PutCredentials writes TOTP only.
	count("PutCredentials", 1, func() error { return s.PutCredentials(ctx, creds) })
	count("GetCredentials", 2, func() error { _, err := s.GetCredentials(ctx, tn.ID, m.ID); return err })
	count("DeleteCredentials", 2, func() error { return s.DeleteCredentials(ctx, tn.ID, m.ID) })
	count("DeleteMember (seat)", 3, func() error {
		return s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: m.Version, Seat: sdk.SeatRelease})
	})
	count("DeleteMember (no seat)", 1, func() error {
		n := newMember(tn.ID, "gone@x.test")
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: n}); err != nil {
			return err
		}
		cc.Reset()
		return s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: n.ID, ExpectedVersion: n.Version})
	})

	// Addresses unique across tenants: the claim (and the release of the
	// claim a member leaves) are one command each.
	g := newMember(tn.ID, "global@x.test")
	g.Status = sdk.StatusDeactivated // no seat: the seat protocol is counted above
	count("CreateMember (GlobalEmail)", 3, func() error { return s.CreateMember(ctx, sdk.MemberWrite{Member: g, GlobalEmail: true}) })
	count("UpdateMember (GlobalEmail)", 2, func() error {
		g.Title = "x"
		return s.UpdateMember(ctx, sdk.MemberWrite{Member: g, ExpectedVersion: g.Version, GlobalEmail: true})
	})
	count("UpdateMember (GlobalEmail, new address)", 3, func() error {
		g.Email, g.EmailKey = "global2@x.test", "global2@x.test"
		return s.UpdateMember(ctx, sdk.MemberWrite{Member: g, ExpectedVersion: g.Version, GlobalEmail: true})
	})
	count("UpdateMember (leaving GlobalEmail)", 2, func() error {
		g.Title = "y"
		return s.UpdateMember(ctx, sdk.MemberWrite{Member: g, ExpectedVersion: g.Version})
	})
	count("DeleteMember (GlobalEmail)", 2, func() error {
		if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: g, ExpectedVersion: g.Version, GlobalEmail: true}); err != nil {
			return err
		}
		cc.Reset()
		return s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: g.ID, ExpectedVersion: g.Version})
	})
	count("CreateTenant", 3, func() error {
		o := newMember(sdk.NewID(), "o1@x.test")
		return s.CreateTenant(ctx, &sdk.Tenant{ID: o.TenantID, Slug: "c1", OwnerID: o.ID, IncludedSeats: 1, SeatsUsed: 1, Version: 1}, sdk.MemberWrite{Member: o})
	})
	count("CreateTenant (GlobalEmail)", 4, func() error {
		o := newMember(sdk.NewID(), "o2@x.test")
		return s.CreateTenant(ctx, &sdk.Tenant{ID: o.TenantID, Slug: "c2", OwnerID: o.ID, IncludedSeats: 1, SeatsUsed: 1, Version: 1}, sdk.MemberWrite{Member: o, GlobalEmail: true})
	})

	// The take that finds pruneAt intents on the tenant removes those of
	// members that landed: a find and an update more.
	for len(rawTenant(t, s, tn.ID).SeatTakes) < pruneAt-1 {
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, sdk.NewID()+"@x.test"), Seat: sdk.SeatTake}); err != nil {
			t.Fatal(err)
		}
	}
	count("CreateMember (seat, pruning)", 4, func() error {
		return s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "prune@x.test"), Seat: sdk.SeatTake})
	})
	if left := rawTenant(t, s, tn.ID).SeatTakes; len(left) != 0 {
		t.Errorf("%d take intents left after the prune", len(left))
	}
	holding := []sdk.Status{sdk.StatusActive, sdk.StatusInvited}
	count("RecountSeats (nothing to repair)", 3, func() error { _, _, err := s.RecountSeats(ctx, tn.ID, holding); return err })
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "intent@x.test"), Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	count("RecountSeats (an intent of a landed member)", 5, func() error { _, _, err := s.RecountSeats(ctx, tn.ID, holding); return err })

	// Paging: the first page and a deep one cost one command each, pages
	// of the SDK's largest size (1000 + 1) included.
	for _, size := range []int{51, 1001} {
		count(fmt.Sprintf("ListMembers page 1 (%d)", size), 1, func() error {
			_, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: size})
			return err
		})
		count(fmt.Sprintf("ListMembers deep page (%d)", size), 1, func() error {
			_, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{After: ids[250], Limit: size})
			return err
		})
	}
	// A page by position (SCIM's startIndex) is one find however deep,
	// skipping in the database; with the count it is a SCIM page's two.
	all, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{})
	if err != nil || len(all) < 300 {
		t.Fatalf("listing every member: %d, %v", len(all), err)
	}
	count("ListMembers deep Offset", 1, func() error {
		ms, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Offset: 290, Limit: 101})
		if err == nil && (len(ms) != len(all)-290 || ms[0].ID != all[290].ID) {
			err = fmt.Errorf("the page at 290 has %d members, want %d from %s", len(ms), len(all)-290, all[290].ID)
		}
		return err
	})
	count("ListMembers deep Offset, status filter", 1, func() error {
		_, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Offset: 250, Limit: 101, Filter: sdk.MemberFilter{Status: sdk.StatusActive}})
		return err
	})
	count("ListMembers prefix filter", 1, func() error {
		_, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: 51, Filter: sdk.MemberFilter{Prefix: "u1"}})
		return err
	})
	// Email filters are answered from emailKeys: exactly for emails.value,
	// as one batch of candidates for a value filter on one item.
	byValue := sdk.Compare(sdk.FieldEmailValue, sdk.OpEq, "U150@x.test")
	workValue := &sdk.Cond{Op: sdk.OpSome, Field: sdk.FieldEmails, Args: []*sdk.Cond{sdk.And(
		sdk.Compare(sdk.FieldEmailType, sdk.OpEq, "work"), sdk.Compare(sdk.FieldEmailValue, sdk.OpEq, "U150@x.test"))}}
	for _, f := range []struct {
		name  string
		where *sdk.Cond
	}{{"emails.value eq", byValue}, {`emails[type eq "work" and value eq]`, workValue}} {
		name, where := f.name, f.where
		count("ListMembers "+name, 1, func() error {
			ms, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: 51, Filter: sdk.MemberFilter{Where: where}})
			if err == nil && (len(ms) != 1 || ms[0].ID != ids[150]) {
				err = fmt.Errorf("found %d members", len(ms))
			}
			return err
		})
		count("CountMembers "+name, 1, func() error {
			n, err := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{Where: where})
			if err == nil && n != 1 {
				err = fmt.Errorf("counted %d members", n)
			}
			return err
		})
	}
	for i := range 30 {
		g := &sdk.Group{ID: sdk.NewID(), TenantID: tn.ID, DisplayName: fmt.Sprintf("g%02d", i), NameKey: fmt.Sprintf("g%02d", i),
			Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
		if err := s.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	count("ListGroups deep Offset", 1, func() error {
		gs, err := s.ListGroups(ctx, tn.ID, sdk.GroupQuery{Offset: 25, Limit: 11})
		if err == nil && len(gs) != 5 {
			err = fmt.Errorf("%d groups at 25 of 30", len(gs))
		}
		return err
	})
	count("CountGroups", 1, func() error { _, err := s.CountGroups(ctx, tn.ID, nil); return err })
}
