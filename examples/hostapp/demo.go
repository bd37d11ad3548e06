package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/ui"
)

// The demo: a tenant seeded at start, a sign-in page that lets anyone act
// as any of its active members (a real host signs in with a password, SSO
// or a magic link, then starts the same session), and the team screen of
// package ui mounted at /team on that session.

// demoSeats is the demo tenant's plan.
const demoSeats = 10

// demoPeople are the demo tenant's members, the owner first; invited is
// left pending.
var demoPeople = []struct {
	given, family, email, role string
	documents                  int
	invited                    bool
}{
	{"Ada", "Lovelace", "ada@acme.test", "owner", 4, false},
	{"Grace", "Hopper", "grace@acme.test", "admin", 3, false},
	{"Alan", "Turing", "alan@acme.test", "standard", 5, false},
	{"Katherine", "Johnson", "katherine@acme.test", "standard", 2, false},
	{"Margaret", "Hamilton", "margaret@acme.test", "standard", 1, false},
	{"Edsger", "Dijkstra", "edsger@acme.test", "standard", 0, true},
}

// documents stands for what members own in the host application. It is
// the client's [sdk.Reassigner]: deleting a member on the team screen moves
// their documents to the member chosen there before the member goes.
type documents struct {
	mu    sync.Mutex
	owned map[string]int // member id → documents
}

func newDocuments() *documents { return &documents{owned: map[string]int{}} }

// Reassign moves from's documents to to. A second call for the same pair
// finds nothing left to move, as [sdk.Reassigner] requires.
func (d *documents) Reassign(_ context.Context, _, from, to string) (sdk.ReassignResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.owned[from]
	delete(d.owned, from)
	d.owned[to] += n
	return sdk.ReassignResult{Reassigned: map[string]int{"documents": n}}, nil
}

func (d *documents) count(memberID string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.owned[memberID]
}

func (d *documents) set(memberID string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.owned[memberID] = n
}

// NewDemoApp returns the host application on store with the demo tenant
// "acme" seeded: an owner, an admin, three standard members and a pending
// invitation, on a plan of ten seats.
func NewDemoApp(ctx context.Context, store sdk.Store, opts ...sdk.Option) (*App, error) {
	docs := newDocuments()
	client := sdk.New(store, append([]sdk.Option{sdk.WithReassigner(docs)}, opts...)...)
	a := NewApp(client)
	a.docs = docs
	owner := demoPeople[0]
	t, o, err := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", Name: "Acme", IncludedSeats: demoSeats,
		OwnerEmail: owner.email, OwnerGivenName: owner.given, OwnerFamilyName: owner.family,
	})
	if err != nil {
		return nil, fmt.Errorf("seeding the demo tenant: %w", err)
	}
	docs.set(o.ID, owner.documents)
	by := sdk.MemberActor(o.ID)
	for _, p := range demoPeople[1:] {
		var m *sdk.Member
		if p.invited {
			res, err := client.Invite(ctx, by, sdk.InviteRequest{TenantID: t.ID, Email: p.email, Role: p.role, GivenName: p.given, FamilyName: p.family})
			if err != nil {
				return nil, fmt.Errorf("seeding the invitation of %s: %w", p.email, err)
			}
			m = res.Member
		} else {
			m, err = client.AddMember(ctx, by, sdk.AddMemberRequest{
				TenantID: t.ID, Email: p.email, Role: p.role,
				Profile: sdk.Profile{GivenName: p.given, FamilyName: p.family},
			})
			if err != nil {
				return nil, fmt.Errorf("seeding %s: %w", p.email, err)
			}
		}
		docs.set(m.ID, p.documents)
	}
	a.demoTenant = t.ID
	return a, nil
}

// mountTeam returns the team screen mounted at /team, on the host's
// session: the screen asks identify who acts, sends a browser without a
// session to the sign-in page, and drops the session cookie when the
// member signs out everywhere.
func (a *App) mountTeam() http.Handler {
	return ui.New("/team", a.client, a.identify,
		ui.WithSignInURL("/"),
		ui.WithSignOutHook(func(w http.ResponseWriter, r *http.Request) { a.endSession(w, r) }),
	)
}

