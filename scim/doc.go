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
// Every change is one [sdk.Client] call made with the SCIM token as the
// actor ([sdk.TokenActor]), so seat limits, owner protection, uniqueness,
// password rules, policy and the audit log (channel "scim") apply exactly
// as for any other caller. The package never talks to the store and never
// sequences SDK calls to make one change.
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
// # The attribute table
//
// A User is a member: its attributes are the member's [sdk.Profile], its
// status, role and groups. One table (attrs.go) lists every attribute
// Roster keeps — SCIM name, schema, type, multi-valued, sub-attributes,
// caseExact, mutability, returned, uniqueness, and the [sdk.Field] and
// profile accessor it maps to — and everything else walks it: reading
// POST and PUT bodies and PATCH paths and values (edit.go, resolve.go),
// projection and rendering (render.go), filters (filter.go) and /Schemas
// (schema.go). /Schemas lists exactly the table (RFC 7643 §7); adding an
// attribute means adding it to the profile, the table and the stores.
//
// What each attribute an identity provider sends becomes (RFC 7643 §4.1,
// §4.3; Okta's and Entra ID's default mappings in brackets):
//
//	userName                     Profile.UserName: unique in the tenant case-insensitively, may differ from the
//	                             email [Okta: the login, usually the email; Entra: userPrincipalName]
//	name.formatted … honorificSuffix  FormattedName, FamilyName, GivenName, MiddleName, HonorificPrefix, HonorificSuffix
//	displayName, nickName, profileUrl, title, userType, preferredLanguage, locale, timezone
//	                             the profile fields of the same names
//	emails[]                     Emails, every item in order: value, type, display, primary. The member's email —
//	                             what seats, uniqueness and invitations use — is the primary one, else the first
//	                             of type "work", else an email-shaped userName [Entra: mail → emails[type eq "work"]]
//	phoneNumbers[]               PhoneNumbers: value, type, display, primary [Entra: telephoneNumber, mobile,
//	                             facsimileTelephoneNumber → phoneNumbers[type eq "work"|"mobile"|"fax"]]
//	addresses[]                  Addresses: formatted, streetAddress, locality, region, postalCode, country, type,
//	                             primary [Entra: physicalDeliveryOfficeName, streetAddress, city, state, postalCode,
//	                             country → addresses[type eq "work"].…]
//	externalId                   ExternalID, unique in the tenant when set [Okta: the Okta user id; Entra: objectId]
//	active                       the member's status: false deactivates (and ends every session), true reactivates
//	password                     the member's password (write-only, RFC 7643 §4.1.1); from a SCIM token it needs
//	                             8 characters (the provider's policy governs it); the current password again
//	                             changes nothing
//	enterprise employeeNumber, costCenter, organization, division, department
//	                             the profile fields of the same names [Entra: employeeId → employeeNumber]
//	enterprise manager           ManagerID: manager.value is a member id; $ref is derived; a bare id or a list of one
//	                             object is read as the value (Entra sends both)
//	urn:roster:params:scim:schemas:extension:{slug}:2.0:User:{name}
//	                             the tenant's custom attributes ([sdk.Settings.CustomAttributes]), typed as
//	                             declared (string, boolean, integer, decimal, dateTime); listed in /Schemas and
//	                             /ResourceTypes when the tenant declares any
//	roles[]                      read-only in effect: the member's role comes from group-to-role mappings (else
//	                             the tenant's default role); a request may only repeat the current role, as a
//	                             GET returns it (an empty list is fine), else 400
//	groups[], id, meta           read-only: ignored in requests (RFC 7643 §2.2); groups change through /Groups
//	ims, photos, entitlements, x509Certificates
//	                             not stored: a request that sets one is refused with a 400 naming it, never
//	                             answered 2xx and dropped
//
// Values are kept exactly as sent — case, Unicode, the order of
// multi-valued items — and returned as kept, so an identity provider reads
// back what it wrote; empty values are unassigned and omitted (RFC 7643
// §2.5). Booleans come back as true/false; "primary": false is omitted.
//
// # Writes
//
// POST /Users (RFC 7644 §3.3) is one [sdk.Client.AddMember] with the whole
// profile, the status (active=false creates a deactivated member) and the
// password, written together. PUT (§3.5.1) replaces every profile
// attribute — absent ones are cleared — and changes active and password
// only when sent: one [sdk.Client.UpdateMember] naming every profile field.
// PATCH (§3.5.2) is one [sdk.Client.UpdateMember] whose Edit applies the
// operations in order to the member as the SDK reads it (again on every
// attempt, so a write that races in between is never overwritten), with
// the status and password they set: the SDK decides policy once and
// writes once, conditionally, with one audit event, so a PATCH that both
// reactivates and sets a taken userName is refused whole (409) and leaves
// the member deactivated. DELETE (§3.6) is [sdk.Client.RemoveMember].
//
// Bad input — a value of the wrong type, a multi-valued item without a
// value, two primary items, an unknown attribute or sub-attribute, an
// over-long value, an email that is not an address, a user without any
// email — is a 400 whose detail names the attribute as the client wrote
// it (the SDK's field names are mapped back through the table, items
// counted from 1: "emails.value (item 2)"), and nothing is written.
//
// # What identity providers really send
//
// RFC 7644 is followed, and so are the deviations Okta and Entra ID are
// known for: op in any case ("Replace"); string booleans ("False");
// PATCH without a path whose value has dotted keys ("name.givenName"),
// URN-qualified keys ("urn:…:enterprise:2.0:User:department") and even
// filtered paths as keys; enterprise attributes without their URN
// ("manager"); filtered paths such as emails[type eq "work"].value,
// phoneNumbers[type eq "mobile"].value and addresses[type eq
// "work"].locality, which create the item from the filter's equalities when
// none matches (§3.5.2.1 leaves this open; Entra expects it); remove with a
// value filter, which removes only the matching items, and remove of a
// sub-attribute that empties an address, which removes the address;
// setting primary on one item clears it on the others (§3.5.2); members
// removed by a filter (Okta) or by a value list (Entra); "$ref": null; the
// manager as a bare id; full PUT with password, groups and meta; Entra's
// extra group schema URN
// (http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group;
// other unknown schema URNs are refused); and Entra's filter
// emails[type eq "work"].value eq "…", which the RFC grammar does not allow
// and which is read as emails[type eq "work" and value eq "…"].
//
// # Filters, paging and projection
//
// Filters (RFC 7644 §3.4.2.2) support every operator, and, or, not,
// parentheses and value paths, on every stored attribute. This package
// parses them (parse.go) into the AST of github.com/scim2/filter-parser
// and translates them through the table into the SDK's store-independent
// AST ([sdk.Cond]), which the store turns into a query: a value path is
// [sdk.OpSome] (one and the same item satisfies the whole filter), a
// multi-valued attribute compared without a sub-attribute compares its
// value (§3.4.2.2), and comparisons follow the SDK's case rules (userName
// and email compare their normalised keys). "userName eq", "id eq" and
// "externalId eq" are one indexed read; other filters (emails.value,
// employeeNumber, phoneNumbers, addresses, custom attributes, …) are
// answered by the store's query, which may scan the tenant's members.
// Custom attributes compare their canonical text, so only string ones take
// ordering and substring operators. Attributes outside the schemas and
// unsupported combinations (such as ordering a case-insensitive name) are
// 400 invalidFilter.
//
// Lists are in a stable order (creation), totalResults is exact (a count
// with the same filter), Resources is never null, and count is capped at
// the server's maximum. SCIM pages by position (startIndex), and so do the
// SDK and the stores ([sdk.MemberSearch.Offset]): the store skips to the
// position in its (tenant, id) index, so paging is stateless — any server
// answers any page of a walk, as a round-robin load balancer deals them
// out to Okta or Entra ID — and a page costs 2 store commands whatever its
// startIndex: one list and one count (count=0: the count alone). A Users
// page returning groups costs one more, for the members' group ids, unless
// the store keeps them on the member. A member added or removed before a
// position between two pages shifts the positions after it, as positional
// paging does by nature. sortBy is ignored (ServiceProviderConfig
// says sorting is unsupported). attributes and excludedAttributes (RFC 7644
// §3.9) apply to every response that returns resources, sub-attributes and
// whole extension schemas included; id and schemas are always returned.
//
// # Versions
//
// Every resource has a version (meta.version and an ETag header, weak,
// RFC 7644 §3.14). PUT, PATCH and DELETE honour If-Match (412 when it does
// not match; PUT and PATCH pass it to the SDK as the expected version) and
// GET honours If-None-Match (304). A group's version counts membership
// changes too.
//
// # Limits
//
// Request bodies are capped ([WithMaxBodyBytes], 413), each token has a
// rate limit ([WithRateLimit], 429 with Retry-After), and bad input —
// malformed JSON, wrong types, unknown schemas, filter syntax errors, bad
// paths, invalid UTF-8 — is a 400 with a SCIM error and changes nothing.
// Successful token checks are cached for [WithAuthCacheTTL] (10 s), so a
// revoked token may keep working that long on a running server. A
// tenant's custom attribute declarations come from the SDK's tenant
// snapshot ([sdk.Client.RecentTenant]) and are kept for
// [sdk.MemberSnapshotMaxAge], so a newly declared attribute is accepted
// within that time.
//
// # How elimity-com/scim is used
//
// Group writes (POST, PUT, DELETE /Groups) go through elimity's server,
// which validates bodies against its Group schema (RFC 7643 §4.2) before
// calling this package's callbacks. Users, reads, PATCH, /Schemas,
// /ResourceTypes and ServiceProviderConfig are served here: User bodies
// must be read through the attribute table to accept the tenant's custom
// extension and to name bad attributes; PATCH paths and filters are parsed
// here because elimity's parser costs most of a request and grows steeply
// with nesting; reads need positional paging, streamed group members, exact
// itemsPerPage, projection, If-None-Match and the Entra filter form; and
// the discovery endpoints list what the table and the tenant declare.
// Request bodies are decoded by a small JSON parser (jsonvalue.go, fuzzed
// against encoding/json) and User responses written straight from the
// table, without reflection. Around all of it, this package supplies
// routing with gorilla/mux (elimity answers 404 for a wrong method),
// authentication, rate limiting and the body cap.
package scim
