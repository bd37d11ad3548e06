package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// Collection names. Collections added later (tokens, groups) follow the
// same rules: documents carry tenantId and every
// index starts with it.
const (
	collTenants     = "tenants"
	collMembers     = "members"
	collAudit       = "audit"
	collInvitations = "invitations"
	collCredentials = "credentials"
	collMigrations  = "migrations"
	// collEmailClaims is global: its key is an address, not a tenant (see
	// doc.go).
	collEmailClaims = "emailclaims"
)

// DefaultServerSelectionTimeout is how long an operation, and [Open], waits
// for a reachable server before failing, unless the URI
// (serverSelectionTimeoutMS) or [WithServerSelectionTimeout] says otherwise.
// The driver's own default is 30 s, too long for a command-line tool to sit
// silent when the database is down.
const DefaultServerSelectionTimeout = 5 * time.Second

// Store is the [sdk.Store] on MongoDB. It relies on the server applying
// each single-document update atomically, as MongoDB does (see the package
// documentation for FerretDB). It is safe for concurrent use. Create it
// with [Open]; release it with [Store.Close].
type Store struct {
	client      *driver.Client
	ownClient   bool
	db          *driver.Database
	tenants     *driver.Collection
	members     *driver.Collection
	audit       *driver.Collection
	invitations *driver.Collection
	credentials *driver.Collection
	claims      *driver.Collection
	log         *slog.Logger
}

var (
	_ sdk.Store              = (*Store)(nil)
	_ sdk.PasswordHashReader = (*Store)(nil)
)

type config struct {
	client     *driver.Client
	monitor    *event.CommandMonitor
	selTimeout time.Duration
	log        *slog.Logger
}

// Option configures [Open].
type Option func(*config)

// WithCommandMonitor installs a driver command monitor on the client Open
// creates, so that callers can observe or count every database command
// (see [CommandCounter]). It cannot be combined with [WithClient]: install
// the monitor on that client's options instead.
func WithCommandMonitor(m *event.CommandMonitor) Option {
	return func(c *config) { c.monitor = m }
}

// WithClient makes Open use an already connected client instead of
// connecting to the URI (which is then ignored). [Store.Close] leaves such a
// client connected: its owner disconnects it.
func WithClient(client *driver.Client) Option {
	return func(c *config) { c.client = client }
}

// WithServerSelectionTimeout sets how long operations wait for a reachable
// server (default [DefaultServerSelectionTimeout]). It takes precedence over
// serverSelectionTimeoutMS in the URI.
func WithServerSelectionTimeout(d time.Duration) Option {
	return func(c *config) { c.selTimeout = d }
}

// WithLogger sets where the store reports what it repairs later rather than
// fails on: a seat it could not give back after the member write it belongs
// to succeeded. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

// Open connects to the server at uri (unless [WithClient] is given), checks
// that it answers, and creates the database dbName's collections and
// indexes if they do not exist yet. Open is idempotent: any number of
// processes may open the same database, at once or in turn. When the server
// cannot be reached within the server selection timeout, the error names the
// hosts it tried.
func Open(ctx context.Context, uri, dbName string, opts ...Option) (*Store, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if dbName == "" {
		return nil, errors.New("mongo.Open: the database name is empty")
	}
	s := &Store{client: cfg.client, log: cfg.log}
	if s.log == nil {
		s.log = slog.Default()
	}
	var hosts []string
	if s.client == nil {
		co := options.Client().SetServerSelectionTimeout(DefaultServerSelectionTimeout).ApplyURI(uri)
		if cfg.selTimeout > 0 {
			co.SetServerSelectionTimeout(cfg.selTimeout)
		}
		if cfg.monitor != nil {
			co.SetMonitor(cfg.monitor)
		}
		if err := co.Validate(); err != nil {
			return nil, fmt.Errorf("mongo.Open: invalid MongoDB URI: %w", err)
		}
		hosts = co.Hosts
		c, err := driver.Connect(co)
		if err != nil {
			return nil, fmt.Errorf("mongo.Open: connecting to %s: %w", strings.Join(hosts, ","), err)
		}
		s.client, s.ownClient = c, true
	} else if cfg.monitor != nil {
		return nil, errors.New("mongo.Open: WithCommandMonitor needs a client Open creates; set the monitor on the options of the client given to WithClient")
	}
	if err := s.client.Ping(ctx, nil); err != nil {
		s.closeOwned()
		if len(hosts) == 0 {
			return nil, fmt.Errorf("mongo.Open: the database server does not answer: %w", err)
		}
		return nil, fmt.Errorf("mongo.Open: cannot reach MongoDB at %s: %w", strings.Join(hosts, ","), err)
	}
	s.db = s.client.Database(dbName)
	s.tenants = s.db.Collection(collTenants)
	s.members = s.db.Collection(collMembers)
	s.audit = s.db.Collection(collAudit)
	s.invitations = s.db.Collection(collInvitations)
	s.credentials = s.db.Collection(collCredentials)
	s.claims = s.db.Collection(collEmailClaims)

	// Member documents get their profile fields before the unique
	// userNameKey index is built over them.
	if err := s.migrateProfiles(ctx); err != nil {
		s.closeOwned()
		return nil, err
	}
	if err := s.ensureSchema(ctx); err != nil {
		s.closeOwned()
		return nil, err
	}
	return s, nil
}