// identify is the team screen's [ui.IdentifyFunc]: the member of the
// request's session, while the session is valid.
func (a *App) identify(r *http.Request) (ui.Identity, error) {
	s, _, err := a.session(r)
	if err != nil {
		return ui.Identity{}, ui.ErrSignedOut
	}
	return ui.Identity{TenantID: s.TenantID, MemberID: s.MemberID}, nil
}

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Roster demo — sign in</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #dde}
button{font:inherit;padding:.3rem .8rem;cursor:pointer}
.note{color:#556}
</style></head>
<body>
<h1>Roster demo</h1>
{{if .Current}}<p id="current">Signed in as <strong>{{.Current.Name}}</strong> ({{.Current.Role}}).
<a href="/team/">Open the team screen</a>.</p>
<form method="post" action="/signout"><button type="submit" id="signout">Sign out</button></form>
{{end}}
{{if .TenantName}}
<p class="note">A host application signs its users in its own way, then mounts Roster's team screen at
<code>/team</code>. Here anyone may sign in as a member of <strong>{{.TenantName}}</strong>; the team
screen shows what that member's role allows.</p>
<table id="people">
<thead><tr><th>Member</th><th>Role</th><th>Status</th><th>Documents</th><th></th></tr></thead>
<tbody>
{{range .People}}<tr data-member-id="{{.ID}}">
<td>{{.Name}}<br><small>{{.Email}}</small></td><td>{{.Role}}</td><td>{{.Status}}</td><td>{{.Documents}}</td>
<td>{{if .CanSignIn}}<form method="post" action="/signin"><input type="hidden" name="member" value="{{.ID}}"><input type="hidden" name="next" value="{{$.Next}}"><button type="submit">Sign in as {{.Given}}</button></form>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
<p class="note">Documents stand for what members own in the host: deleting a member on the team screen
moves theirs to the member you choose.</p>
{{else}}
<p>No demo tenant: start the application with <code>go run ./examples/hostapp</code>.</p>
{{end}}
</body></html>
`))

type signInPerson struct {
	ID, Name, Given, Email, Role string
	Status                       sdk.Status
	Documents                    int
	CanSignIn                    bool
}

// signInForm lists the demo tenant's members, with a "Sign in as" button
// for each active one.
func (a *App) signInForm(w http.ResponseWriter, r *http.Request) {
	data := struct {
		TenantName string
		People     []signInPerson
		Current    *sdk.Member
		Next       string
	}{Next: teamPath(r.URL.Query().Get("next"))}
	if s, _, err := a.session(r); err == nil {
		data.Current, _ = a.client.Member(r.Context(), s.TenantID, s.MemberID)
	}
	if a.demoTenant != "" {
		t, err := a.client.Tenant(r.Context(), a.demoTenant)
		if err != nil {
			http.Error(w, "the demo tenant is gone", http.StatusInternalServerError)
			return
		}
		data.TenantName = t.Name
		for cursor := ""; ; {
			page, err := a.client.ListMembers(r.Context(), t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{Cursor: cursor}})
			if err != nil {
				http.Error(w, "listing the demo members failed", http.StatusInternalServerError)
				return
			}
			for _, m := range page.Items {
				data.People = append(data.People, signInPerson{
					ID: m.ID, Name: m.Name(), Given: cmpOr(m.GivenName, m.Email), Email: m.Email, Role: m.Role, Status: m.Status,
					Documents: a.docs.count(m.ID), CanSignIn: m.Status == sdk.StatusActive,
				})
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		// The owner first, then by role rank, then by name.
		slices.SortStableFunc(data.People, func(x, y signInPerson) int {
			if rx, ry := roleRank(t, x.Role), roleRank(t, y.Role); rx != ry {
				return ry - rx
			}
			return strings.Compare(x.Name, y.Name)
		})
	}
	render(w, http.StatusOK, signInPage, data)
}

// render draws a page, never cached: it shows who is signed in, or a
// secret.
func render(w http.ResponseWriter, status int, page *template.Template, data any) {
	var b strings.Builder
	if err := page.Execute(&b, data); err != nil {
		log.Printf("hostapp: drawing %s: %v", page.Name(), err)
		http.Error(w, "drawing the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func roleRank(t *sdk.Tenant, role string) int {
	if r := t.Role(role); r != nil {
		return r.Rank
	}
	return -1
}

func cmpOr(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

// teamPath returns next when it is a page of the team screen, else the
// screen's members list: the sign-in sends the browser back where the
// screen was asked for, never to another site.
func teamPath(next string) string {
	if strings.HasPrefix(next, "/team/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/team/"
}

// demoSignIn starts a session for an active member of the demo tenant and
// sends the browser to the team screen (or the page of it asked for).
func (a *App) demoSignIn(w http.ResponseWriter, r *http.Request) {
	if a.demoTenant == "" {
		http.Error(w, "no demo tenant", http.StatusNotFound)
		return
	}
	m, err := a.client.Member(r.Context(), a.demoTenant, r.PostFormValue("member"))
	if err != nil || m.Status != sdk.StatusActive {
		http.Error(w, "only an active member of the demo tenant can sign in", http.StatusForbidden)
		return
	}
	a.startSession(w, &sdk.SignIn{Member: m, SessionEpoch: m.SessionEpoch})
	http.Redirect(w, r, teamPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// demoSignOut ends the request's session and returns to the sign-in page.
func (a *App) demoSignOut(w http.ResponseWriter, r *http.Request) {
	a.endSession(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var acceptPage = template.Must(template.New("accept").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Roster demo — join the team</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
label{display:block;margin:.6rem 0 .2rem}input{font:inherit;width:100%}button{font:inherit;margin-top:1rem;padding:.3rem .8rem}</style></head>
<body>
<h1>Join the team</h1>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/join">
<input type="hidden" name="secret" value="{{.Secret}}">
<label for="given">Given name</label><input id="given" name="given" value="{{.Given}}" autocomplete="given-name">
<label for="family">Family name</label><input id="family" name="family" value="{{.Family}}" autocomplete="family-name">
<button type="submit">Join</button>
</form>
<p><a href="/">Back to the sign-in page</a></p>
</body></html>
`))

