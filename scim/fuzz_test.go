package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// The fuzz targets check that no input makes the endpoint fail with a 5xx
// or panic: parsing and translating filters, applying PATCH operations, and
// whole requests through the handler. Seed corpora are in testdata/fuzz.
//
//	go test ./scim -run '^$' -fuzz FuzzFilter -fuzztime 30s

var sample = &sdk.Member{ID: "M1", Email: "Ann@x.test", EmailKey: "ann@x.test", UserNameKey: "ann@x.test",
	Profile: sdk.Profile{UserName: "Ann@x.test", GivenName: "Ann", Title: "Dev",
		Emails:       []sdk.Email{{Value: "Ann@x.test", Type: "work", Primary: true}, {Value: "ann@home.test", Type: "home"}},
		PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555", Type: "mobile"}},
		Addresses:    []sdk.Address{{Locality: "Paris", Country: "FR", Type: "work"}},
		Custom:       map[string]string{"badge": "B-1", "level": "3"}},
	Status: sdk.StatusActive, Role: "standard", CreatedAt: time.Unix(1e9, 0), UpdatedAt: time.Unix(1e9, 0)}

// testTenant declares custom attributes of every type.
var testTenant = &sdk.Tenant{ID: "T1", Slug: "acme", Roles: []sdk.Role{{Name: "owner"}, {Name: "standard"}},
	Settings: sdk.Settings{CustomAttributes: []sdk.CustomAttribute{
		{Name: "badge", Type: sdk.CustomString}, {Name: "level", Type: sdk.CustomInteger}, {Name: "remote", Type: sdk.CustomBoolean},
		{Name: "score", Type: sdk.CustomDecimal}, {Name: "startDate", Type: sdk.CustomDateTime},
	}}}

