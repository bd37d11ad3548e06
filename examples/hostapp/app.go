// Command hostapp is a small web application that embeds Roster's SDK on
// the in-memory store. It shows the three things every host does:
//
//   - a session middleware that asks [sdk.Client.SessionValid] on every
//     request, so a force logout, deactivation or password change ends the
//     session at once;
//   - handlers that ask [sdk.Policy] what the signed-in member may do, to
//     draw the page, and let the SDK enforce the same rules on every write;
//   - an invite → accept flow with a single-use secret link;
//   - Roster's team-management screen (package ui) mounted at /team on the
//     same session, with a demo tenant and a sign-in page that lets anyone
//     act as one of its members (demo.go).
//
// Run it with `go run ./examples/hostapp` and open http://127.0.0.1:8090/;
// see README.md, and app_test.go and demo_test.go for the flows driven end
// to end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/rosterhq/roster/sdk"
)

// App is the host application.
type App struct {
	client   *sdk.Client
	mu       sync.Mutex
	sessions map[string]session

	// demoTenant is the tenant whose members the sign-in page offers
	// (NewDemoApp seeds it); docs is the host content the team screen's
	// deletions reassign. Both are unset in an App from NewApp.
	demoTenant string
	docs       *documents
}

type session struct {
	TenantID string
	MemberID string
	Epoch    int64
}

type ctxKey struct{}

// NewApp returns the application on client, with no demo tenant.
func NewApp(client *sdk.Client) *App {
	return &App{client: client, sessions: map[string]session{}, docs: newDocuments()}
}

// Handler routes the application's endpoints.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", a.signup)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /accept", a.accept)
	mux.Handle("GET /members", a.requireSession(http.HandlerFunc(a.members)))
	mux.Handle("POST /invite", a.requireSession(http.HandlerFunc(a.invite)))
	mux.Handle("POST /members/{id}/remove", a.requireSession(http.HandlerFunc(a.remove)))
	mux.Handle("POST /members/{id}/logout", a.requireSession(http.HandlerFunc(a.logout)))

	// The browser side: the demo sign-in and the team screen. The sign-in
	// forms are refused when another site posts them.
	forms := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /{$}", a.signInForm)
	mux.Handle("POST /signin", forms.Handler(http.HandlerFunc(a.demoSignIn)))
	mux.Handle("POST /signout", forms.Handler(http.HandlerFunc(a.demoSignOut)))
	mux.HandleFunc("GET /accept", a.acceptForm)
	mux.Handle("POST /join", forms.Handler(http.HandlerFunc(a.join)))
	mux.Handle("/team/", a.mountTeam())
	return mux
}

// requireSession admits a request only while its session is still valid:
// the member exists, is active and has not been logged out since sign-in.
func (a *App) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, known, err := a.session(r)
		if err != nil {
			msg := "sign in first"
			if known {
				msg = "your session ended; sign in again"
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	})
}

// errNoSession is session's answer for a request without a valid session.
var errNoSession = errors.New("no valid session")

// session returns the request's session while it is valid. known reports
// whether the request named a session this app started, which a force
// logout, deactivation or removal may since have ended (it is then
// forgotten).
func (a *App) session(r *http.Request) (s session, known bool, err error) {
	c, err := r.Cookie("sid")
	if err != nil {
		return session{}, false, errNoSession
	}
	a.mu.Lock()
	s, ok := a.sessions[c.Value]
	a.mu.Unlock()
	if !ok {
		return session{}, false, errNoSession
	}
	valid, err := a.client.SessionValid(r.Context(), s.TenantID, s.MemberID, s.Epoch)
	if err != nil || !valid {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
		return session{}, true, errNoSession
	}
	return s, true, nil
}

// endSession forgets the request's session and tells the browser to drop
// its cookie.
func (a *App) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie("sid"); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: "", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Path: "/"})
}

func current(r *http.Request) session { return r.Context().Value(ctxKey{}).(session) }

func (a *App) startSession(w http.ResponseWriter, in *sdk.SignIn) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	a.mu.Lock()
	a.sessions[id] = session{TenantID: in.Member.TenantID, MemberID: in.Member.ID, Epoch: in.SessionEpoch}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: id, HttpOnly: true, SameSite: http.SameSiteLaxMode, Path: "/"})
}