type acceptData struct{ Secret, Given, Family, Error string }

// acceptForm is where an invitation link leads (the team screen shows
// links to /accept?secret=…): the invitee gives their name and joins.
func (a *App) acceptForm(w http.ResponseWriter, r *http.Request) {
	a.drawAccept(w, http.StatusOK, acceptData{Secret: r.URL.Query().Get("secret")})
}

func (a *App) drawAccept(w http.ResponseWriter, status int, data acceptData) {
	// The page holds the secret: it must not leak in a Referer.
	w.Header().Set("Referrer-Policy", "no-referrer")
	render(w, status, acceptPage, data)
}

// join accepts an invitation from the accept page's form and signs the new
// member in, as POST /accept does for the JSON API.
func (a *App) join(w http.ResponseWriter, r *http.Request) {
	data := acceptData{Secret: r.PostFormValue("secret"), Given: r.PostFormValue("given"), Family: r.PostFormValue("family")}
	m, err := a.client.Accept(r.Context(), sdk.AcceptRequest{Secret: data.Secret, GivenName: data.Given, FamilyName: data.Family})
	if err != nil {
		// The SDK's message says why (used, revoked, expired, replaced by
		// a newer link); a failure it does not explain stays in the log.
		data.Error = "Joining failed; try again."
		status := http.StatusInternalServerError
		var se *sdk.Error
		if errors.As(err, &se) && sdk.CodeOf(err) != sdk.CodeUnknown {
			data.Error, status = "This invitation cannot be accepted: "+se.Message+".", http.StatusConflict
		} else {
			log.Printf("hostapp: accepting an invitation: %v", err)
		}
		a.drawAccept(w, status, data)
		return
	}
	a.startSession(w, &sdk.SignIn{Member: m, SessionEpoch: m.SessionEpoch})
	http.Redirect(w, r, "/team/", http.StatusSeeOther)
}
