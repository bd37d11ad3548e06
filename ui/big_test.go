package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// countingStore counts the store reads a page makes: every read method of
// sdk.Store, by name. Writes pass through uncounted.
type countingStore struct {
	sdk.Store
	mu sync.Mutex
	n  map[string]int
}

func (s *countingStore) count(name string) {
	s.mu.Lock()
	s.n[name]++
	s.mu.Unlock()
}

// take returns the counts since the last take and starts again.
func (s *countingStore) take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n = map[string]int{}
	return n
}

func (s *countingStore) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	s.count("GetTenant")
	return s.Store.GetTenant(ctx, id)
}

func (s *countingStore) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	s.count("GetTenantBySlug")
	return s.Store.GetTenantBySlug(ctx, slug)
}

func (s *countingStore) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	s.count("ListTenants")
	return s.Store.ListTenants(ctx, q)
}

func (s *countingStore) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	s.count("GetMember")
	return s.Store.GetMember(ctx, tenantID, id)
}

func (s *countingStore) GetMemberBy(ctx context.Context, tenantID string, key sdk.MemberKey, value string) (*sdk.Member, error) {
	s.count("GetMemberBy")
	return s.Store.GetMemberBy(ctx, tenantID, key, value)
}

func (s *countingStore) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	s.count("ListMembers")
	return s.Store.ListMembers(ctx, tenantID, q)
}

func (s *countingStore) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	s.count("CountMembers")
	return s.Store.CountMembers(ctx, tenantID, f)
}

func (s *countingStore) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	s.count("EmailInOtherTenant")
	return s.Store.EmailInOtherTenant(ctx, tenantID, emailKey)
}

func (s *countingStore) ListAudit(ctx context.Context, tenantID string, q sdk.AuditQuery) ([]*sdk.AuditEvent, error) {
	s.count("ListAudit")
	return s.Store.ListAudit(ctx, tenantID, q)
}

func (s *countingStore) GetInvitation(ctx context.Context, tenantID, id string) (*sdk.Invitation, error) {
	s.count("GetInvitation")
	return s.Store.GetInvitation(ctx, tenantID, id)
}

func (s *countingStore) GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*sdk.Invitation, error) {
	s.count("GetInvitationByMember")
	return s.Store.GetInvitationByMember(ctx, tenantID, memberID)
}

func (s *countingStore) ListInvitations(ctx context.Context, tenantID string, q sdk.InvitationQuery) ([]*sdk.Invitation, error) {
	s.count("ListInvitations")
	return s.Store.ListInvitations(ctx, tenantID, q)
}

func (s *countingStore) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	s.count("GetCredentials")
	return s.Store.GetCredentials(ctx, tenantID, memberID)
}

func (s *countingStore) GetGroup(ctx context.Context, tenantID, id string) (*sdk.Group, error) {
	s.count("GetGroup")
	return s.Store.GetGroup(ctx, tenantID, id)
}

func (s *countingStore) GetGroups(ctx context.Context, tenantID string, ids []string) ([]*sdk.Group, error) {
	s.count("GetGroups")
	return s.Store.GetGroups(ctx, tenantID, ids)
}

func (s *countingStore) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	s.count("ListGroups")
	return s.Store.ListGroups(ctx, tenantID, q)
}

func (s *countingStore) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	s.count("ListMemberGroups")
	return s.Store.ListMemberGroups(ctx, tenantID, memberIDs)
}

func (s *countingStore) ListTokens(ctx context.Context, tenantID string) ([]*sdk.Token, error) {
	s.count("ListTokens")
	return s.Store.ListTokens(ctx, tenantID)
}

// bigTeam is a tenant of 10,000 members besides its owner.
type bigTeam struct {
	c     *sdk.Client
	t     *sdk.Tenant
	owner *sdk.Member
	ids   []string // the members written, in id order
}

const bigSize = 10_000

