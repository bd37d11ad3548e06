// Package ui is Roster's team-management screen: an [http.Handler] a host
// application mounts in one line, at any prefix, beside its own routes:
//
//	mux.Handle("/team/", ui.New("/team", client, identify))
//
// client is the host's [*sdk.Client]; identify tells, for a request, which
// member of which tenant is acting — the host keeps sign-in and sessions,
// the screen never sees a password or a session cookie.
//
// The screen lists the tenant's members (filters by status and role, a
// search by name or email, cursor paging, the seats summary), adds and
// invites members (an invitation link is shown once, in the response that
// created it, and never again), edits profiles and roles, deactivates,
// reactivates, forces a logout, deletes with the reassignment the host's
// [sdk.Reassigner] performs, runs bulk deletes, logouts and role changes
// with a result per member, transfers ownership, buys and removes extra
// seats, and reads the audit log.
//
// Every control is drawn only when the SDK's policy allows it: a page loads
// the tenant and its members once and asks [sdk.Policy] about every row
// (a page of 50 members costs one members read and one tenant read, plus
// the acting member's read when they are not on the page). Every form is
// checked again by the SDK when submitted; a refusal shows the reason's
// human message. The package re-checks no rule itself.
//
// Pages are rendered on the server with html/template and work without
// JavaScript; a small script (no build step, embedded like the style
// sheet) selects rows in bulk and asks for confirmations in a dialog.
// Every form carries a CSRF token bound to the acting member, and
// cross-origin POSTs are refused. The package sets no cookie.
//
// Messages come in English and French: [WithLanguage] fixes the language,
// otherwise it follows the request's Accept-Language.
//
// Package ui imports only sdk and the standard library; sdk does not import
// it, and neither do the scim endpoint or the roster command.
package ui
