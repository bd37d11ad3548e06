package sdk_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/rosterhq/roster/sdk"
)

func TestPasswords(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithPasswordParams(64, 1, 1))
	ctx := t.Context()
	for _, pw := range []string{"", "short", "aaaaaaaaaaaaaaaa", "Password1234", "\xff\xfe" + "abcdefghijklm"} {
		_, err := w.c.SetPassword(ctx, w.stdA, w.t.ID, w.std.ID, pw)
		wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonWeakPassword)
	}
	m, err := w.c.SetPassword(ctx, w.stdA, w.t.ID, w.std.ID, "a long enough secret")
	if err != nil {
		t.Fatal(err)
	}
	if m.SessionEpoch != 1 {
		t.Fatalf("password change left session epoch %d, want 1", m.SessionEpoch)
	}
	in, err := w.c.VerifyPassword(ctx, w.t.ID, "STD@acme.test", "a long enough secret")
	if err != nil || in.Member.ID != w.std.ID || in.MFARequired || in.MFAEnrollmentRequired || in.SessionEpoch != 1 {
		t.Fatalf("VerifyPassword = %+v, %v", in, err)
	}
	for _, c := range [][2]string{{"std@acme.test", "wrong password!!"}, {"ghost@acme.test", "a long enough secret"}, {"std2@acme.test", "a long enough secret"}} {
		_, err := w.c.VerifyPassword(ctx, w.t.ID, c[0], c[1])
		wantRefused(t, err, sdk.ErrUnauthenticated, sdk.ReasonWrongCredentials)
	}
	// Admins may set a lower member's password, never the owner's.
	if _, err := w.c.SetPassword(ctx, w.adminA, w.t.ID, w.std2.ID, "set by the admin!"); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.SetPassword(ctx, w.adminA, w.t.ID, w.owner.ID, "set by the admin!")
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
	_, err = w.c.SetPassword(ctx, w.stdA, w.t.ID, w.std2.ID, "set by a peer!!!")
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	// Deactivated members cannot sign in.
	if _, err := w.c.Deactivate(ctx, w.adminA, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.VerifyPassword(ctx, w.t.ID, "std@acme.test", "a long enough secret")
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonInactive)
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPAndRequiredMFA(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{Settings: sdk.Settings{RequireMFA: true}}, sdk.WithPasswordParams(64, 1, 1))
	ctx := t.Context()
	if _, err := w.c.SetPassword(ctx, w.stdA, w.t.ID, w.std.ID, "a long enough secret"); err != nil {
		t.Fatal(err)
	}
	in, err := w.c.VerifyPassword(ctx, w.t.ID, "std@acme.test", "a long enough secret")
	if err != nil || !in.MFAEnrollmentRequired || in.MFARequired {
		t.Fatalf("sign-in before enrolment = %+v, %v; want enrolment required", in, err)
	}
	err = w.c.VerifyTOTP(ctx, w.t.ID, w.std.ID, "123456")
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonMFANotEnrolled)
	_, err = w.c.ConfirmTOTP(ctx, w.stdA, w.t.ID, "123456")
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonMFANotEnrolled)

	enr, err := w.c.EnrollTOTP(ctx, w.stdA, w.t.ID)
	if err != nil || enr.Secret == "" || enr.URL == "" {
		t.Fatalf("EnrollTOTP = %+v, %v", enr, err)
	}
	wrong := "000000"
	if code(t, enr.Secret, w.clock.Now()) == wrong {
		wrong = "111111"
	}
	for _, c := range []string{wrong, "abc", "12345", ""} {
		_, err = w.c.ConfirmTOTP(ctx, w.stdA, w.t.ID, c)
		wantRefused(t, err, sdk.ErrUnauthenticated, sdk.ReasonWrongCode)
	}
	m, err := w.c.ConfirmTOTP(ctx, w.stdA, w.t.ID, code(t, enr.Secret, w.clock.Now()))
	if err != nil || !m.MFAEnrolled {
		t.Fatalf("ConfirmTOTP = %+v, %v", m, err)
	}
	in, err = w.c.VerifyPassword(ctx, w.t.ID, "std@acme.test", "a long enough secret")
	if err != nil || in.MFAEnrollmentRequired || !in.MFARequired {
		t.Fatalf("sign-in after enrolment = %+v, %v", in, err)
	}
	// The confirming code cannot be replayed; the next step's code works once.
	err = w.c.VerifyTOTP(ctx, w.t.ID, w.std.ID, code(t, enr.Secret, w.clock.Now()))
	wantRefused(t, err, sdk.ErrUnauthenticated, sdk.ReasonWrongCode)
	w.clock.Advance(30 * time.Second)
	c := code(t, enr.Secret, w.clock.Now())
	if err := w.c.VerifyTOTP(ctx, w.t.ID, w.std.ID, c); err != nil {
		t.Fatalf("VerifyTOTP: %v", err)
	}
	err = w.c.VerifyTOTP(ctx, w.t.ID, w.std.ID, c)
	wantRefused(t, err, sdk.ErrUnauthenticated, sdk.ReasonWrongCode)
	_, err = w.c.EnrollTOTP(ctx, w.stdA, w.t.ID)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonMFAAlreadyEnrolled)
}