// newBigTeam creates the tenant through the SDK and writes its members
// straight to st, in one batch where the store writes in bulk
// (sdk.BulkMemberStore), as an HR import would; reads go through c, built
// on read (st itself, or a wrapper of it).
func newBigTeam(ctx context.Context, st, read sdk.Store) (*bigTeam, error) {
	bt := &bigTeam{c: sdk.New(read, sdk.WithLogger(quiet))}
	var err error
	bt.t, bt.owner, err = bt.c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "big", Name: "Big", OwnerEmail: "owner@big.test", OwnerGivenName: "Olive", IncludedSeats: bigSize + 10,
	})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	ws := make([]sdk.MemberWrite, bigSize)
	for i := range ws {
		email := fmt.Sprintf("m%05d@big.test", i)
		m := &sdk.Member{ID: sdk.NewID(), TenantID: bt.t.ID, Role: []string{"standard", "admin"}[min(i%50, 1)], Status: sdk.StatusActive,
			Profile: sdk.Profile{UserName: email, GivenName: "Given", FamilyName: fmt.Sprint("F", i), Department: "Eng",
				Emails: []sdk.Email{{Value: email, Type: "work", Primary: true}}},
			Email: email, EmailKey: email, UserNameKey: sdk.NormalizeUserName(email), Version: 1, CreatedAt: now, UpdatedAt: now}
		ws[i] = sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}
		bt.ids = append(bt.ids, m.ID)
	}
	if b, ok := st.(sdk.BulkMemberStore); ok {
		for _, err := range b.CreateMembers(ctx, ws) {
			if err != nil {
				return nil, err
			}
		}
	} else {
		for _, w := range ws {
			if err := st.CreateMember(ctx, w); err != nil {
				return nil, err
			}
		}
	}
	return bt, nil
}

// handler serves bt's screen at /team with the owner acting.
func (bt *bigTeam) handler() http.Handler {
	return New("/team", bt.c, func(*http.Request) (Identity, error) {
		return Identity{TenantID: bt.t.ID, MemberID: bt.owner.ID}, nil
	}, WithLogger(quiet))
}

// TestMembersPageReads: a page of 50 members in a tenant of 10,000 costs
// one members read (ListMembers: the page, asked with one member more to
// know whether a next page exists) and one tenant read (GetTenant: the
// seats summary and the policy's roles), whatever the page's depth. The
// acting member is the only other read: none on page 1, where the owner
// acting is listed (the policy takes them from the page), one GetMember on
// a later page. No other store read happens: every control of the 50
// rows is decided by the policy on these records, without I/O.
func TestMembersPageReads(t *testing.T) {
	mem := memstore.New()
	cs := &countingStore{Store: mem, n: map[string]int{}}
	bt, err := newBigTeam(t.Context(), mem, cs)
	if err != nil {
		t.Fatal(err)
	}
	h := bt.handler()
	for _, c := range []struct {
		name, query string
		reads       map[string]int
	}{
		{"page 1", "", map[string]int{"ListMembers": 1, "GetTenant": 1}},
		{"page 101", "?cursor=" + sdk.CursorAfter(bt.ids[4999]), map[string]int{"ListMembers": 1, "GetTenant": 1, "GetMember": 1}},
		{"filtered page", "?role=admin&status=active&cursor=" + sdk.CursorAfter(bt.ids[4999]), map[string]int{"ListMembers": 1, "GetTenant": 1, "GetMember": 1}},
	} {
		cs.take()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/team/"+c.query, nil))
		got := cs.take()
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", c.name, w.Code)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.reads) {
			t.Errorf("%s: reads %v, want %v", c.name, got, c.reads)
		}
		body := w.Body.String()
		if n := strings.Count(body, "<tr data-member-id="); n != 50 {
			t.Errorf("%s: %d rows", c.name, n)
		}
		if !strings.Contains(body, `rel="next"`) || !strings.Contains(body, `<p id="seats">10001 of 10010 seats used</p>`) {
			t.Errorf("%s: no next page link or seats summary", c.name)
		}
	}
}

// TestBulkConfirmReads: asking to delete 450 selected members reads their
// names in one members search per 200 ids (3 here), not one read per
// member, besides the tenant and the acting member; nothing is deleted
// before the confirmation.
func TestBulkConfirmReads(t *testing.T) {
	mem := memstore.New()
	cs := &countingStore{Store: mem, n: map[string]int{}}
	bt, err := newBigTeam(t.Context(), mem, cs)
	if err != nil {
		t.Fatal(err)
	}
	h := bt.handler().(*Handler)
	form := url.Values{"action": {"delete"}, "csrf": {h.token(Identity{TenantID: bt.t.ID, MemberID: bt.owner.ID}, time.Now())}}
	form["id"] = append(slices.Clone(bt.ids[:449]), "no-such-member")
	cs.take()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/team/bulk", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	got := cs.take()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", w.Code, w.Body)
	}
	if want := map[string]int{"ListMembers": 3, "GetTenant": 1, "GetMember": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reads %v, want %v", got, want)
	}
	body := w.Body.String()
	if !strings.Contains(body, "m00448@big.test") || !strings.Contains(body, "no-such-member") {
		t.Error("the confirmation does not list the whole selection")
	}
	if n, err := bt.c.CountMembers(t.Context(), bt.t.ID, sdk.ListMembersOptions{}); err != nil || n != bigSize+1 {
		t.Errorf("%d members after the confirmation page, %v; want all %d", n, err, bigSize+1)
	}
}
