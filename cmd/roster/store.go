package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// storeKind says which store a command uses.
type storeKind int

const (
	storeEmbedded storeKind = iota // FerretDB in the data directory
	storeMemory                    // memstore, lost on exit
	storeMongo                     // a MongoDB server
)

// storeChoice is the store a command line selects.
type storeChoice struct {
	kind storeKind
	dir  string // storeEmbedded
	uri  string // storeMongo
	db   string // database name for storeEmbedded and storeMongo
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
	// server is the embedded server this process runs, if any.
	server *embedded.Server
	close  func(ctx context.Context) error
}

// Close releases the store: the driver first, then any embedded server.
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
	// openServe takes the data directory for this process alone.
	openServe openMode = iota
	// openAdmin goes through a running server's socket when there is one
	// and refuses a data directory that does not exist.
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
	dir    string           // storeEmbedded: absolute data directory
	uri    string           // storeEmbedded: the embedded server's URI
	gate   *sync.RWMutex    // storeEmbedded: the write gate of the server this process runs
	server *embedded.Server // storeEmbedded: the server this process runs, if any
	stop   func() error     // storeEmbedded: releases the server
	log    *slog.Logger
}

// reserveStore claims the data directory of an embedded store: serve
// starts the embedded server (failing when another process serves the
// directory), admin commands connect to the running server or start one.
// Other stores need no reservation.
func reserveStore(ctx context.Context, c storeChoice, mode openMode, log *slog.Logger) (*reservation, error) {
	r := &reservation{c: c, log: log}
	if c.kind != storeEmbedded {
		return r, nil
	}
	dir, err := filepath.Abs(c.dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", c.dir, err)
	}
	r.dir = dir
	cfg := embedded.Config{Dir: dir, Logger: log}
	if mode == openServe {
		srv, err := embedded.Start(ctx, cfg)
		if err != nil {
			return nil, err
		}
		r.uri, r.gate, r.server, r.stop = srv.URI(), srv.Gate(), srv, srv.Close
		return r, nil
	}
	if mode == openAdmin {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data directory %s does not exist: pass --data (or set %s) to where 'roster serve' keeps its data, or create a tenant first", dir, envData)
		}
	}
	conn, err := embedded.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r.uri, r.gate, r.server, r.stop = conn.URI(), conn.Gate(), conn.Server(), conn.Close
	return r, nil
}

// release gives back what reserveStore claimed.
func (r *reservation) release() error {
	if r.stop == nil {
		return nil
	}
	return r.stop()
}

// open opens the reserved store. On failure the caller still holds the
// reservation and must release it.
func (r *reservation) open(ctx context.Context) (*openedStore, error) {
	switch r.c.kind {
	case storeMemory:
		return &openedStore{store: memstore.New(), where: "in-memory store"}, nil
	case storeMongo:
		st, err := openMongo(ctx, r.c.uri, r.c.db, r.log)
		if err != nil {
			return nil, err
		}
		return &openedStore{
			store: st,
			where: fmt.Sprintf("MongoDB at %s, database %s", redactURI(r.c.uri), r.c.db),
			close: st.Close,
		}, nil
	}
	st, err := mongoOpen(ctx, r.uri, r.c.db, r.log)
	if err != nil {
		return nil, fmt.Errorf("cannot open the embedded database in %s: %w", r.dir, err)
	}
	return &openedStore{
		// The embedded server is FerretDB v1, whose conditional updates
		// are not atomic: its store's writes go through the serialising
		// wrapper, and the server's gate when this process runs it.
		store:  embedded.Serialize(st, r.gate),
		where:  "embedded store in " + r.dir,
		server: r.server,
		close: func(ctx context.Context) error {
			return errors.Join(st.Close(ctx), r.release())
		},
	}, nil
}

// openMongo opens the MongoDB store at uri, failing within mongoTimeout
// with a message naming the hosts when the server does not answer.
func openMongo(ctx context.Context, uri, db string, log *slog.Logger) (*mongo.Store, error) {
	cs, err := connstring.Parse(uri)
	if err != nil {
		return nil, errorf(err, "--mongo-uri %s is not a MongoDB URI: %v", redactURI(uri), stripURI(err, uri))
	}
	hosts := strings.Join(cs.Hosts, ",")
	ctx, cancel := context.WithTimeout(ctx, mongoTimeout)
	defer cancel()
	st, err := mongoOpen(ctx, uri, db, log)
	if err != nil {
		if why := unreachable(err); why != "" {
			return nil, errorf(err, "cannot reach MongoDB at %s (from --mongo-uri or %s): %s", hosts, envMongoURI, why)
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
