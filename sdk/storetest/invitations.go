package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func testInvitations(t *testing.T, s sdk.Store) {
	var is sdk.InvitationStore = s
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 100)
	newInv := func(memberID string, exp time.Time) *sdk.Invitation {
		return &sdk.Invitation{
			ID: sdk.NewID(), TenantID: tn.ID, MemberID: memberID, Email: memberID + "@x.test", Role: "standard",
			InviterID: "inviter", State: sdk.InvitationPending, SecretHash: []byte{1, 2, 3}, ExpiresAt: exp,
			Resends: []time.Time{epoch}, Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
		}
	}
	a := newInv("m1", epoch.Add(time.Hour))
	if err := is.CreateInvitation(ctx, a); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateInvitation(same id)", is.CreateInvitation(ctx, a), sdk.ErrAlreadyExists, "")
	got, err := is.GetInvitation(ctx, tn.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.SecretHash, []byte{1, 2, 3}) || !got.ExpiresAt.Equal(a.ExpiresAt) || got.MemberID != "m1" ||
		got.State != sdk.InvitationPending || len(got.Resends) != 1 || !got.Resends[0].Equal(epoch) {
		t.Fatalf("GetInvitation round trip = %+v", got)
	}
	_, err = is.GetInvitation(ctx, "other-tenant", a.ID)
	wantErr(t, "GetInvitation(other tenant)", err, sdk.ErrNotFound, "")

	// The newest invitation of a member wins.
	b := newInv("m1", epoch.Add(2*time.Hour))
	if err := is.CreateInvitation(ctx, b); err != nil {
		t.Fatal(err)
	}
	if byM, err := is.GetInvitationByMember(ctx, tn.ID, "m1"); err != nil || byM.ID != b.ID {
		t.Fatalf("GetInvitationByMember = %v, %v; want %s", byM, err, b.ID)
	}
	_, err = is.GetInvitationByMember(ctx, tn.ID, "nobody")
	wantErr(t, "GetInvitationByMember(unknown)", err, sdk.ErrNotFound, "")

	upd := *got
	upd.State = sdk.InvitationAccepted
	upd.SecretHash = []byte{9}
	if err := is.UpdateInvitation(ctx, &upd, 1); err != nil || upd.Version != 2 {
		t.Fatalf("UpdateInvitation = v%d, %v", upd.Version, err)
	}
	wantErr(t, "UpdateInvitation(stale)", is.UpdateInvitation(ctx, &upd, 1), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	ghost := newInv("m9", epoch)
	wantErr(t, "UpdateInvitation(unknown)", is.UpdateInvitation(ctx, ghost, 1), sdk.ErrNotFound, "")

	for i := range 5 {
		if err := is.CreateInvitation(ctx, newInv(fmt.Sprintf("p%d", i), epoch.Add(time.Duration(i-2)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := is.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{State: sdk.InvitationPending, Limit: 100})
	if err != nil || len(pending) != 6 { // b and p0..p4
		t.Fatalf("pending = %d, %v; want 6", len(pending), err)
	}
	expired, err := is.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{State: sdk.InvitationPending, ExpiredBefore: epoch, Limit: 100})
	if err != nil || len(expired) != 3 { // p0, p1, p2 (expires exactly at epoch)
		t.Fatalf("expired = %d, %v; want 3", len(expired), err)
	}
	valid, err := is.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{State: sdk.InvitationPending, ValidAfter: epoch, Limit: 100})
	if err != nil || len(valid) != 3 { // b, p3, p4
		t.Fatalf("valid = %d, %v; want 3", len(valid), err)
	}
	page, err := is.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{After: pending[1].ID, Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != pending[2].ID {
		t.Fatalf("page after = %v, %v", page, err)
	}
}

func testCredentials(t *testing.T, s sdk.Store) {
	var cs sdk.CredentialStore = s
	ctx := t.Context()
	_, err := cs.GetCredentials(ctx, "t1", "m1")
	wantErr(t, "GetCredentials(none)", err, sdk.ErrNotFound, "")
	c := &sdk.Credentials{TenantID: "t1", MemberID: "m1", PasswordHash: "$argon2id$x", TOTPSecret: "ABC", TOTPLastStep: 42, UpdatedAt: epoch}
	if err := cs.PutCredentials(ctx, c); err != nil {
		t.Fatal(err)
	}
	// PutCredentials keeps the TOTP state and never a password: member
	// writes alone set one (see testPasswordWrites).
	c.PasswordHash = ""
	got, err := cs.GetCredentials(ctx, "t1", "m1")
	if err != nil || *got != *c {
		t.Fatalf("GetCredentials = %+v, %v; want %+v", got, err, c)
	}
	c.TOTPPending, c.PasswordHash = "DEF", ""
	if err := cs.PutCredentials(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := cs.GetCredentials(ctx, "t1", "m1"); got.PasswordHash != "" || got.TOTPPending != "DEF" {
		t.Fatalf("replace = %+v", got)
	}
	if _, err := cs.GetCredentials(ctx, "t2", "m1"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("credentials leak across tenants: %v", err)
	}
	// TOTP steps only move forward, atomically.
	if ok, err := cs.AdvanceTOTPStep(ctx, "t1", "m1", 42); err != nil || ok {
		t.Fatalf("AdvanceTOTPStep(same step) = %v, %v; want false", ok, err)
	}
	if ok, err := cs.AdvanceTOTPStep(ctx, "t1", "m1", 43); err != nil || !ok {
		t.Fatalf("AdvanceTOTPStep(next step) = %v, %v; want true", ok, err)
	}
	if got, _ := cs.GetCredentials(ctx, "t1", "m1"); got.TOTPLastStep != 43 || got.TOTPPending != "DEF" {
		t.Fatalf("after AdvanceTOTPStep: %+v", got)
	}
	if ok, err := cs.AdvanceTOTPStep(ctx, "t9", "m9", 1); err != nil || ok {
		t.Fatalf("AdvanceTOTPStep(absent) = %v, %v; want false", ok, err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if ok, err := cs.AdvanceTOTPStep(ctx, "t1", "m1", 44); err != nil {
				t.Error(err)
			} else if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent advances to one step won, want 1", wins.Load())
	}
	if err := cs.DeleteCredentials(ctx, "t1", "m1"); err != nil {
		t.Fatal(err)
	}
	if err := cs.DeleteCredentials(ctx, "t1", "m1"); err != nil {
		t.Fatalf("deleting absent credentials: %v", err)
	}
	_, err = cs.GetCredentials(ctx, "t1", "m1")
	wantErr(t, "GetCredentials(deleted)", err, sdk.ErrNotFound, "")
}
