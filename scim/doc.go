// Package scim is Roster's SCIM 2.0 provisioning endpoint (RFC 7643, RFC
// 7644): identity providers such as Okta and Microsoft Entra ID create,
// update, deactivate and delete a tenant's members (SCIM Users) and groups
// (SCIM Groups) through it.
//
// It sits between HTTP and the SDK and holds no rule of its own:
//
//	cmd/roster ──► scim ──► sdk ◄── mongo
//	                 └► elimity-com/scim, gorilla/mux
//
// Every change is an [sdk.Client] call made with the SCIM token as the
// actor ([sdk.TokenActor]), so seat limits, owner protection, uniqueness,
// policy and the audit log (channel "scim") apply exactly as for any other
// caller. The package never talks to the store.
//
// # Mounting
//
// One [Handler] serves every tenant under {prefix}/{tenant slug}, prefix
// "/scim/v2" by default:
//
//	http.Handle("/scim/v2/", scim.NewHandler(client, scim.WithLogger(log)))
//
// A tenant's base URL for an identity provider is then
// https://host/scim/v2/{slug}, with a bearer token from
// [sdk.Client.CreateToken] (`roster token create`). A token is valid for
// its own tenant only; an unknown tenant and a bad token both get 401.
//
// # Endpoints
//
// Users and Groups (GET, POST, PUT, PATCH, DELETE, POST …/.search),
// ServiceProviderConfig, Schemas and ResourceTypes (RFC 7644 §3.2–§3.6,
// §4). Bulk (§3.7), /Me (§3.11) and root queries answer 501; a wrong method
// answers 405 with an Allow header. Every response, errors included, is
// application/scim+json, and errors carry the RFC 7644 §3.12 body.
//
// # Users
//
// A User is a member. Stored attributes: userName (the member's email — a
// userName must be an email address, unique in the tenant case-insensitively,
// 409 uniqueness otherwise), emails (the same single address, type "work",
// primary; a change of the primary or work email changes userName too),
// name.givenName, name.familyName, displayName, title, externalId, active,
// the enterprise extension's department and manager (RFC 7643 §4.3;
// manager.value is a member id), roles (read only: the member's role) and
// groups (read only, RFC 7643 §4.1.2). Other attributes of the schema
// (phoneNumbers, addresses, locale, …) are accepted and ignored (RFC 7644
// §3.3). The password is set through [sdk.Client.SetPassword] (Roster's
// password policy applies; a new password ends the member's sessions) when
// the store keeps credentials, ignored otherwise, and never returned; a PUT
// that repeats the current password, as Okta's do, changes nothing.
//
// active=false deactivates the member (which logs them out), active=true
// reactivates them, DELETE removes them (what they own is reassigned to the
// owner by the SDK) and takes them out of every group. The owner cannot be
// deactivated, deleted or changed through SCIM: the answer is a 403 telling
// the admin to transfer ownership first. A refusal for the seat limit is a
// 403 whose detail says the seat limit is reached.
//
// # Groups
//
// A Group is an [sdk.Group]: displayName (unique per tenant,
// case-insensitively), externalId and members. Membership is stored per
// (group, member) edge: adding or removing a member costs the
// same whatever the size of the group, a full replacement (PUT, or PATCH
// replace of members) writes only the difference in batches, and GET streams
// members page by page, so a 100k-member group is never held in memory.
// An unknown member in a POST, PUT or PATCH is a 400 naming it, and nothing
// is written. PATCH answers 204 (RFC 7644 §3.5.2). A tenant can map groups
// to roles ([sdk.Client.SetGroupRole]); the SDK then keeps members' roles in
// step with their groups.
//
// # What identity providers really send
//
// RFC 7644 is followed, and so are the deviations Okta and Entra ID are known
// for: op in any case ("Replace"); string booleans ("False"); PATCH without
// path whose value has dotted keys ("name.givenName") and URN-prefixed keys;
// members[value eq "…"] removal and removal by a value list; "$ref": null;
// emails[type eq "work"].value as a path, which creates the entry when it
// is missing; the manager as a bare id (and enterprise attributes without
// their URN in a path); an id inside a PATCH value; full PUT including
// password and groups (groups ignored, being read only); and Entra's filter
// emails[type eq "work"].value eq "…", which the RFC grammar does not allow
// and which is read as emails[type eq "work" and value eq "…"].
//
// # Filters, paging and projection
//
// Filters (RFC 7644 §3.4.2.2) support every operator, and, or, not,
// parentheses and value paths. This package parses them (parse.go) into
// the AST of github.com/scim2/filter-parser, the parser elimity uses —
// whose own cost, hundreds of microseconds per filter and growing steeply
// with nesting, would dominate a GET by userName — and translates them into
// the SDK's store-independent AST ([sdk.Cond]), which
// the store turns into a query: userName comparisons use the stored
// lower-cased email key (SCIM's userName is case-insensitive) rather than a
// collation, and "userName eq", "id eq" and "externalId eq" are one indexed
// read. Comparisons on attributes Roster does not store treat them as
// absent; attributes outside the schema and unsupported combinations (such
// as ordering a case-insensitive name) are 400 invalidFilter.
//
// Lists are in a stable order (creation), totalResults is exact (a count
// with the same filter), Resources is never null, and count is capped at
// the server's maximum. SCIM pages by position (startIndex) while the
// stores page by range on the id, so that a page costs the same at any
// depth and writes between pages neither repeat nor skip members; a cache
// maps "the page after this one" to the store's cursor, which is exactly
// how Okta and Entra ID walk a list. A position the cache does not know is
// reached once by walking the list in pages of 1000 (its cost grows with
// the position) and then cached. sortBy is ignored (ServiceProviderConfig
// says sorting is unsupported). attributes and excludedAttributes (RFC 7644
// §3.9) apply to every response that returns resources.
//
// # Versions
//
// Every resource has a version (meta.version and an ETag header, weak,
// RFC 7644 §3.14). PUT, PATCH and DELETE honour If-Match (412 when it does
// not match) and GET honours If-None-Match (304). A group's version counts
// membership changes too.
//
// # Limits
//
// Request bodies are capped ([WithMaxBodyBytes], 413), each token has a
// rate limit ([WithRateLimit], 429 with Retry-After), and bad input —
// malformed JSON, wrong types, unknown schemas, filter syntax errors, bad
// paths, invalid UTF-8 — is a 400 with a SCIM error and changes nothing.
// Successful token checks are cached for [WithAuthCacheTTL] (10 s), so a
// revoked token may keep working that long on a running server.
//
// # How elimity-com/scim is used
//
// POST, PUT and DELETE and the Schemas and ResourceTypes endpoints go
// through elimity's server, which validates bodies against the User,
// enterprise User and Group schemas (its definitions of RFC 7643 §4 and
// §8.7.1) before calling this package's resource callbacks. Around it, this
// package supplies what elimity does not, or gets in the way of: routing
// with gorilla/mux (elimity answers 404 for a wrong method),
// authentication, rate limiting and the body cap (elimity ignores read
// errors), the normalisation of identity-provider quirks before validation,
// If-Match, and ServiceProviderConfig (elimity's says ETags and sorting are
// unsupported). Filters and PATCH paths are parsed by this package
// (parse.go): elimity's parser costs most of a request and grows steeply
// with nesting. So PATCH requests (RFC 7644 §3.5.2) are read and applied
// here, and reads — lists, searches and GET by id — are served directly,
// because they also need cursor paging, streamed group members, exact
// itemsPerPage, projection, If-None-Match and the Entra filter form.
package scim
