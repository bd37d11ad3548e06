// Package migratetest checks a [migrate.Target]: [Run] builds a source
// store through the SDK, copies it into targets the caller opens with
// [migrate.Copy], and checks that each target then holds the same records
// and behaves, through the SDK, as the source does. Every store that can
// receive a copy runs it from its own tests:
//
//	func TestImport(t *testing.T) {
//		migratetest.Run(t, func(t *testing.T) (migrate.Target, sdk.Store) {
//			s := open(t) // a fresh database
//			return s, s
//		})
//	}
//
// The pieces are exported for the tests of the copy itself: [NewSource]
// builds the source, [Compare] compares two stores record by record, and
// [Behaves] drives the SDK on a target.
package migratetest

import (
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// Clock is a settable clock, shared by the clients of a source and of its
// copies so that times and TOTP steps continue across the copy.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Password is the password of every member of a [Source] that has one.
const Password = "correct horse battery staple"

// Source is a reference store holding three tenants built through the
// SDK, and what the checks need to know of them:
//
//   - acme: an owner with a password; bob, an admin with a whole profile
//     (userName other than his email, external id, two emails, phone,
//     address, enterprise fields, a custom attribute), a password and
//     TOTP enrolled; cat, deactivated, managed by bob; dan, with TOTP
//     enrolment pending; eve, invited; fay, invited and revoked (her
//     invitation stays); groups Engineering (bob, cat; with an external
//     id), Sales (ann, bob) and Empty; a SCIM token; 12 seats.
//   - globex: requires addresses unique across tenants; its owner gia,
//     hal@shared.test with a password, ida; every one of its 3 seats taken.
//   - initech: requires addresses unique across tenants; jon, its owner,
//     and kim, with a password.
//
// plus any number of small tenants (an owner and one member each).
type Source struct {
	Store *memstore.Store
	Clock *Clock
	// Acme, Globex and Initech are the three tenants above; Extra the
	// small ones, in creation order.
	Acme, Globex, Initech *Tenant
	Extra                 []*Tenant
	// Want holds the number of records of each kind the source holds, but
	// audit events, whose number is the SDK's business.
	Want map[string]int64
}

// Tenant is a tenant of a [Source].
type Tenant struct {
	ID, Slug string
	// Members holds the tenant's members by first name (owner included),
	// as they were when the source was built.
	Members map[string]*sdk.Member
	// Groups holds acme's groups by display name.
	Groups map[string]*sdk.Group
	// TOTPSecret is bob's TOTP secret (acme).
	TOTPSecret string
	// InviteSecret is the secret of eve's invitation (acme).
	InviteSecret string
	// TokenSecret is the secret of the SCIM token (acme).
	TokenSecret string
}

// Owner returns the tenant's owner actor.
func (t *Tenant) Owner() sdk.Actor {
	for _, m := range t.Members {
		if m.Role == "owner" {
			return sdk.MemberActor(m.ID)
		}
	}
	panic("migratetest: tenant " + t.Slug + " has no owner")
}

// Client returns an SDK client on store with the source's clock and a
// cheap password hash.
func (s *Source) Client(store sdk.Store, opts ...sdk.Option) *sdk.Client {
	return sdk.New(store, append([]sdk.Option{sdk.WithClock(s.Clock.Now), sdk.WithPasswordParams(64, 1, 1)}, opts...)...)
}

// Code returns the TOTP code of secret at the clock's time.
func (s *Source) Code(t testing.TB, secret string) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, s.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// NewSource builds a [Source] with extra small tenants.
func NewSource(t testing.TB, extra int) *Source {
	t.Helper()
	s := &Source{Store: memstore.New(), Clock: &Clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}}
	b := &builder{t: t, s: s, c: s.Client(s.Store)}
	s.Acme = b.acme()
	s.Globex = b.global("globex", "gia", 3, []string{"hal@shared.test", "ida@globex.test"})
	s.Initech = b.global("initech", "jon", 5, []string{"kim@initech.test"})
	for i := range extra {
		s.Extra = append(s.Extra, b.small(i))
	}
	s.Want = map[string]int64{
		migrate.Tenants:     3 + int64(extra),
		migrate.Members:     5 + 3 + 2 + 2*int64(extra),
		migrate.Credentials: 3 + 1 + 1, // ann, bob, dan; hal; kim
		migrate.Groups:      3,
		migrate.Edges:       4,
		migrate.Invitations: 2,
		migrate.Tokens:      1,
	}
	return s
}

// builder builds a Source, failing its test at the first error.
type builder struct {
	t testing.TB
	s *Source
	c *sdk.Client
}

// ok fails the test when err is not nil, and moves the clock on, so
// that every step has a time of its own.
func (b *builder) ok(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("building the source: %v", err)
	}
	b.s.Clock.Advance(time.Minute)
}

func (b *builder) tenant(req sdk.CreateTenantRequest, owner string) (*Tenant, sdk.Actor) {
	b.t.Helper()
	tn, o, err := b.c.CreateTenant(b.t.Context(), sdk.SystemActor(), req)
	b.ok(err)
	return &Tenant{ID: tn.ID, Slug: tn.Slug, Members: map[string]*sdk.Member{owner: o}}, sdk.MemberActor(o.ID)
}

func (b *builder) add(t *Tenant, actor sdk.Actor, name string, req sdk.AddMemberRequest) *sdk.Member {
	b.t.Helper()
	req.TenantID = t.ID
	m, err := b.c.AddMember(b.t.Context(), actor, req)
	b.ok(err)
	t.Members[name] = m
	return m
}

