package sdk_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func TestInviteAndAccept(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithPasswordParams(64, 1, 1))
	ctx := t.Context()
	res, err := w.c.Invite(ctx, w.adminA, sdk.InviteRequest{TenantID: w.t.ID, Email: "Newbie@Acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Member.Status != sdk.StatusInvited || res.Member.Role != "standard" || res.Secret == "" {
		t.Fatalf("Invite = %+v", res)
	}
	if strings.Contains(fmt.Sprintf("%+v", res.Invitation), res.Secret[len(res.Secret)-43:]) {
		t.Fatal("the invitation record carries the secret")
	}
	// The pending invitation holds a seat and its email.
	if used := w.tenant(t).SeatsUsed; used != 6 {
		t.Fatalf("seats used %d, want 6", used)
	}
	_, err = w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "newbie@acme.test"})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	_, err = w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "NEWBIE@acme.test"})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)

	m, err := w.c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret, GivenName: "Nia", FamilyName: "Ng", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != sdk.StatusActive || m.GivenName != "Nia" || m.FamilyName != "Ng" {
		t.Fatalf("Accept = %+v", m)
	}
	if _, err := w.c.VerifyPassword(ctx, w.t.ID, "newbie@acme.test", "correct horse battery"); err != nil {
		t.Fatalf("password set on accept does not verify: %v", err)
	}
	// Single use.
	_, err = w.c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonInvitationUsed)
	pending, err := w.c.ListInvitations(ctx, w.t.ID, sdk.ListInvitationsOptions{})
	if err != nil || len(pending.Items) != 0 {
		t.Fatalf("pending after accept: %d, %v", len(pending.Items), err)
	}
}

func TestInvitationExpiresAt72Hours(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	res, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "late@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Invitation.ExpiresAt.Sub(w.clock.Now()); got != 72*time.Hour {
		t.Fatalf("expiry in %v, want 72h", got)
	}
	w.clock.Advance(72*time.Hour - time.Nanosecond)
	if p, _ := w.c.ListInvitations(ctx, w.t.ID, sdk.ListInvitationsOptions{}); len(p.Items) != 1 {
		t.Fatalf("valid invitations just before expiry: %d, want 1", len(p.Items))
	}
	w.clock.Advance(time.Nanosecond) // exactly 72 h
	_, err = w.c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonInvitationExpired)
	if got := w.member(t, res.Member.ID).Status; got != sdk.StatusInvited {
		t.Fatalf("expired accept changed status to %s", got)
	}
	exp, err := w.c.ListInvitations(ctx, w.t.ID, sdk.ListInvitationsOptions{Expired: true})
	if err != nil || len(exp.Items) != 1 {
		t.Fatalf("expired list: %d, %v", len(exp.Items), err)
	}
	// Resend revives it with a new secret; the old one is dead.
	re, err := w.c.Resend(ctx, w.ownerA, w.t.ID, res.Member.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret})
	wantRefused(t, err, sdk.ErrNotFound, sdk.ReasonInvitationNotFound)
	if _, err := w.c.Accept(ctx, sdk.AcceptRequest{Secret: re.Secret}); err != nil {
		t.Fatalf("accepting the resent invitation: %v", err)
	}
}

func TestInvitationTTLSetting(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{Settings: sdk.Settings{InvitationTTL: 2 * time.Hour}})
	res, err := w.c.Invite(t.Context(), w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "x@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Invitation.ExpiresAt.Sub(w.clock.Now()); got != 2*time.Hour {
		t.Fatalf("expiry in %v, want the tenant's 2h", got)
	}
}