func (a *App) signup(w http.ResponseWriter, r *http.Request) {
	var in struct{ Slug, Email, Password string }
	if !readJSON(w, r, &in) {
		return
	}
	if err := sdk.CheckPassword(in.Password); err != nil {
		writeSDKError(w, err)
		return
	}
	t, owner, err := a.client.CreateTenant(r.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: in.Slug, OwnerEmail: in.Email, IncludedSeats: 5})
	if err != nil {
		writeSDKError(w, err)
		return
	}
	if _, err := a.client.SetPassword(r.Context(), sdk.MemberActor(owner.ID), t.ID, owner.ID, in.Password); err != nil {
		writeSDKError(w, err)
		return
	}
	a.signIn(w, r, t.ID, in.Email, in.Password)
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Slug, Email, Password string }
	if !readJSON(w, r, &in) {
		return
	}
	t, err := a.client.TenantBySlug(r.Context(), in.Slug)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "wrong email or password")
		return
	}
	a.signIn(w, r, t.ID, in.Email, in.Password)
}

func (a *App) signIn(w http.ResponseWriter, r *http.Request, tenantID, email, password string) {
	in, err := a.client.VerifyPassword(r.Context(), tenantID, email, password)
	if err != nil {
		writeSDKError(w, err)
		return
	}
	a.startSession(w, in)
	writeJSON(w, http.StatusOK, map[string]any{"memberId": in.Member.ID, "tenantId": tenantID, "mfaEnrollmentRequired": in.MFAEnrollmentRequired})
}

// members lists the team with, for each row, whether the signed-in member
// may remove them: one policy load, no I/O per row.
func (a *App) members(w http.ResponseWriter, r *http.Request) {
	s := current(r)
	page, err := a.client.ListMembers(r.Context(), s.TenantID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{Cursor: r.URL.Query().Get("cursor")}})
	if err != nil {
		writeSDKError(w, err)
		return
	}
	policy, err := a.client.Policy(r.Context(), sdk.MemberActor(s.MemberID), s.TenantID)
	if err != nil {
		writeSDKError(w, err)
		return
	}
	canRemove := policy.CheckAll(nil, sdk.ActionRemove, page.Items)
	type row struct {
		ID, Email, Role, Status string
		CanRemove               bool
	}
	rows := make([]row, len(page.Items))
	for i, m := range page.Items {
		rows[i] = row{m.ID, m.Email, m.Role, string(m.Status), canRemove[i].Allowed}
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": rows, "next": page.NextCursor, "canInvite": policy.Allowed(sdk.ActionInviteMember, nil)})
}

func (a *App) invite(w http.ResponseWriter, r *http.Request) {
	s := current(r)
	var in struct{ Email, Role string }
	if !readJSON(w, r, &in) {
		return
	}
	res, err := a.client.Invite(r.Context(), sdk.MemberActor(s.MemberID), sdk.InviteRequest{TenantID: s.TenantID, Email: in.Email, Role: in.Role})
	if err != nil {
		writeSDKError(w, err)
		return
	}
	// A real host emails this link; the secret is never stored.
	writeJSON(w, http.StatusCreated, map[string]string{"acceptLink": "/accept?secret=" + res.Secret, "secret": res.Secret})
}

func (a *App) accept(w http.ResponseWriter, r *http.Request) {
	var in struct{ Secret, GivenName, Password string }
	if !readJSON(w, r, &in) {
		return
	}
	m, err := a.client.Accept(r.Context(), sdk.AcceptRequest{Secret: in.Secret, GivenName: in.GivenName, Password: in.Password})
	if err != nil {
		writeSDKError(w, err)
		return
	}
	a.startSession(w, &sdk.SignIn{Member: m, SessionEpoch: m.SessionEpoch})
	writeJSON(w, http.StatusOK, map[string]string{"memberId": m.ID})
}

func (a *App) remove(w http.ResponseWriter, r *http.Request) {
	s := current(r)
	if err := a.client.RemoveMember(r.Context(), sdk.MemberActor(s.MemberID), s.TenantID, r.PathValue("id")); err != nil {
		writeSDKError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	s := current(r)
	if _, err := a.client.ForceLogout(r.Context(), sdk.MemberActor(s.MemberID), s.TenantID, r.PathValue("id")); err != nil {
		writeSDKError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeSDKError maps an SDK error to a status by its code and shows the
// stable reason, which a UI can switch on.
func writeSDKError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, sdk.ErrInvalidArgument):
		status = http.StatusBadRequest
	case errors.Is(err, sdk.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, sdk.ErrAlreadyExists):
		status = http.StatusConflict
	case errors.Is(err, sdk.ErrPermissionDenied):
		status = http.StatusForbidden
	case errors.Is(err, sdk.ErrFailedPrecondition):
		status = http.StatusConflict
	case errors.Is(err, sdk.ErrResourceExhausted):
		status = http.StatusPaymentRequired
	case errors.Is(err, sdk.ErrUnauthenticated):
		status = http.StatusUnauthorized
	}
	msg := "internal error"
	var se *sdk.Error
	if errors.As(err, &se) && status != http.StatusInternalServerError {
		msg = se.Message
	}
	writeJSON(w, status, map[string]string{"error": msg, "reason": string(sdk.ReasonOf(err))})
}