// Close disconnects the client Open created. A client passed with
// [WithClient] stays connected.
func (s *Store) Close(ctx context.Context) error {
	if !s.ownClient {
		return nil
	}
	return s.client.Disconnect(ctx)
}

// Client returns the driver client the store uses.
func (s *Store) Client() *driver.Client { return s.client }

// Database returns the database the store uses.
func (s *Store) Database() *driver.Database { return s.db }

func (s *Store) closeOwned() {
	if s.ownClient {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.client.Disconnect(ctx)
	}
}

// index describes one index; the name is fixed so that error messages and
// dup-key translation can refer to it, and so that reopening is a no-op.
type index struct {
	name string
	keys bson.D
	kind indexKind
}

// indexKind says what an index enforces.
type indexKind int8

const (
	plain  indexKind = iota
	unique           // unique over every document
)

// Index names the translation of duplicate-key errors relies on.
const (
	idxSlug       = "slug_unique"
	idxMemberMail = "tenantId_emailKey_unique"
	idxMemberUser = "tenantId_userNameKey_unique"
	idxMemberExt  = "tenantId_extKey_unique"
)

// collSchema is a collection, its indexes, and the indexes of earlier
// versions that Open drops.
type collSchema struct {
	coll     string
	indexes  []index
	obsolete []string
}