func TestResendRateLimit(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	res, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "x@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.Resend(ctx, w.ownerA, w.t.ID, res.Member.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.Resend(ctx, w.ownerA, w.t.ID, res.Member.ID)
	wantRefused(t, err, sdk.ErrResourceExhausted, sdk.ReasonResendRateLimited)
	for range sdk.ResendBurst - 1 {
		w.clock.Advance(sdk.ResendMinInterval)
		if _, err := w.c.Resend(ctx, w.ownerA, w.t.ID, res.Member.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Advance(time.Hour)
	_, err = w.c.Resend(ctx, w.ownerA, w.t.ID, res.Member.ID)
	wantRefused(t, err, sdk.ErrResourceExhausted, sdk.ReasonResendRateLimited)
	w.clock.Advance(sdk.ResendWindow)
	if _, err := w.c.Resend(ctx, w.ownerA, w.t.ID, res.Member.ID); err != nil {
		t.Fatalf("resend after the window: %v", err)
	}
	_, err = w.c.Resend(ctx, w.stdA, w.t.ID, res.Member.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	_, err = w.c.Resend(ctx, w.ownerA, w.t.ID, w.std.ID)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonInvitationUsed)
}

func TestRevokeInvitation(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	res, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "x@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.c.Revoke(ctx, w.adminA, w.t.ID, res.Member.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonInvitationRevoked)
	if used := w.tenant(t).SeatsUsed; used != 5 {
		t.Fatalf("revoking kept the seat: used %d", used)
	}
	// The address is free again.
	if _, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "x@acme.test"}); err != nil {
		t.Fatalf("re-inviting a revoked address: %v", err)
	}
	err = w.c.Revoke(ctx, w.ownerA, w.t.ID, w.std.ID)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonInvitationUsed)
}

func TestResendAndRevokeWorkWhenTheTenantIsFull(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 6})
	ctx := t.Context()
	res, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "last@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.Resend(ctx, w.adminA, w.t.ID, res.Member.ID); err != nil {
		t.Fatalf("resend in a full tenant: %v", err)
	}
	if err := w.c.Revoke(ctx, w.adminA, w.t.ID, res.Member.ID); err != nil {
		t.Fatalf("revoking to free a seat in a full tenant: %v", err)
	}
	if free := w.tenant(t).SeatsFree(); free != 1 {
		t.Fatalf("free seats after revoke %d, want 1", free)
	}
}

func TestInvitationBadInput(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	res, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "x@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(res.Secret, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", 43)
	for _, c := range []struct {
		secret string
		code   error
		reason sdk.Reason
	}{
		{"", sdk.ErrInvalidArgument, sdk.ReasonInvalid},
		{"garbage", sdk.ErrInvalidArgument, sdk.ReasonInvalidSecret},
		{"inv_a.b", sdk.ErrInvalidArgument, sdk.ReasonInvalidSecret},
		{forged, sdk.ErrNotFound, sdk.ReasonInvitationNotFound},
		{"inv_" + w.t.ID + ".01UNKNOWN." + parts[2], sdk.ErrNotFound, sdk.ReasonInvitationNotFound},
	} {
		_, err := w.c.Accept(ctx, sdk.AcceptRequest{Secret: c.secret})
		wantRefused(t, err, c.code, c.reason)
	}
	_, err = w.c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret, Password: "short"})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonWeakPassword)
	if got := w.member(t, res.Member.ID).Status; got != sdk.StatusInvited {
		t.Fatalf("bad accept changed the member: %s", got)
	}
	for _, e := range []string{"", "no-at-sign", strings.Repeat("a", 250) + "@x.test"} {
		_, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: e})
		wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	}
}

func TestInvitationsRaceForLastSeat(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 6})
	ctx := t.Context()
	var wins, full atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: fmt.Sprintf("r%d@acme.test", i)})
			switch sdk.ReasonOf(err) {
			case "":
				wins.Add(1)
			case sdk.ReasonSeatLimit:
				full.Add(1)
			default:
				t.Errorf("invite %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || full.Load() != 19 {
		t.Fatalf("%d invitations won the last seat, %d refused; want 1 and 19", wins.Load(), full.Load())
	}
}

func TestConcurrentAcceptsOneWins(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	res, err := w.c.Invite(ctx, w.ownerA, sdk.InviteRequest{TenantID: w.t.ID, Email: "x@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	var wins, used atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := w.c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret})
			switch sdk.ReasonOf(err) {
			case "":
				wins.Add(1)
			case sdk.ReasonInvitationUsed:
				used.Add(1)
			default:
				t.Errorf("accept: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || used.Load() != 9 {
		t.Fatalf("%d accepts won, %d refused; want 1 and 9", wins.Load(), used.Load())
	}
}
