package scim_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// ExampleWithRequestInfo logs one line per SCIM request with what the
// handler learned about it: the tenant, the token's id (never the token),
// the resource and the route template (never the raw URL, whose filter
// may hold email addresses).
func ExampleWithRequestInfo() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	t, _, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: 5})
	secret, _, _ := client.CreateToken(ctx, sdk.SystemActor(), t.ID, "okta")
	h := scim.NewHandler(client)

	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, info := scim.WithRequestInfo(r.Context())
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r.WithContext(ctx))
		fmt.Println(r.Method, info.Route, rec.status, info.Resource, info.Tenant, info.TokenID != "", info.Throttled)
	})

	for _, auth := range []string{"Bearer " + secret, "Bearer wrong-token-wrong-token-wrong-token"} {
		req := httptest.NewRequest(http.MethodGet, `/scim/v2/acme/Users?filter=userName+eq+"ann@acme.test"`, nil)
		req.Header.Set("Authorization", auth)
		logged.ServeHTTP(httptest.NewRecorder(), req)
	}
	// Output:
	// GET /scim/v2/{tenant}/Users 200 Users acme true false
	// GET /scim/v2/{tenant}/Users 401 Users acme false false
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// failingStore fails every member listing, as a store that lost its
// database does.
type failingStore struct {
	sdk.Store
}

var errDown = errors.New("database is down")

func (failingStore) ListMembers(context.Context, string, sdk.MemberQuery) ([]*sdk.Member, error) {
	return nil, errDown
}

func TestRequestInfo(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := memstore.New()
	client := sdk.New(store)
	tn, _, err := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: 5})
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := client.CreateToken(ctx, sdk.SystemActor(), tn.ID, "okta")
	if err != nil {
		t.Fatal(err)
	}
	quiet := scim.WithLogger(slog.New(slog.DiscardHandler))
	h := scim.NewHandler(client, quiet, scim.WithRateLimit(1000, 1000))
	failing := scim.NewHandler(sdk.New(failingStore{store}), quiet)
	throttled := scim.NewHandler(client, quiet, scim.WithRateLimit(0.001, 1))

	serve := func(h http.Handler, method, path, token string) (int, *scim.RequestInfo) {
		var body *strings.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng"}`)
		} else {
			body = strings.NewReader("")
		}
		req := httptest.NewRequest(method, path, body)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rctx, info := scim.WithRequestInfo(req.Context())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(rctx))
		return rec.Code, info
	}

	for _, tc := range []struct {
		name         string
		h            http.Handler
		method, path string
		token        string
		status       int
		want         scim.RequestInfo
		wantErr      bool
	}{
		{"users", h, "GET", "/scim/v2/acme/Users?count=1", secret, 200,
			scim.RequestInfo{Tenant: "acme", TokenID: tok.ID, Resource: "Users", Route: "/scim/v2/{tenant}/Users"}, false},
		{"user by id", h, "GET", "/scim/v2/acme/Users/nope", secret, 404,
			scim.RequestInfo{Tenant: "acme", TokenID: tok.ID, Resource: "Users", Route: "/scim/v2/{tenant}/Users/{id}"}, false},
		{"group create", h, "POST", "/scim/v2/acme/Groups", secret, 201,
			scim.RequestInfo{Tenant: "acme", TokenID: tok.ID, Resource: "Groups", Route: "/scim/v2/{tenant}/Groups"}, false},
		{"discovery", h, "GET", "/scim/v2/acme/ServiceProviderConfig", secret, 200,
			scim.RequestInfo{Tenant: "acme", TokenID: tok.ID, Resource: "discovery", Route: "/scim/v2/{tenant}/ServiceProviderConfig"}, false},
		{"schema by id", h, "GET", "/scim/v2/acme/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", secret, 200,
			scim.RequestInfo{Tenant: "acme", TokenID: tok.ID, Resource: "discovery", Route: "/scim/v2/{tenant}/Schemas/{id}"}, false},
		{"no token", h, "GET", "/scim/v2/acme/Groups", "", 401,
			scim.RequestInfo{Tenant: "acme", Resource: "Groups", Route: "/scim/v2/{tenant}/Groups"}, false},
		{"unknown tenant", h, "GET", "/scim/v2/beta/Users", secret, 401,
			scim.RequestInfo{Tenant: "beta", Resource: "Users", Route: "/scim/v2/{tenant}/Users"}, false},
		{"not offered", h, "POST", "/scim/v2/acme/Bulk", secret, 501,
			scim.RequestInfo{Tenant: "acme", TokenID: tok.ID, Route: "/scim/v2/{tenant}/Bulk"}, false},
		{"no route", h, "GET", "/scim/v2/acme/Nope", secret, 404, scim.RequestInfo{}, false},
		{"store down", failing, "GET", "/scim/v2/acme/Users", secret, 500,
			scim.RequestInfo{Tenant: "acme", TokenID: tok.ID, Resource: "Users", Route: "/scim/v2/{tenant}/Users"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, info := serve(tc.h, tc.method, tc.path, tc.token)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			if tc.wantErr != errors.Is(info.Err, errDown) {
				t.Errorf("Err = %v, want the store's error: %v", info.Err, tc.wantErr)
			}
			info.Err = nil
			if *info != tc.want {
				t.Errorf("RequestInfo = %+v, want %+v", *info, tc.want)
			}
		})
	}

	t.Run("throttled", func(t *testing.T) {
		if status, info := serve(throttled, "GET", "/scim/v2/acme/Users", secret); status != 200 || info.Throttled {
			t.Fatalf("first request: %d, throttled %v", status, info.Throttled)
		}
		status, info := serve(throttled, "GET", "/scim/v2/acme/Users", secret)
		if status != http.StatusTooManyRequests || !info.Throttled || info.TokenID != tok.ID {
			t.Errorf("second request: %d, %+v", status, *info)
		}
	})

	t.Run("without one", func(t *testing.T) {
		// A request without a RequestInfo is served all the same.
		req := httptest.NewRequest(http.MethodGet, "/scim/v2/acme/Users", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("status %d", rec.Code)
		}
	})
}