// schema lists every collection and its indexes. Every index starts with
// tenantId (the tenants collection's own key is _id), with one documented
// exception: members' (emailKey, tenantId), see doc.go.
var schema = []collSchema{
	{collTenants, []index{
		{idxSlug, bson.D{{Key: "slug", Value: 1}}, unique},
	}, nil},
	{collMembers, []index{
		{idxMemberMail, bson.D{{Key: "tenantId", Value: 1}, {Key: "emailKey", Value: 1}}, unique},
		// Created after migrateProfiles has given every member a userNameKey.
		{idxMemberUser, bson.D{{Key: "tenantId", Value: 1}, {Key: "userNameKey", Value: 1}}, unique},
		{idxMemberExt, bson.D{{Key: "tenantId", Value: 1}, {Key: "extKey", Value: 1}}, unique},
		{"tenantId_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "_id", Value: 1}}, plain},
		{"tenantId_status_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "status", Value: 1}, {Key: "_id", Value: 1}}, plain},
		{"tenantId_role_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "role", Value: 1}, {Key: "_id", Value: 1}}, plain},
		{"emailKey_tenantId", bson.D{{Key: "emailKey", Value: 1}, {Key: "tenantId", Value: 1}}, plain},
		// A group's members in id order (groups is an array: multikey).
		{"tenantId_groups_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "groups", Value: 1}, {Key: "_id", Value: 1}}, plain},
		// Members with an email value, in id order (multikey): SCIM's
		// emails.value eq and emails[type eq "work"].value eq.
		{"tenantId_emailKeys_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "emailKeys", Value: 1}, {Key: "_id", Value: 1}}, plain},
		{"tenantId_employeeNumberKey_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "employeeNumberKey", Value: 1}, {Key: "_id", Value: 1}}, plain},
	}, []string{
		// Addresses unique across tenants were a unique index on members
		// that did not start with tenantId, which kept members from being
		// sharded by tenant; the emailclaims collection replaced it.
		"globalEmailKey_unique",
	}},
	{collAudit, []index{
		{"tenantId_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "_id", Value: 1}}, plain},
	}, nil},
	{collInvitations, []index{
		{"tenantId_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "_id", Value: 1}}, plain},
		{"tenantId_state_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "state", Value: 1}, {Key: "_id", Value: 1}}, plain},
		{"tenantId_memberId_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "memberId", Value: 1}, {Key: "_id", Value: 1}}, plain},
	}, nil},
	// credentials: _id is "tenantId/memberId", no other index.
	{collCredentials, nil, nil},
	// migrations: _id = the name of a finished migration; small, global.
	{collMigrations, nil, nil},
	// emailclaims: _id = an address (sdk.Member.EmailKey) claimed by a
	// member written with sdk.MemberWrite.GlobalEmail; global by nature
	// (see doc.go).
	{collEmailClaims, nil, nil},
}

// ensureSchema creates the collections and indexes that do not exist yet.
// Creating an existing collection fails with NamespaceExists, which is
// ignored. Indexes are listed first and the missing ones created one
// command each: FerretDB v1.24 panics (and drops the connection) when one
// createIndexes command names several indexes that already exist, while a
// single existing index is accepted as a no-op, as on MongoDB, so two
// processes opening the same database at once are fine.
func (s *Store) ensureSchema(ctx context.Context) error {
	for _, c := range schema {
		err := s.db.CreateCollection(ctx, c.coll)
		var ce driver.CommandError
		if err != nil && !(errors.As(err, &ce) && ce.Code == codeNamespaceExists) {
			return fmt.Errorf("mongo.Open: creating collection %s: %w", c.coll, err)
		}
		if len(c.indexes) == 0 {
			continue
		}
		iv := s.db.Collection(c.coll).Indexes()
		specs, err := iv.ListSpecifications(ctx)
		if err != nil {
			return fmt.Errorf("mongo.Open: listing indexes of %s: %w", c.coll, err)
		}
		for _, name := range c.obsolete {
			if !slices.ContainsFunc(specs, func(sp driver.IndexSpecification) bool { return sp.Name == name }) {
				continue
			}
			// Another process may have dropped it meanwhile.
			if err := iv.DropOne(ctx, name); err != nil && !isIndexNotFound(err) {
				return fmt.Errorf("mongo.Open: dropping index %s of %s: %w", name, c.coll, err)
			}
		}
		for _, ix := range c.indexes {
			if slices.ContainsFunc(specs, func(sp driver.IndexSpecification) bool { return sp.Name == ix.name }) {
				continue
			}
			o := options.Index().SetName(ix.name)
			switch ix.kind {
			case unique:
				o.SetUnique(true)
			}
			if _, err := iv.CreateOne(ctx, driver.IndexModel{Keys: ix.keys, Options: o}); err != nil {
				return fmt.Errorf("mongo.Open: creating index %s of %s: %w", ix.name, c.coll, err)
			}
		}
	}
	return nil
}

// findOpts returns find options for one page, answered by the find command
// alone: singleBatch (a negative limit) tells the server to close the
// cursor after the first batch, and the batch size equals the limit. Without
// it FerretDB keeps the cursor open after a full first batch and the driver
// spends a getMore command to learn that nothing follows. A page must fit
// in one 16 MiB reply, which SDK pages (at most 1001 members or events of a
// few KiB) always do.
func findOpts(sort bson.D, limit int) *options.FindOptionsBuilder {
	o := options.Find().SetSort(sort)
	if limit > 0 && limit < 1<<31-1 {
		o.SetLimit(-int64(limit)).SetBatchSize(int32(limit))
	}
	return o
}
