package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/sqlite"
)

// storeKind says which store a command uses.
type storeKind int

const (
	storeEmbedded storeKind = iota // the SQLite store in the data directory
	storeMemory                    // memstore, lost on exit
	storeMongo                     // a MongoDB server
)

// storeChoice is the store a command line selects.
type storeChoice struct {
	kind storeKind
	dir  string // storeEmbedded
	uri  string // storeMongo
	db   string // database name for storeMongo
}

// chooseStore applies the precedence --mongo-uri > --memory > --data, with
// a flag on the command line winning over any environment variable.
// memory is serve's --memory flag (false for other commands).
func (a *app) chooseStore(cmd *cobra.Command, memory bool) storeChoice {
	fs := cmd.Flags()
	a.envOr(fs, "db", envDB, &a.db)
	c := storeChoice{db: a.db, dir: a.data}
	switch {
	case fs.Changed("mongo-uri"):
		c.kind, c.uri = storeMongo, a.mongoURI
	case memory:
		c.kind = storeMemory
	case fs.Changed("data"):
		c.kind = storeEmbedded
	case a.getenv(envMongoURI) != "":
		c.kind, c.uri = storeMongo, a.getenv(envMongoURI)
	default:
		c.kind = storeEmbedded
		a.envOr(fs, "data", envData, &c.dir)
	}
	return c
}

// openedStore is an open store and how to release it.
type openedStore struct {
	store sdk.Store
	// where describes the store for people, without credentials.
	where string
	// sqlite is the data directory's store, when that is the store.
	sqlite *sqlite.Store
	close  func(ctx context.Context) error
}

// Close releases the store.
func (o *openedStore) Close(ctx context.Context) error {
	if o == nil || o.close == nil {
		return nil
	}
	return o.close(ctx)
}

// openMode says whether the store is opened by the server or by an
// administrative command.
type openMode int

const (
	// openServe creates a missing data directory and takes its server
	// lock for this process.
	openServe openMode = iota
	// openAdmin refuses a data directory that does not exist. Admin
	// commands work beside a running server: SQLite orders their writes.
	openAdmin
	// openAdminCreate is openAdmin, creating a missing data directory.
	openAdminCreate
)

// mongoTimeout bounds how long opening a MongoDB store may take, so that
// an unreachable server fails in seconds rather than hanging.
const mongoTimeout = 10 * time.Second

// openStore opens the chosen store. Together with reserveStore it is the
// one place that knows how each kind of store is made.
func openStore(ctx context.Context, c storeChoice, mode openMode, log *slog.Logger) (*openedStore, error) {
	r, err := reserveStore(ctx, c, mode, log)
	if err != nil {
		return nil, err
	}
	st, err := r.open(ctx)
	if err != nil {
		_ = r.release()
		return nil, err
	}
	return st, nil
}

// reservation is a store whose exclusive resources are claimed but which
// is not open yet: serve takes its data directory before it listens, so
// that a second server on the same directory fails on that, not on the
// port.
type reservation struct {
	c      storeChoice
	dir    string       // storeEmbedded: absolute data directory
	unlock func() error // storeEmbedded under serve: releases the server lock
	log    *slog.Logger
	// mongoOpts configure a MongoDB store, such as serve's command
	// monitor.
	mongoOpts []mongo.Option
}

// reserveStore resolves the data directory of the embedded store (and,
// for serve, takes its server lock, failing when another server holds
// it). Other stores need no reservation.
func reserveStore(ctx context.Context, c storeChoice, mode openMode, log *slog.Logger) (*reservation, error) {
	r := &reservation{c: c, log: log}
	if c.kind != storeEmbedded {
		return r, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir, err := dataDir(c.dir, mode != openAdmin)
	if err != nil {
		return nil, err
	}
	r.dir = dir
	if mode == openServe {
		if r.unlock, err = lockDataDir(dir); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// release gives back what reserveStore claimed.
func (r *reservation) release() error {
	if r.unlock == nil {
		return nil
	}
	err := r.unlock()
	r.unlock = nil
	return err
}

// open opens the reserved store. On failure the caller still holds the
// reservation and must release it.
func (r *reservation) open(ctx context.Context) (*openedStore, error) {
	switch r.c.kind {
	case storeMemory:
		return &openedStore{store: memstore.New(), where: "in-memory store"}, nil
	case storeMongo:
		st, err := openMongo(ctx, r.c.uri, r.c.db, "--mongo-uri or "+envMongoURI, r.log, r.mongoOpts...)
		if err != nil {
			return nil, err
		}
		return &openedStore{
			store: st,
			where: fmt.Sprintf("MongoDB at %s, database %s", redactURI(r.c.uri), r.c.db),
			close: st.Close,
		}, nil
	}
	st, err := openSQLite(ctx, r.dir, r.log)
	if err != nil {
		return nil, err
	}
	return &openedStore{
		store:  st,
		where:  "embedded store in " + r.dir,
		sqlite: st,
		close: func(context.Context) error {
			return errors.Join(st.Close(), r.release())
		},
	}, nil
}

// openMongo opens the MongoDB store at uri, failing within mongoTimeout
// with a message naming the hosts when the server does not answer. from
// says where the URI came from, for messages.
func openMongo(ctx context.Context, uri, db, from string, log *slog.Logger, opts ...mongo.Option) (*mongo.Store, error) {
	cs, err := connstring.Parse(uri)
	if err != nil {
		return nil, errorf(err, "%s is not a MongoDB URI (from %s): %v", redactURI(uri), from, stripURI(err, uri))
	}
	hosts := strings.Join(cs.Hosts, ",")
	ctx, cancel := context.WithTimeout(ctx, mongoTimeout)
	defer cancel()
	st, err := mongoOpen(ctx, uri, db, log, opts...)
	if err != nil {
		if why := unreachable(err); why != "" {
			return nil, errorf(err, "cannot reach MongoDB at %s (from %s): %s", hosts, from, why)
		}
		return nil, errorf(err, "cannot open MongoDB at %s: %v", hosts, stripURI(err, uri))
	}
	return st, nil
}

// redactURI hides the password of a URI for messages.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		if i := strings.Index(uri, "@"); i >= 0 {
			if j := strings.Index(uri, "://"); j >= 0 && j < i {
				return uri[:j+3] + "xxxxx" + uri[i:]
			}
		}
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// stripURI keeps credentials of uri out of an error message.
func stripURI(err error, uri string) error {
	if err == nil || !strings.Contains(err.Error(), uri) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), uri, redactURI(uri)))
}
