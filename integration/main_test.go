package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
	"github.com/testcontainers/testcontainers-go"
	tcmongo "github.com/testcontainers/testcontainers-go/modules/mongodb"
	"github.com/testcontainers/testcontainers-go/wait"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Environment variables the package reads.
const (
	envMongoURI      = "MONGODB_URI"             // use this server instead of a container
	envImage         = "ROSTER_TEST_MONGO_IMAGE" // the container's image
	envRequireDocker = "ROSTER_REQUIRE_DOCKER"   // "1": no database is a failure, not a skip
)

const (
	defaultImage = "mongo:8.0"
	mongoPort    = "27017/tcp"

	// ContainerLabel marks every container these tests start, so that a
	// script can remove what a killed test run left behind:
	//
	//	docker rm -f $(docker ps -aq --filter label=org.rosterhq.roster.integration)
	ContainerLabel = "org.rosterhq.roster.integration"

	// Bounds on starting things.
	pullTimeout           = 5 * time.Minute
	containerStartTimeout = 2 * time.Minute
	pingTimeout           = 60 * time.Second
	buildTimeout          = 10 * time.Minute
)

// shared is the database server every test uses, started on first use,
// and the roster binary, built on first use.
var shared struct {
	dbOnce    sync.Once
	uri       string
	skip      string // why there is no database, when that is not a failure
	err       error  // why there is no database, when that is a failure
	container *tcmongo.MongoDBContainer

	binOnce sync.Once
	binDir  string
	bin     string
	binErr  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if c := shared.container; c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := c.Terminate(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "integration: removing the database container: %v\n", err)
		}
		cancel()
	}
	if shared.binDir != "" {
		_ = os.RemoveAll(shared.binDir)
	}
	os.Exit(code)
}

// mongoURI returns the URI of the database server under test, starting
// its container on first use. Without a server it skips the test, or
// fails it when ROSTER_REQUIRE_DOCKER=1.
func mongoURI(t testing.TB) string {
	t.Helper()
	shared.dbOnce.Do(startDatabase)
	switch {
	case shared.err != nil:
		t.Fatalf("integration database: %v", shared.err)
	case shared.skip != "" && os.Getenv(envRequireDocker) == "1":
		t.Fatalf("%s (%s=1 requires it)", shared.skip, envRequireDocker)
	case shared.skip != "":
		t.Skip(shared.skip)
	}
	return shared.uri
}

func startDatabase() {
	if uri := os.Getenv(envMongoURI); uri != "" {
		ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
		defer cancel()
		if err := ping(ctx, uri, 10*time.Second); err != nil {
			shared.err = fmt.Errorf("%s=%s does not answer: %w", envMongoURI, redact(uri), err)
			return
		}
		shared.uri = uri
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pullTimeout+containerStartTimeout)
	defer cancel()
	if err := dockerHealthy(ctx); err != nil {
		shared.skip = fmt.Sprintf("integration tests skipped: no Docker engine reachable (testcontainers: %v); "+
			"start Docker, or set %s to use an existing MongoDB server", oneLine(err), envMongoURI)
		return
	}
	image := os.Getenv(envImage)
	if image == "" {
		image = defaultImage
	}
	if err := ensureImage(ctx, image); err != nil {
		shared.skip = fmt.Sprintf("integration tests skipped: image %s is not on this Docker engine and cannot be pulled (%v); "+
			"set %s to an image that is, or %s to use an existing MongoDB server", image, oneLine(err), envImage, envMongoURI)
		return
	}
	c, err := tcmongo.Run(ctx, image,
		testcontainers.WithLabels(map[string]string{ContainerLabel: "true"}),
		// The module waits for mongod's "Waiting for connections" log
		// line, which other MongoDB-compatible servers need not print;
		// an answer to ping is what the tests need, from any image.
		testcontainers.WithWaitStrategy(&pingStrategy{port: mongoPort, timeout: pingTimeout}),
		loopbackOnly(),
	)
	if c != nil {
		shared.container = c
	}
	if err != nil {
		shared.err = fmt.Errorf("starting a container from %s: %w", image, err)
		return
	}
	uri, err := c.ConnectionString(ctx)
	if err != nil {
		shared.err = fmt.Errorf("container connection string: %w", err)
		return
	}
	shared.uri = uri
}

// loopbackOnly publishes the container's port on the host's loopback
// interface only, when the Docker engine runs on this host: nothing but
// the tests needs to reach it. (An engine on another host, DOCKER_HOST
// tcp:// or ssh://, publishes on all of its interfaces as usual.)
func loopbackOnly() testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "tcp:") || strings.HasPrefix(h, "ssh:") {
			return
		}
		hc.PortBindings = nat.PortMap{mongoPort: {{HostIP: "127.0.0.1"}}}
	})
}

// dockerHealthy reports whether testcontainers can reach a Docker engine.
// testcontainers panics when it finds no Docker host at all.
func dockerHealthy(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	p, err := testcontainers.ProviderDocker.GetProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Health(ctx)
}

// ensureImage pulls image unless the Docker engine already has it.
func ensureImage(ctx context.Context, image string) error {
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	if _, err := p.Client().ImageInspect(ctx, image); err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	return p.PullImage(ctx, image)
}

// pingStrategy waits until the server at the container's mapped port
// answers a MongoDB ping.
type pingStrategy struct {
	port    nat.Port
	timeout time.Duration
}

var _ wait.Strategy = (*pingStrategy)(nil)

func (s *pingStrategy) String() string {
	return fmt.Sprintf("a MongoDB ping on port %s", s.port)
}

func (s *pingStrategy) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var last error
	for {
		if err := s.try(ctx, target); err == nil {
			return nil
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer to ping within %s: %w", s.timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *pingStrategy) try(ctx context.Context, target wait.StrategyTarget) error {
	host, err := target.Host(ctx)
	if err != nil {
		return err
	}
	port, err := target.MappedPort(ctx, s.port)
	if err != nil {
		return err
	}
	return ping(ctx, "mongodb://"+host+":"+port.Port()+"/", 2*time.Second)
}

// ping connects to uri and runs the ping command.
func ping(ctx context.Context, uri string, timeout time.Duration) error {
	c, err := driver.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(timeout).SetConnectTimeout(timeout))
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.Ping(pctx, nil)
}

// rosterBinary returns the path of the roster binary, built from this
// module on first use.
func rosterBinary(t testing.TB) string {
	t.Helper()
	shared.binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "roster-integration-")
		if err != nil {
			shared.binErr = err
			return
		}
		shared.binDir = dir
		shared.bin = filepath.Join(dir, "roster")
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", shared.bin, "./cmd/roster")
		cmd.Dir = ".." // the module root
		out, err := cmd.CombinedOutput()
		if err != nil {
			shared.binErr = fmt.Errorf("go build ./cmd/roster: %w\n%s", err, out)
		}
	})
	if shared.binErr != nil {
		t.Fatal(shared.binErr)
	}
	return shared.bin
}

// redact hides the password of a URI in messages.
func redact(uri string) string {
	if i := strings.Index(uri, "://"); i >= 0 {
		if j := strings.LastIndex(uri, "@"); j > i {
			return uri[:i+3] + "…@" + uri[j+1:]
		}
	}
	return uri
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