func (b *builder) acme() *Tenant {
	ctx := b.t.Context()
	c := b.c
	t, ann := b.tenant(sdk.CreateTenantRequest{
		Slug: "acme", Name: "Acme Inc.", OwnerEmail: "ann@acme.test", OwnerGivenName: "Ann", IncludedSeats: 10, ExtraSeats: 2,
		Settings: sdk.Settings{CustomAttributes: []sdk.CustomAttribute{{Name: "costCode", Type: sdk.CustomString, Description: "cost code"}}},
	}, "ann")
	var err error
	t.Members["ann"], err = c.SetPassword(ctx, ann, t.ID, ann.ID, Password)
	b.ok(err)
	bob := b.add(t, ann, "bob", sdk.AddMemberRequest{Role: "admin", Password: Password, Profile: sdk.Profile{
		UserName: "Bob.Smith", GivenName: "Bob", FamilyName: "Smith", MiddleName: "J", DisplayName: "Bobby", NickName: "bobs",
		Title: "Engineer", UserType: "Employee", PreferredLanguage: "en-GB", Locale: "en_GB", Timezone: "Europe/London",
		Emails: []sdk.Email{
			{Value: "bob@acme.test", Type: "work", Primary: true},
			{Value: "Bob@Home.test", Type: "home", Display: "home"},
		},
		PhoneNumbers:   []sdk.PhoneNumber{{Value: "+44 20 7946 0000", Type: "work", Primary: true}},
		Addresses:      []sdk.Address{{StreetAddress: "1 Main St", Locality: "London", PostalCode: "N1", Country: "GB", Type: "work", Primary: true}},
		EmployeeNumber: "E-42", CostCenter: "CC1", Organization: "Acme", Division: "Tools", Department: "R&D",
		ExternalID: "ext-bob",
	}})
	// The custom attribute is written to the store directly: the audit
	// event of a change to it has a key with a dot ("custom.costCode"),
	// which FerretDB v1 refuses to store.
	m := bob.Clone()
	m.Custom, m.UpdatedAt = map[string]string{"costCode": "X-7"}, b.s.Clock.Now()
	b.ok(b.s.Store.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: bob.Version}))
	bobA := sdk.MemberActor(bob.ID)
	enr, err := c.EnrollTOTP(ctx, bobA, t.ID)
	b.ok(err)
	t.TOTPSecret = enr.Secret
	t.Members["bob"], err = c.ConfirmTOTP(ctx, bobA, t.ID, b.s.Code(b.t, enr.Secret))
	b.ok(err)
	cat := b.add(t, ann, "cat", sdk.AddMemberRequest{Email: "cat@acme.test", Profile: sdk.Profile{GivenName: "Cat", ManagerID: bob.ID}})
	t.Members["cat"], err = c.Deactivate(ctx, ann, t.ID, cat.ID)
	b.ok(err)
	dan := b.add(t, ann, "dan", sdk.AddMemberRequest{Email: "dan@acme.test", Profile: sdk.Profile{GivenName: "Dan"}})
	_, err = c.EnrollTOTP(ctx, sdk.MemberActor(dan.ID), t.ID)
	b.ok(err)
	t.Members["dan"], err = c.ChangeRole(ctx, ann, t.ID, dan.ID, "admin")
	b.ok(err)
	eve, err := c.Invite(ctx, ann, sdk.InviteRequest{TenantID: t.ID, Email: "eve@acme.test", GivenName: "Eve"})
	b.ok(err)
	t.Members["eve"], t.InviteSecret = eve.Member, eve.Secret
	fay, err := c.Invite(ctx, ann, sdk.InviteRequest{TenantID: t.ID, Email: "fay@acme.test"})
	b.ok(err)
	b.ok(c.Revoke(ctx, ann, t.ID, fay.Member.ID))

	t.Groups = map[string]*sdk.Group{}
	for _, g := range []struct {
		name, ext string
		members   []string
	}{
		{"Engineering", "grp-eng", []string{bob.ID, cat.ID}},
		{"Sales", "", []string{ann.ID, bob.ID}},
		{"Empty", "", nil},
	} {
		t.Groups[g.name], err = c.CreateGroup(ctx, ann, sdk.CreateGroupRequest{TenantID: t.ID, DisplayName: g.name, ExternalID: g.ext, Members: g.members})
		b.ok(err)
	}
	t.TokenSecret, _, err = c.CreateToken(ctx, ann, t.ID, "okta")
	b.ok(err)
	return t
}

// global builds a tenant that requires addresses unique across tenants,
// with the owner named owner and members of the given addresses (the
// first with a password), in seats seats.
func (b *builder) global(slug, owner string, seats int, emails []string) *Tenant {
	t, o := b.tenant(sdk.CreateTenantRequest{
		Slug: slug, OwnerEmail: owner + "@" + slug + ".test", IncludedSeats: seats,
		Settings: sdk.Settings{UniqueEmailAcrossTenants: true},
	}, owner)
	for i, e := range emails {
		req := sdk.AddMemberRequest{Email: e}
		if i == 0 {
			req.Password = Password
		}
		b.add(t, o, e[:3], req)
	}
	return t
}

// small builds the i-th small tenant: its owner and one member.
func (b *builder) small(i int) *Tenant {
	slug := "small" + string(rune('a'+i/26)) + string(rune('a'+i%26))
	t, o := b.tenant(sdk.CreateTenantRequest{Slug: slug, OwnerEmail: "owner@" + slug + ".test", IncludedSeats: 2}, "owner")
	b.add(t, o, "member", sdk.AddMemberRequest{Email: "member@" + slug + ".test"})
	return t
}
