package sdk

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
)

// Client is the entry point of the SDK: every team-management operation is
// a method on it, and every method enforces the product's rules before it
// writes. A Client is safe for concurrent use.
type Client struct {
	store     Store
	now       func() time.Time
	newID     func() string
	log       *slog.Logger
	observers []Observer
	presets   map[RolePreset][]Role
	// globalEmails makes email addresses unique across all tenants.
	globalEmails bool
	pwParams     *argon2id.Params
	issuer       string
	reassigner   Reassigner
	// tenants holds tenant snapshots for decisions whose writes are
	// conditional on the tenant's version.
	tenants tenantCache
}

// Option configures a [Client].
type Option func(*Client)

// WithClock sets the time source (tests pass a fake clock).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithIDGenerator sets how ids are made. IDs must be unique and should sort
// in creation order: lists are ordered by id.
func WithIDGenerator(newID func() string) Option { return func(c *Client) { c.newID = newID } }

// WithLogger sets the logger for failures the SDK handles itself (an
// observer that panicked, an audit write that failed).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithObserver registers an observer of the events the SDK emits after each
// successful write.
func WithObserver(o Observer) Option {
	return func(c *Client) { c.observers = append(c.observers, o) }
}

// WithRolePreset registers (or replaces) a named role preset that
// [CreateTenantRequest.RolePreset] can then name.
func WithRolePreset(name RolePreset, roles []Role) Option {
	return func(c *Client) {
		rs := make([]Role, len(roles))
		copy(rs, roles)
		sortRoles(rs)
		c.presets[name] = rs
	}
}

// WithGlobalEmailUniqueness makes every email address belong to one tenant
// at a time across the whole deployment, whatever each tenant's setting.
func WithGlobalEmailUniqueness() Option { return func(c *Client) { c.globalEmails = true } }

// New returns a Client on store.
func New(store Store, opts ...Option) *Client {
	c := &Client{
		store:   store,
		now:     time.Now,
		newID:   NewID,
		log:     slog.Default(),
		presets: map[RolePreset][]Role{},
	}
	for _, p := range []RolePreset{PresetStandard, PresetCampaigns, PresetPrimaryAdmin} {
		c.presets[p], _ = PresetRoles(p)
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Now returns the client's current time, from its clock, in UTC and to the
// millisecond: MongoDB keeps milliseconds, so a time the SDK returns from a
// write equals what a later read returns.
func (c *Client) Now() time.Time { return c.now().UTC().Truncate(time.Millisecond) }

// NewID returns a 26-character identifier: a millisecond timestamp followed
// by randomness, in Crockford base32, so ids sort by creation time. Ids made
// in the same millisecond by one process still sort in creation order.
func NewID() string {
	idMu.Lock()
	ms := uint64(time.Now().UnixMilli())
	if ms <= idLastMS {
		ms = idLastMS
		idSeq++
	} else {
		idLastMS = ms
		var b [8]byte
		_, _ = rand.Read(b[:])
		// Start low in the sequence space so increments never overflow.
		idSeq = binary.BigEndian.Uint64(b[:]) >> 16
	}
	seq := idSeq
	idMu.Unlock()
	var r [2]byte
	_, _ = rand.Read(r[:])
	// 48 bits of time, 64 bits of sequence, 16 random bits = 128 bits.
	hi := ms<<16 | seq>>48
	lo := seq<<16 | uint64(binary.BigEndian.Uint16(r[:]))
	return encodeID(hi, lo)
}

var (
	idMu     sync.Mutex
	idLastMS uint64
	idSeq    uint64
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func encodeID(hi, lo uint64) string {
	var out [26]byte
	// 128 bits as 26 base32 digits (130 bits; the top two are zero).
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