// testSchema is the User schema of testTenant.
func testSchema() *userSchema {
	return &userSchema{slug: "acme", load: func() (*tenantInfo, error) {
		return &tenantInfo{ext: newExtension("acme", testTenant.Settings.CustomAttributes), defaultRole: "standard"}, nil
	}}
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{`userName eq "a@b.c"`, `emails[type eq "work"].value eq "x"`, `not (title pr) or meta.created gt "2026-01-01T00:00:00Z"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []filterKind{usersFilter, groupsFilter} {
			c, err := parseAndTranslate(s, kind, testSchema())
			if err != nil {
				if se := errorFor(err); se.Status != http.StatusBadRequest {
					t.Fatalf("%q: status %d (%v)", s, se.Status, err)
				}
				continue
			}
			if err := c.Validate(kind == groupsFilter); err != nil {
				t.Fatalf("%q translated to an invalid condition %v: %v", s, c, err)
			}
			_ = c.String()
			if kind == usersFilter {
				c.Match(sample)
			} else {
				c.MatchGroup(&sdk.Group{ID: "G1", DisplayName: "Eng"})
			}
		}
	})
}

// FuzzPatchApply applies arbitrary PATCH operations through the attribute
// table to a member with every kind of attribute set: the table answers
// a 400 or an edit whose profile the SDK either accepts or refuses with an
// invalid argument, never a panic or another error; the fields the edit
// names are profile fields; and the group PATCH reader does the same.
func FuzzPatchApply(f *testing.F) {
	for _, s := range []string{
		`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@b.c"}]`,
		`[{"op":"replace","value":{"active":"False","name.givenName":"x"}}]`,
		`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`,
		`[{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Lyon"}]`,
		`[{"op":"remove","path":"phoneNumbers[type eq \"mobile\"]"}]`,
		`[{"op":"add","value":{"urn:roster:params:scim:schemas:extension:acme:2.0:User:level":7}}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, paths, values, err := decodeOps(t, s)
		if err != nil {
			return
		}
		e := &edit{s: testSchema(), p: sample.Profile.Clone(), patch: true}
		for i := range names {
			if err := e.apply(names[i], paths[i], values[i]); err != nil {
				if se := errorFor(err); se.Status != http.StatusBadRequest {
					t.Fatalf("%q: status %d (%v)", s, se.Status, err)
				}
				return
			}
		}
		for _, fl := range e.mask {
			if _, custom := fl.IsCustom(); !custom && !slices.Contains(sdk.ProfileFields(), fl) {
				t.Fatalf("%q: mask names %q, not a profile field", s, fl)
			}
		}
		p := e.p.Clone()
		if err := p.Validate("fuzz", testTenant); err != nil && sdk.CodeOf(err) != sdk.CodeInvalidArgument {
			t.Fatalf("%q: profile validation failed with %v", s, err)
		} else if err != nil {
			if se := errorIn(err, "acme"); se.Status != http.StatusBadRequest || strings.Contains(se.Detail, "[") {
				t.Fatalf("%q: %v maps to %d %q", s, err, se.Status, se.Detail)
			}
		}
		_ = e.checkRoles("standard")
		_ = appendUser(nil, &sdk.Member{ID: "M1", Profile: e.p}, &userView{ext: newExtension("acme", testTenant.Settings.CustomAttributes)})
		g := &groupChange{add: map[string]bool{}, remove: map[string]bool{}}
		for i := range names {
			if err := g.apply(names[i], paths[i], values[i]); err != nil {
				if se := errorFor(err); se.Status != http.StatusBadRequest {
					t.Fatalf("%q (group): status %d (%v)", s, se.Status, err)
				}
				return
			}
		}
	})
}

// fuzzEnv is one handler on a memstore shared by the iterations of a fuzz
// target in a process: a user, a group and a token.
type fuzzEnv struct {
	h     *Handler
	token string
	user  string
	group string
}

var (
	fuzzOnce sync.Once
	fuzzE    *fuzzEnv
)

func getFuzzEnv(tb testing.TB) *fuzzEnv {
	fuzzOnce.Do(func() {
		ctx := context.Background()
		c := sdk.New(memstore.New(), sdk.WithPasswordParams(64, 1, 1))
		t, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "o@acme.test", IncludedSeats: 1 << 20,
			Settings: sdk.Settings{CustomAttributes: testTenant.Settings.CustomAttributes}})
		if err != nil {
			panic(err)
		}
		tok, _, err := c.CreateToken(ctx, sdk.SystemActor(), t.ID, "fuzz")
		if err != nil {
			panic(err)
		}
		m, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: t.ID, Email: "ann@acme.test"})
		if err != nil {
			panic(err)
		}
		g, err := c.CreateGroup(ctx, sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: t.ID, DisplayName: "Eng", Members: []string{m.ID}})
		if err != nil {
			panic(err)
		}
		fuzzE = &fuzzEnv{h: NewHandler(c, WithRateLimit(0, 0), WithLogger(discardLogger())), token: tok, user: m.ID, group: g.ID}
	})
	return fuzzE
}

func (fe *fuzzEnv) serve(method, target string, body string) *httptest.ResponseRecorder {
	path, query, _ := strings.Cut(target, "?")
	req := httptest.NewRequest(method, "http://x"+path, strings.NewReader(body))
	req.URL.RawQuery = query // as sent, however malformed
	req.Header.Set("Authorization", "Bearer "+fe.token)
	rec := httptest.NewRecorder()
	fe.h.ServeHTTP(rec, req)
	return rec
}

func checkResponse(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body)
	}
	if rec.Body.Len() > 0 && rec.Header().Get("Content-Type") != contentType {
		t.Fatalf("%s: content type %q", what, rec.Header().Get("Content-Type"))
	}
}

// FuzzPatchRequest sends arbitrary PATCH bodies to a user and a group.
func FuzzPatchRequest(f *testing.F) {
	f.Add(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		fe := getFuzzEnv(t)
		checkResponse(t, "user", fe.serve("PATCH", "/scim/v2/acme/Users/"+fe.user, body))
		checkResponse(t, "group", fe.serve("PATCH", "/scim/v2/acme/Groups/"+fe.group, body))
	})
}

// FuzzRequest sends arbitrary filters, query parameters and bodies to the
// read and create endpoints.
func FuzzRequest(f *testing.F) {
	f.Add(`userName eq "ann@acme.test"`, "attributes=userName", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test"}`)
	f.Fuzz(func(t *testing.T, filter, query, body string) {
		fe := getFuzzEnv(t)
		q := "filter=" + url.QueryEscape(filter) + "&" + query
		checkResponse(t, "list users", fe.serve("GET", "/scim/v2/acme/Users?"+q, ""))
		checkResponse(t, "list groups", fe.serve("GET", "/scim/v2/acme/Groups?"+q, ""))
		checkResponse(t, "search", fe.serve("POST", "/scim/v2/acme/Users/.search", body))
		checkResponse(t, "create user", fe.serve("POST", "/scim/v2/acme/Users", body))
		checkResponse(t, "create group", fe.serve("POST", "/scim/v2/acme/Groups", body))
		checkResponse(t, "put user", fe.serve("PUT", "/scim/v2/acme/Users/"+fe.user, body))
		checkResponse(t, "get user", fe.serve("GET", "/scim/v2/acme/Users/"+fe.user+"?"+query, ""))
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// FuzzDecodeJSON checks decodeJSON against encoding/json (with UseNumber,
// and no data after the value): both accept the same inputs and give the
// same values.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@b.c","active":true,"n":-1.5e3,"x":null}`,
		`{"a":"\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t","a":2}`,
		`[1, [2, {"k": []}], {}]  `, `"\xff"`, `01`, `{"a":1,}`, `tru`, "\"\x01\"", `1 2`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeJSON(b)
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var want any
		werr := d.Decode(&want)
		if werr == nil {
			if _, terr := d.Token(); terr != io.EOF {
				werr = errors.New("data after the value")
			}
		}
		if (err == nil) != (werr == nil) {
			if werr != nil && strings.Contains(werr.Error(), "exceeded max depth") {
				return
			}
			t.Fatalf("%q: decodeJSON error %v, encoding/json error %v", b, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decodeJSON %#v, encoding/json %#v", b, got, want)
		}
	})
}
