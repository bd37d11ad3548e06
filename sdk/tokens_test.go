package sdk_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func TestTokenLifecycle(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	other := newWorld(t, sdk.CreateTenantRequest{Slug: "other"})
	ctx := t.Context()

	for _, a := range []sdk.Actor{w.adminA, w.stdA, w.scimToken, sdk.SyncActor("x")} {
		_, _, err := w.c.CreateToken(ctx, a, w.t.ID, "okta")
		wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	}
	secret, tok, err := w.c.CreateToken(ctx, w.ownerA, w.t.ID, " Okta ")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, sdk.TokenPrefix))
	if !strings.HasPrefix(secret, sdk.TokenPrefix) || err != nil || len(raw) != 32 {
		t.Fatalf("secret %q is not rst_ + 32 random bytes", secret)
	}
	if tok.Name != "Okta" || tok.Hash != "" || tok.Hint != secret[len(secret)-4:] || tok.CreatedBy != w.ownerA.String() {
		t.Fatalf("token = %+v", tok)
	}
	// Only the hash is stored.
	stored, err := sdk.TokenStore(w.store).GetTokenByHash(ctx, w.t.ID, sdk.HashToken(secret))
	if err != nil || stored.Hash != sdk.HashToken(secret) || strings.Contains(stored.Hash, secret) {
		t.Fatalf("stored token = %+v, %v", stored, err)
	}

	got, err := w.c.AuthenticateToken(ctx, w.t.ID, secret)
	if err != nil || got.ID != tok.ID || got.Hash != "" {
		t.Fatalf("AuthenticateToken = %+v, %v", got, err)
	}
	for _, bad := range []struct{ tenant, secret string }{
		{other.t.ID, secret}, // another tenant's token
		{w.t.ID, secret + "x"},
		{w.t.ID, ""},
		{w.t.ID, "rst_ with space"},
		{w.t.ID, strings.Repeat("a", 10000)},
		{"", secret},
	} {
		_, err := w.c.AuthenticateToken(ctx, bad.tenant, bad.secret)
		wantRefused(t, err, sdk.ErrUnauthenticated, "")
	}

	list, err := w.c.ListTokens(ctx, w.ownerA, w.t.ID)
	if err != nil || len(list) != 1 || list[0].Hash != "" {
		t.Fatalf("ListTokens = %v, %v", list, err)
	}
	_, err = w.c.ListTokens(ctx, w.adminA, w.t.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	err = w.c.RevokeToken(ctx, w.adminA, w.t.ID, tok.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	if err := w.c.RevokeToken(ctx, w.system, w.t.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.AuthenticateToken(ctx, w.t.ID, secret)
	wantRefused(t, err, sdk.ErrUnauthenticated, "")
	wantRefused(t, w.c.RevokeToken(ctx, w.system, w.t.ID, tok.ID), sdk.ErrNotFound, "")

	log, _ := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{TargetID: tok.ID})
	if len(log.Items) != 2 || log.Items[0].Action != "token.revoked" || log.Items[1].After["hint"] != tok.Hint {
		t.Fatalf("token audit = %+v", log.Items)
	}
	for _, e := range log.Items {
		for _, v := range e.After {
			if strings.Contains(v, secret) {
				t.Fatal("the secret reached the audit log")
			}
		}
	}
}

func TestRegisterToken(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	const secret = "operator-chosen-bootstrap-token-0123456789"
	a, err := w.c.RegisterToken(ctx, w.system, w.t.ID, "bootstrap", secret)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.c.RegisterToken(ctx, w.system, w.t.ID, "again", secret)
	if err != nil || b.ID != a.ID || b.Name != "bootstrap" {
		t.Fatalf("second RegisterToken = %+v, %v; want the first token back", b, err)
	}
	if list, _ := w.c.ListTokens(ctx, w.system, w.t.ID); len(list) != 1 {
		t.Fatalf("%d tokens after registering twice", len(list))
	}
	for _, bad := range []string{"short", strings.Repeat("x", 31), strings.Repeat("x", 40) + " y", strings.Repeat("é", 20)} {
		_, err := w.c.RegisterToken(ctx, w.system, w.t.ID, "", bad)
		wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	}
	if _, err := w.c.AuthenticateToken(ctx, w.t.ID, secret); err != nil {
		t.Fatalf("registered token does not authenticate: %v", err)
	}
}

func TestTokenLastUsedIsThrottled(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	secret, tok, err := w.c.CreateToken(ctx, w.system, w.t.ID, "")
	if err != nil || tok.Name != "scim" {
		t.Fatalf("CreateToken = %+v, %v", tok, err)
	}
	lastUsed := func() time.Time {
		list, _ := w.c.ListTokens(ctx, w.system, w.t.ID)
		return list[0].LastUsedAt
	}
	start := w.clock.Now()
	if _, err := w.c.AuthenticateToken(ctx, w.t.ID, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(start) {
		t.Fatalf("LastUsedAt = %v, want %v", got, start)
	}
	w.clock.Advance(30 * time.Second)
	got, _ := w.c.AuthenticateToken(ctx, w.t.ID, secret)
	if !got.LastUsedAt.Equal(start) || !lastUsed().Equal(start) {
		t.Fatalf("LastUsedAt moved within a minute: %v", lastUsed())
	}
	w.clock.Advance(31 * time.Second)
	if _, err := w.c.AuthenticateToken(ctx, w.t.ID, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(start.Add(61 * time.Second)) {
		t.Fatalf("LastUsedAt = %v after a minute, want %v", got, start.Add(61*time.Second))
	}
}
