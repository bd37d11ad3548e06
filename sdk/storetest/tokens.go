package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func testTokens(t *testing.T, s sdk.Store) {
	var ts sdk.TokenStore = s
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	other, _ := fixture(t, s, "other", 10)
	mk := func(tenantID, secret string) *sdk.Token {
		return &sdk.Token{ID: sdk.NewID(), TenantID: tenantID, Name: "okta", Hash: sdk.HashToken(secret), Hint: secret[len(secret)-4:],
			CreatedBy: "system:system", CreatedAt: epoch}
	}
	a := mk(tn.ID, "secret-a-0123456789012345678901234567")
	if err := ts.CreateToken(ctx, a); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	got, err := ts.GetTokenByHash(ctx, tn.ID, a.Hash)
	if err != nil || got.ID != a.ID || got.Name != "okta" || got.Hint != a.Hint || got.Hash != a.Hash ||
		got.CreatedBy != "system:system" || !got.CreatedAt.Equal(epoch) || !got.LastUsedAt.IsZero() {
		t.Fatalf("GetTokenByHash = %+v, %v", got, err)
	}
	_, err = ts.GetTokenByHash(ctx, other.ID, a.Hash)
	wantErr(t, "GetTokenByHash(other tenant)", err, sdk.ErrNotFound, "")
	dup := mk(tn.ID, "secret-a-0123456789012345678901234567")
	wantErr(t, "CreateToken(same secret)", ts.CreateToken(ctx, dup), sdk.ErrAlreadyExists, sdk.ReasonTokenExists)
	// The same secret in another tenant is another token.
	if err := ts.CreateToken(ctx, mk(other.ID, "secret-a-0123456789012345678901234567")); err != nil {
		t.Fatalf("same secret, other tenant: %v", err)
	}
	b := mk(tn.ID, "secret-b-0123456789012345678901234567")
	if err := ts.CreateToken(ctx, b); err != nil {
		t.Fatal(err)
	}
	list, err := ts.ListTokens(ctx, tn.ID)
	if err != nil || len(list) != 2 || !slices.IsSortedFunc(list, func(x, y *sdk.Token) int { return cmpStr(x.ID, y.ID) }) {
		t.Fatalf("ListTokens = %v, %v", list, err)
	}

	if err := ts.TouchToken(ctx, tn.ID, a.ID, epoch.Add(time.Hour)); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	if err := ts.TouchToken(ctx, tn.ID, a.ID, epoch.Add(time.Minute)); err != nil {
		t.Fatalf("TouchToken(earlier): %v", err)
	}
	if got, _ := ts.GetTokenByHash(ctx, tn.ID, a.Hash); !got.LastUsedAt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("LastUsedAt = %v, want the later of the two touches", got.LastUsedAt)
	}
	wantErr(t, "TouchToken(unknown)", ts.TouchToken(ctx, tn.ID, "nope", epoch), sdk.ErrNotFound, "")

	if err := ts.DeleteToken(ctx, tn.ID, a.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	_, err = ts.GetTokenByHash(ctx, tn.ID, a.Hash)
	wantErr(t, "GetTokenByHash(deleted)", err, sdk.ErrNotFound, "")
	wantErr(t, "DeleteToken(again)", ts.DeleteToken(ctx, tn.ID, a.ID), sdk.ErrNotFound, "")
	wantErr(t, "DeleteToken(other tenant)", ts.DeleteToken(ctx, other.ID, b.ID), sdk.ErrNotFound, "")
	// A deleted token's secret can be registered again.
	if err := ts.CreateToken(ctx, mk(tn.ID, "secret-a-0123456789012345678901234567")); err != nil {
		t.Fatalf("re-creating a deleted secret: %v", err)
	}
}
