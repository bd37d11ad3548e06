package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/ui"
)

// A host mounts the screen under a prefix of its own mux. identify is the
// host's sign-in: here a header stands in for the host's session.
func ExampleNew() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, err := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 10,
	})
	if err != nil {
		panic(err)
	}
	identify := func(r *http.Request) (ui.Identity, error) {
		if r.Header.Get("X-Session-Member") == "" {
			return ui.Identity{}, ui.ErrSignedOut
		}
		return ui.Identity{TenantID: tenant.ID, MemberID: r.Header.Get("X-Session-Member")}, nil
	}

	mux := http.NewServeMux()
	mux.Handle("/team/", ui.New("/team", client, identify))

	req := httptest.NewRequest(http.MethodGet, "/team/", nil)
	req.Header.Set("X-Session-Member", owner.ID)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code, regexp.MustCompile(`<p id="seats">([^<]*)</p>`).FindStringSubmatch(w.Body.String())[1])

	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/team/", nil))
	fmt.Println(w.Code)
	// Output:
	// 200 1 of 10 seats used
	// 401
}
