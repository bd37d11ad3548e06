package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
)

// Environment variables of the start-up bootstrap.
const (
	envBootTenant = "ROSTER_BOOTSTRAP_TENANT"
	envBootOwner  = "ROSTER_BOOTSTRAP_OWNER_EMAIL"
	envBootSeats  = "ROSTER_BOOTSTRAP_SEATS"
	envBootToken  = "ROSTER_BOOTSTRAP_TOKEN"
)

const (
	defaultSeats = 10
)

type serveOptions struct {
	addr   string
	memory bool
	// The limits an operator tunes (see knobs.go).
	scimRate             knob
	scimBurst            knob
	maxBodyBytes         knob
	tokenCacheTTL        knob
	shutdownTimeout      knob
	reconcileConcurrency knob
}

func (o *serveOptions) knobs() []*knob {
	return []*knob{&o.scimRate, &o.scimBurst, &o.maxBodyBytes, &o.tokenCacheTTL, &o.shutdownTimeout, &o.reconcileConcurrency}
}

func newServeCmd(a *app) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080] [--data ./roster-data | --mongo-uri URI | --memory] [--db roster]",
		Short: "Run the Roster server",
		Long: `Run the Roster server: SCIM 2.0 provisioning of every tenant at
/scim/v2/SLUG (with a token from 'roster token create'), GET /healthz,
which answers 200 once the server is ready (503 before and while shutting
down), and Prometheus metrics at /metrics. SIGINT or SIGTERM shut it down
gracefully.

Without --mongo-uri or --memory the data lives in the embedded SQLite store
in --data (default ./roster-data), which one server at a time may use.
Admin commands ('roster tenant ...', 'roster member ...', 'roster backup')
work on the same data directory while the server runs. The embedded store
suits a single server (see the README for the sizes measured); run several
servers behind a load balancer on MongoDB (--mongo-uri), and move a data
directory there with 'roster migrate'.

At start-up serve checks every tenant in the background and repairs what a
crash can leave behind (as 'roster tenant reconcile' does), logging what it
repaired; --reconcile-concurrency tenants at a time, beside live traffic.

Limits (--scim-rate, --scim-burst, --max-body-bytes, --token-cache-ttl)
are per server: behind a load balancer with N servers a token may send N
times the rate. Each flag also comes from its ROSTER_... variable, the
flag winning.

Every HTTP request is logged once, at info level ("request": method, route
template, status, duration, tenant slug, token id; never a token, a body or
the query), /healthz and /metrics at debug level. --log-format json makes
every line serve writes to stderr a JSON object.

Bootstrap, for containers and for --memory: when ` + envBootTenant + ` is set,
serve creates that tenant at start-up if it does not exist, owned by
` + envBootOwner + ` with ` + envBootSeats + ` seats (default 10).
` + envBootToken + `, when set (at least 32 characters), is registered as
the tenant's SCIM token "bootstrap"; restarts find it registered.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a.envOr(cmd.Flags(), "addr", envAddr, &o.addr)
			for _, k := range o.knobs() {
				k.resolve(cmd.Flags(), a.getenv)
			}
			return a.serve(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", defaultAddr, "address to listen on; port 0 picks a free port (env "+envAddr+")")
	f.BoolVar(&o.memory, "memory", false, "keep all data in memory: it is lost when the server exits")
	o.shutdownTimeout.register(f, "shutdown-timeout", envShutdownTimeout, defaultShutdownTimeout.String(), "how long to let requests finish on shutdown")
	o.scimRate.register(f, "scim-rate", envSCIMRate, strconv.Itoa(scim.DefaultRatePerToken),
		"SCIM requests per second per token on this server; 0 turns the limit off")
	o.scimBurst.register(f, "scim-burst", envSCIMBurst, "",
		"SCIM requests a token may send at once on this server before --scim-rate applies (default twice the rate)")
	o.maxBodyBytes.register(f, "max-body-bytes", envMaxBodyBytes, strconv.Itoa(scim.DefaultMaxBodyBytes),
		"largest SCIM request body accepted, in bytes or with a unit (2MiB, 500KB); larger ones get 413")
	tokenCacheTTLKnob(f, &o.tokenCacheTTL,
		"how long this server remembers a valid SCIM token: a revoked token keeps working here for at most this long; 0 checks the store on every request")
	o.reconcileConcurrency.register(f, "reconcile-concurrency", envReconcileConcurrency, strconv.Itoa(defaultReconcileConcurrency),
		"tenants the start-up reconcile repairs at once; 0 skips it")
	return cmd
}

func (a *app) serve(cmd *cobra.Command, o *serveOptions) error {
	ctx := cmd.Context()
	limits, err := o.limits()
	if err != nil {
		return err
	}
	log, err := a.logger(slog.LevelInfo)
	if err != nil {
		return err
	}
	boot, err := bootstrapFromEnv(a.getenv)
	if err != nil {
		return err
	}
	choice := a.chooseStore(cmd, o.memory)
	if choice.kind == storeMemory {
		a.warn("--memory keeps all data in this process: every tenant and member is LOST when it exits.")
	}

	res, err := reserveStore(ctx, choice, openServe, log)
	if err != nil {
		return err
	}
	// From here on the reservation is released by st.Close, or below if
	// the store never opens.
	var st *openedStore
	stopBackground := func() {}
	defer func() {
		if st == nil {
			_ = res.release()
		}
	}()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", o.addr, err)
	}
	url := "http://" + ln.Addr().String()
	m := newMetrics()
	res.mongoOpts = append(res.mongoOpts, mongo.WithCommandMonitor(m.mongoMonitor()))
	var ready atomic.Bool
	var routes swapHandler
	routes.set(NewRouter(nil, m, &ready, log))
	srv := &http.Server{
		Handler:           m.instrument(&routes, log),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "url", url)

	shutdown := func() error {
		ready.Store(false)
		m.ready.Set(0)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limits.shutdownTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			log.Warn("requests still running at the shutdown timeout; closing them", "timeout", limits.shutdownTimeout)
			err = srv.Close()
		}
		stopBackground()
		if st != nil {
			err = errors.Join(err, st.Close(sctx))
		}
		return err
	}

	opened, err := res.open(ctx)
	if err != nil {
		_ = shutdown()
		return err
	}
	st = opened
	client := sdk.New(st.store, sdk.WithLogger(log))
	if boot != nil {
		if err := boot.run(ctx, client, log); err != nil {
			_ = shutdown()
			return err
		}
	}
	// Repairs run in the background: the server serves meanwhile, as the
	// SDK's rules hold with a counter off (a counter too high refuses a
	// seat that is free; Reconcile is safe alongside other writes).
	recCtx, stopReconcile := context.WithCancel(ctx)
	reconciled := make(chan struct{})
	go func() {
		defer close(reconciled)
		reconcileAll(recCtx, client, log, limits.reconcileConcurrency, m)
	}()
	stopBackground = func() {
		stopReconcile()
		<-reconciled
	}
	routes.set(NewRouter(client, m, &ready, log, limits.scimOptions()...))
	ready.Store(true)
	m.ready.Set(1)
	log.Info("ready", "url", url, "store", st.where, "scim_rate", limits.scimRate, "scim_burst", limits.scimBurst,
		"max_body_bytes", limits.maxBodyBytes, "token_cache_ttl", limits.tokenCacheTTL.String(),
		"shutdown_timeout", limits.shutdownTimeout.String(), "reconcile_concurrency", limits.reconcileConcurrency)
	a.nextSteps(url, choice, st, boot)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-served:
		_ = shutdown()
		return fmt.Errorf("http server stopped: %w", err)
	}
	if err := shutdown(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// commandName is how the person who started the server runs roster: "go
// run ./cmd/roster" when the binary is one `go run` built in its cache
// (a newcomer on a fresh clone has no roster on their PATH), else
// "roster".
func commandName() string {
	exe, err := os.Executable()
	if err == nil && strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/roster"
	}
	return "roster"
}

// nextSteps tells the person who started the server what to do next.
func (a *app) nextSteps(url string, c storeChoice, st *openedStore, boot *bootstrap) {
	a.say("")
	a.say("Roster is ready at %s (%s).", url, st.where)
	a.say("  health:  %s/healthz", url)
	a.say("  metrics: %s/metrics", url)
	var where string
	switch c.kind {
	case storeMemory:
		a.say("")
		a.warn("admin commands (roster tenant ..., roster member ...) cannot reach an in-memory store.")
		if boot == nil {
			a.say("Create the first tenant at start-up with the bootstrap variables instead:")
			a.say("  %s=acme %s=you@example.com %s=$(openssl rand -hex 32) roster serve --memory", envBootTenant, envBootOwner, envBootToken)
		} else {
			a.say("SCIM base URL of tenant %s: %s/scim/v2/%s", boot.tenant, url, boot.tenant)
		}
		return
	case storeMongo:
		where = fmt.Sprintf(" --mongo-uri '%s' --db %s", redactURI(c.uri), c.db)
	default:
		dir, _ := filepath.Abs(c.dir)
		where = " --data " + dir
	}
	a.say("")
	a.say("Next, in another terminal (admin commands work while the server runs):")
	cmd := commandName()
	if boot == nil {
		a.say("  %s tenant create acme --owner-email you@example.com%s", cmd, where)
	}
	slug := "acme"
	if boot != nil {
		slug = boot.tenant
	}
	a.say("  %s member add --tenant %s --email colleague@example.com%s", cmd, slug, where)
	a.say("  %s member list --tenant %s%s", cmd, slug, where)
	a.say("  %s sync --tenant %s --file people.csv --dry-run%s", cmd, slug, where)
	a.say("  %s token create --tenant %s%s    # a SCIM token for your identity provider", cmd, slug, where)
	a.say("SCIM base URL of tenant %s: %s/scim/v2/%s", slug, url, slug)
}

// bootstrap is the tenant serve creates at start-up, from the environment.
type bootstrap struct {
	tenant string
	owner  string
	seats  int
	// token is the operator-chosen SCIM token registered for the tenant
	// (idempotently), or "".
	token string
}

// bootstrapFromEnv reads and checks the bootstrap variables; it returns nil
// when none is set.
func bootstrapFromEnv(getenv func(string) string) (*bootstrap, error) {
	b := &bootstrap{
		tenant: getenv(envBootTenant),
		owner:  getenv(envBootOwner),
		token:  getenv(envBootToken),
		seats:  defaultSeats,
	}
	seats := getenv(envBootSeats)
	if b.tenant == "" {
		for _, v := range []string{envBootOwner, envBootSeats, envBootToken} {
			if getenv(v) != "" {
				return nil, fmt.Errorf("%s is set but %s is not: set it to the slug of the tenant to create", v, envBootTenant)
			}
		}
		return nil, nil
	}
	if b.owner == "" {
		return nil, fmt.Errorf("%s=%s needs %s, the email address of the tenant's owner", envBootTenant, b.tenant, envBootOwner)
	}
	if seats != "" {
		n, err := strconv.Atoi(seats)
		if err != nil {
			return nil, fmt.Errorf("%s=%q is not a number of seats", envBootSeats, seats)
		}
		b.seats = n
	}
	if b.token != "" {
		if err := sdk.CheckTokenSecret(b.token); err != nil {
			return nil, fmt.Errorf("%s: %s (generate one with: openssl rand -hex 32)", envBootToken, reasonMessage(err))
		}
	}
	return b, nil
}

// run creates the bootstrap tenant unless it exists. The SDK validates the
// request either way, so a malformed owner email fails every start, not
// only the first.
func (b *bootstrap) run(ctx context.Context, c *sdk.Client, log *slog.Logger) error {
	t, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug:          b.tenant,
		OwnerEmail:    b.owner,
		IncludedSeats: b.seats,
	})
	switch {
	case err == nil:
		log.Info("bootstrap: created tenant", "tenant", t.Slug, "id", t.ID, "owner", owner.Email, "seats", t.SeatLimit())
	case sdk.ReasonOf(err) == sdk.ReasonSlugTaken:
		t, err = c.TenantBySlug(ctx, b.tenant)
		if err != nil {
			return fmt.Errorf("bootstrap: reading tenant %q: %w", b.tenant, err)
		}
		log.Info("bootstrap: tenant exists; left as it is", "tenant", t.Slug, "id", t.ID, "seats", t.SeatLimit())
	default:
		env := map[string]string{"Slug": envBootTenant, "OwnerEmail": envBootOwner, "IncludedSeats": envBootSeats}[sdk.FieldOf(err)]
		if env != "" && errors.Is(err, sdk.ErrInvalidArgument) {
			return errorf(err, "%s: %s", env, reasonMessage(err))
		}
		return fmt.Errorf("bootstrap: creating tenant %q: %w", b.tenant, err)
	}
	if b.token == "" {
		return nil
	}
	tok, err := c.RegisterToken(ctx, sdk.SystemActor(), t.ID, bootstrapTokenName, b.token)
	switch {
	case errors.Is(err, sdk.ErrInvalidArgument):
		return errorf(err, "%s: %s", envBootToken, reasonMessage(err))
	case err != nil:
		return fmt.Errorf("bootstrap: registering %s for tenant %q: %w", envBootToken, b.tenant, err)
	default:
		// Registering is idempotent: a restart finds the token it stored.
		log.Info("bootstrap: SCIM token registered", "tenant", b.tenant, "token", tok.ID, "name", tok.Name, "ends_with", tok.Hint)
	}
	return nil
}

// bootstrapTokenName names the token registered from ROSTER_BOOTSTRAP_TOKEN.
const bootstrapTokenName = "bootstrap"
