package integration

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
	"go.yaml.in/yaml/v3"
)

const (
	rosterPort = "8080/tcp"
	// imageUser is the user the image runs as (the Dockerfile's USER).
	imageUser = "65532:65532"
	// imageRunTimeout bounds TestImage once its image is built.
	imageRunTimeout = 4 * time.Minute
	// healthyTimeout bounds the wait for Docker to call a container
	// healthy; the image checks every 10 s.
	healthyTimeout = 90 * time.Second
)

// TestImage builds the Roster image from this repository, as the
// Dockerfile's "prebuilt" target (static binaries built here, no base image
// pulled), and runs it the way compose.yaml does: two servers on one
// database container (ROSTER_TEST_MONGO_IMAGE) on a network of their own,
// plus one server on the embedded store in a volume. It checks that the
// containers run as a non-root user and that Docker's HEALTHCHECK calls
// them healthy, that a user created through SCIM on one server is read on
// the other, /healthz and /metrics, admin commands run in a container,
// and that the embedded store's data outlives a restart of its container.
//
// Both servers on the database only create and read here: several
// servers on a bare FerretDB v1 can break the seat limit (see the README),
// which the image has no part in.
func TestImage(t *testing.T) {
	p := dockerProvider(t)
	dbImage := os.Getenv(envImage)
	if dbImage == "" {
		dbImage = defaultImage
	}
	if err := ensureImage(t.Context(), dbImage); err != nil {
		skipOrFail(t, fmt.Sprintf("image %s is not on this Docker engine and cannot be pulled (%v); set %s to an image that is",
			dbImage, oneLine(err), envImage))
	}
	tag := buildImage(t, p)

	ctx, cancel := context.WithTimeout(t.Context(), imageRunTimeout)
	defer cancel()

	labels := map[string]string{ContainerLabel: "true"}
	nw, err := network.New(ctx, network.WithLabels(labels))
	testcontainers.CleanupNetwork(t, nw)
	if err != nil {
		t.Fatalf("creating a Docker network: %v", err)
	}
	db, err := testcontainers.Run(ctx, dbImage,
		testcontainers.WithLabels(labels),
		testcontainers.WithExposedPorts(mongoPort),
		network.WithNetwork([]string{"db"}, nw),
		testcontainers.WithWaitStrategy(&pingStrategy{port: mongoPort, timeout: pingTimeout}),
		loopbackOnly(),
	)
	testcontainers.CleanupContainer(t, db)
	logOnFailure(t, "database", db)
	if err != nil {
		t.Fatalf("starting the database container from %s: %v", dbImage, err)
	}

	const slug = "imagetest"
	token := randomHex(32)
	env := map[string]string{
		"ROSTER_BOOTSTRAP_TENANT":      slug,
		"ROSTER_BOOTSTRAP_OWNER_EMAIL": "owner@image.test",
		"ROSTER_BOOTSTRAP_SEATS":       "5",
		"ROSTER_BOOTSTRAP_TOKEN":       token,
	}
	onDB := mergeEnv(env, map[string]string{
		"ROSTER_MONGODB_URI": "mongodb://db:27017",
		"ROSTER_DB":          dbName(t),
	})
	// The embedded store's volume, labelled like the containers.
	volume := "roster-it-" + randomHex(6)

	// The three servers start at once, as compose starts its two: both
	// database servers bootstrap the same tenant and token concurrently.
	specs := []struct {
		name string
		opts []testcontainers.ContainerCustomizer
	}{
		{"roster-1", []testcontainers.ContainerCustomizer{testcontainers.WithEnv(onDB), network.WithNetwork(nil, nw)}},
		{"roster-2", []testcontainers.ContainerCustomizer{testcontainers.WithEnv(onDB), network.WithNetwork(nil, nw)}},
		{"embedded", []testcontainers.ContainerCustomizer{testcontainers.WithEnv(env),
			testcontainers.WithMounts(testcontainers.ContainerMount{Target: "/data", Source: testcontainers.DockerVolumeMountSource{
				Name: volume, VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{ContainerLabel: "true"}}}})}},
	}
	servers := make([]*rosterContainer, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() { servers[i], errs[i] = startRosterContainer(ctx, tag, s.name, s.opts...) })
	}
	wg.Wait()
	for i, s := range specs {
		var opts []testcontainers.TerminateOption
		if s.name == "embedded" {
			opts = append(opts, testcontainers.RemoveVolumes(volume))
		}
		if servers[i] != nil {
			testcontainers.CleanupContainer(t, servers[i].c, opts...)
			logOnFailure(t, s.name, servers[i].c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	r1, r2, emb := servers[0], servers[1], servers[2]

	t.Run("container", func(t *testing.T) {
		for _, r := range servers {
			r.checkNonRoot(t, p)
			r.checkHealthcheck(t)
		}
	})

	t.Run("two servers one database", func(t *testing.T) {
		c1, c2 := r1.scim(slug, token), r2.scim(slug, token)
		const name = "alice@image.test"
		id := c1.must(t, http.StatusCreated, "POST", "/Users", userJSON(name)).str("id")
		if got := c2.must(t, http.StatusOK, "GET", "/Users/"+id, "").str("userName"); got != name {
			t.Errorf("server 2: GET /Users/%s: userName %q, want %q", id, got, name)
		}
		filter := url.QueryEscape(`userName eq "` + strings.ToUpper(name) + `"`)
		if n := c2.must(t, http.StatusOK, "GET", "/Users?filter="+filter, "").num("totalResults"); n != 1 {
			t.Errorf("server 2: filter on userName: totalResults %d, want 1", n)
		}
		// The same name on the other server is the same user.
		c2.must(t, http.StatusConflict, "POST", "/Users", userJSON(name))
		for _, r := range []*rosterContainer{r1, r2} {
			r.checkHealthz(t)
			r.checkMetrics(t)
		}
		// Admin commands in a container reach the same database.
		out := r2.exec(t, "/roster", "member", "list", "--tenant", slug)
		if !strings.Contains(out, name) || !strings.Contains(out, "owner@image.test") {
			t.Errorf("roster member list in roster-2:\n%s\nwant %s and the owner", out, name)
		}
	})

	t.Run("embedded store in a volume", func(t *testing.T) {
		c := emb.scim(slug, token)
		const name = "bob@image.test"
		id := c.must(t, http.StatusCreated, "POST", "/Users", userJSON(name)).str("id")
		// An admin command beside the server, on the same data directory.
		if out := emb.exec(t, "/roster", "tenant", "list"); !strings.Contains(out, slug) {
			t.Errorf("roster tenant list in the container:\n%s\nwant tenant %s", out, slug)
		}
		stop := 20 * time.Second
		if err := emb.c.Stop(ctx, &stop); err != nil {
			t.Fatalf("stopping the container: %v", err)
		}
		if st, err := emb.c.State(ctx); err != nil || st.ExitCode != 0 {
			t.Errorf("after SIGTERM: state %+v, %v; want exit code 0", st, err)
		}
		// Start waits for Docker's healthcheck again.
		if err := emb.c.Start(ctx); err != nil {
			t.Fatalf("restarting the container: %v", err)
		}
		if err := emb.refreshURL(ctx); err != nil {
			t.Fatal(err)
		}
		c = emb.scim(slug, token)
		if got := c.must(t, http.StatusOK, "GET", "/Users/"+id, "").str("userName"); got != name {
			t.Errorf("after a restart: userName %q, want %q", got, name)
		}
		emb.checkHealthz(t)
	})
}

// dockerProvider returns a provider on the Docker engine, or skips the test
// (fails it when ROSTER_REQUIRE_DOCKER=1) when none answers.
func dockerProvider(t *testing.T) *testcontainers.DockerProvider {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), containerStartTimeout)
	defer cancel()
	if err := dockerHealthy(ctx); err != nil {
		skipOrFail(t, fmt.Sprintf("no Docker engine reachable (testcontainers: %v); start Docker", oneLine(err)))
	}
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Fatalf("Docker provider: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// skipOrFail skips the test for want of Docker, or fails it when
// ROSTER_REQUIRE_DOCKER=1 (the rule of mongoURI).
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(envRequireDocker) == "1" {
		t.Fatalf("%s (%s=1 requires it)", why, envRequireDocker)
	}
	t.Skip("image test skipped: " + why)
}

// buildImage builds the Dockerfile's prebuilt target from binaries built
// here, tags it with a name of its own and removes it when the test ends.
// The legacy builder builds only the stages up to the target, none of
// which pulls an image.
func buildImage(t *testing.T, p *testcontainers.DockerProvider) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	dir := t.TempDir()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", dir+string(filepath.Separator),
		"./cmd/roster", "./cmd/roster-healthcheck")
	cmd.Dir = ".." // the module root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (static): %v\n%s", err, out)
	}
	files := map[string]string{ // context path -> host file
		"Dockerfile":         filepath.Join("..", "Dockerfile"),
		"roster":             filepath.Join(dir, "roster"),
		"roster-healthcheck": filepath.Join(dir, "roster-healthcheck"),
	}
	const caFile = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(caFile); err == nil {
		files["etc/ssl/certs/ca-certificates.crt"] = caFile
	} else {
		t.Logf("no %s on this host: the image has no CA certificates (TLS to MongoDB would fail; nothing here uses it)", caFile)
	}
	tarball, err := contextTar(files, "data", "tmp", "etc")
	if err != nil {
		t.Fatalf("build context: %v", err)
	}

	tag := "roster-integration:" + randomHex(6)
	resp, err := p.Client().ImageBuild(ctx, tarball, build.ImageBuildOptions{
		Tags:        []string{tag},
		Target:      "prebuilt",
		Version:     build.BuilderV1,
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{ContainerLabel: "true"},
	})
	if err != nil {
		t.Fatalf("docker build: %v", err)
	}
	log, err := readBuildOutput(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("docker build --target prebuilt: %v\n%s", err, tail(log, 4000))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := p.Client().ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Logf("removing image %s: %v", tag, err)
		}
	})
	t.Logf("built image %s (binaries and image) in %s", tag, time.Since(start).Round(100*time.Millisecond))
	return tag
}

// contextTar returns a tar stream holding files (context path -> host
// file; executables keep their mode) and the empty directories dirs.
func contextTar(files map[string]string, dirs ...string) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		b, err := os.ReadFile(files[name])
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(files[name])
		if err != nil {
			return nil, err
		}
		mode := int64(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(b))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// readBuildOutput reads the JSON messages of a build and returns its log,
// and the error the build ended with, if any.
func readBuildOutput(r io.Reader) (string, error) {
	var log strings.Builder
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return log.String(), nil
		} else if err != nil {
			return log.String(), fmt.Errorf("reading the build's output: %w", err)
		}
		log.WriteString(m.Stream)
		if m.Error != "" || m.ErrorDetail.Message != "" {
			return log.String(), fmt.Errorf("%s", cmp.Or(m.ErrorDetail.Message, m.Error))
		}
	}
}

// rosterContainer is a 'roster serve' container of the image under test,
// its port published on the host's loopback interface.
type rosterContainer struct {
	name string
	c    *testcontainers.DockerContainer
	URL  string
}

// startRosterContainer starts a container of image and waits until Docker
// calls it healthy.
func startRosterContainer(ctx context.Context, image, name string, opts ...testcontainers.ContainerCustomizer) (*rosterContainer, error) {
	opts = append([]testcontainers.ContainerCustomizer{
		testcontainers.WithLabels(map[string]string{ContainerLabel: "true"}),
		testcontainers.WithExposedPorts(rosterPort),
		loopbackPort(rosterPort),
		testcontainers.WithWaitStrategy(wait.ForHealthCheck().WithStartupTimeout(healthyTimeout).WithPollInterval(250 * time.Millisecond)),
	}, opts...)
	c, err := testcontainers.Run(ctx, image, opts...)
	r := &rosterContainer{name: name, c: c}
	if c == nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err != nil {
		return r, fmt.Errorf("%s: not healthy: %w", name, err)
	}
	return r, r.refreshURL(ctx)
}

// refreshURL reads the container's published port, which a restart changes.
func (r *rosterContainer) refreshURL(ctx context.Context) error {
	port, err := r.c.MappedPort(ctx, rosterPort)
	if err != nil {
		return fmt.Errorf("%s: published port: %w", r.name, err)
	}
	r.URL = "http://127.0.0.1:" + port.Port()
	return nil
}

// loopbackPort publishes port on the host's loopback interface only (see
// loopbackOnly).
func loopbackPort(port nat.Port) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "tcp:") || strings.HasPrefix(h, "ssh:") {
			return
		}
		hc.PortBindings = nat.PortMap{port: {{HostIP: "127.0.0.1"}}}
	})
}

func (r *rosterContainer) scim(slug, token string) *scimClient {
	return &scimClient{base: r.URL + "/scim/v2/" + slug, token: token, hc: &http.Client{Timeout: 30 * time.Second}}
}

// checkNonRoot checks the image's user and the user the server's process
// runs as.
func (r *rosterContainer) checkNonRoot(t *testing.T, p *testcontainers.DockerProvider) {
	t.Helper()
	info, err := r.c.Inspect(t.Context())
	if err != nil {
		t.Fatalf("%s: inspect: %v", r.name, err)
	}
	if info.Config.User != imageUser {
		t.Errorf("%s: Config.User %q, want %q", r.name, info.Config.User, imageUser)
	}
	top, err := p.Client().ContainerTop(t.Context(), r.c.GetContainerID(), nil)
	if err != nil {
		t.Fatalf("%s: top: %v", r.name, err)
	}
	uid := slices.Index(top.Titles, "UID")
	if uid < 0 || len(top.Processes) == 0 {
		t.Fatalf("%s: top: no UID column or no process: %+v", r.name, top)
	}
	for _, proc := range top.Processes {
		if u := proc[uid]; u != strings.Split(imageUser, ":")[0] {
			t.Errorf("%s: process %v runs as %q, want uid %s", r.name, proc, u, imageUser)
		}
	}
}

// checkHealthcheck checks the image's HEALTHCHECK and that Docker ran it.
func (r *rosterContainer) checkHealthcheck(t *testing.T) {
	t.Helper()
	info, err := r.c.Inspect(t.Context())
	if err != nil {
		t.Fatalf("%s: inspect: %v", r.name, err)
	}
	hc := info.Config.Healthcheck
	if hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/roster-healthcheck"}) {
		t.Errorf("%s: healthcheck %+v, want CMD /roster-healthcheck", r.name, hc)
	}
	if h := info.State.Health; h == nil || h.Status != "healthy" || len(h.Log) == 0 || h.Log[len(h.Log)-1].ExitCode != 0 {
		t.Errorf("%s: health %+v, want healthy after a passing probe", r.name, h)
	}
}

func (r *rosterContainer) checkHealthz(t *testing.T) {
	t.Helper()
	if code, body := r.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("%s: GET /healthz: %d %s", r.name, code, body)
	}
}

func (r *rosterContainer) checkMetrics(t *testing.T) {
	t.Helper()
	code, body := r.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("%s: GET /metrics: %d", r.name, code)
	}
	for _, want := range []string{"\nroster_ready 1\n", "roster_http_requests_total{"} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: /metrics lacks %q", r.name, strings.TrimSpace(want))
		}
	}
}

func (r *rosterContainer) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s: GET %s: %v", r.name, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(b)
}

// exec runs a command in the container, as the image's user, and returns
// its output; it fails the test if the command fails.
func (r *rosterContainer) exec(t *testing.T, cmd ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	code, rd, err := r.c.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		t.Fatalf("%s: exec %v: %v", r.name, cmd, err)
	}
	out, _ := io.ReadAll(rd)
	if code != 0 {
		t.Fatalf("%s: exec %v: exit code %d\n%s", r.name, cmd, code, out)
	}
	return string(out)
}

// logOnFailure shows the end of a container's log if the test failed;
// register it after the container's cleanup, so that it runs before.
func logOnFailure(t *testing.T, name string, c testcontainers.Container) {
	t.Helper()
	if c == nil {
		return
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rc, err := c.Logs(ctx)
		if err != nil {
			t.Logf("%s: logs: %v", name, err)
			return
		}
		defer func() { _ = rc.Close() }()
		b, _ := io.ReadAll(rc)
		t.Logf("%s log:\n%s", name, tail(string(b), 4000))
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// mergeEnv returns the union of ms, later ones winning.
func mergeEnv(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestComposeFile checks compose.yaml without Docker: two Roster servers
// built from this repository, on distinct host ports, on the one MongoDB
// service (image mongo:8), which they wait for until it is healthy.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type service struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Volumes []string `yaml:"volumes"`
	}
	var f struct {
		Services map[string]service `yaml:"services"`
		Volumes  map[string]any     `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}

	var mongo []string
	for name, s := range f.Services {
		if strings.HasPrefix(s.Image, "mongo") {
			mongo = append(mongo, name)
		}
	}
	if len(mongo) != 1 {
		t.Fatalf("compose.yaml: MongoDB services %v, want exactly one", mongo)
	}
	m := f.Services[mongo[0]]
	if m.Image != "mongo:8" {
		t.Errorf("service %s: image %q, want mongo:8", mongo[0], m.Image)
	}
	if m.Healthcheck == nil || len(m.Healthcheck.Test) == 0 {
		t.Errorf("service %s: no healthcheck, which the servers' depends_on waits for", mongo[0])
	}
	if len(m.Volumes) == 0 || len(f.Volumes) == 0 {
		t.Errorf("service %s: no named volume for its data", mongo[0])
	}

	hostPorts := map[string]string{}
	var rosters []string
	for name, s := range f.Services {
		if s.Build == nil {
			continue
		}
		rosters = append(rosters, name)
		if s.Build != "." {
			t.Errorf("service %s: build %v, want . (this repository's Dockerfile)", name, s.Build)
		}
		if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], ":8080") {
			t.Errorf("service %s: ports %v, want one HOST:8080", name, s.Ports)
		} else {
			host := strings.TrimSuffix(s.Ports[0], ":8080")
			if other, dup := hostPorts[host]; dup {
				t.Errorf("services %s and %s publish the same host port %s", other, name, host)
			}
			hostPorts[host] = name
		}
		if want := "mongodb://" + mongo[0] + ":27017"; s.Environment["ROSTER_MONGODB_URI"] != want {
			t.Errorf("service %s: ROSTER_MONGODB_URI %q, want %q", name, s.Environment["ROSTER_MONGODB_URI"], want)
		}
		if d, ok := s.DependsOn[mongo[0]]; !ok || d.Condition != "service_healthy" {
			t.Errorf("service %s: depends_on %+v, want %s: service_healthy", name, s.DependsOn, mongo[0])
		}
		// The token is the user's to choose: compose refuses to start
		// without it rather than ship a default secret.
		if tok := s.Environment["ROSTER_BOOTSTRAP_TOKEN"]; !strings.HasPrefix(tok, "${ROSTER_BOOTSTRAP_TOKEN:?") {
			t.Errorf("service %s: ROSTER_BOOTSTRAP_TOKEN %q, want ${ROSTER_BOOTSTRAP_TOKEN:?…}", name, tok)
		}
		if s.Environment["ROSTER_BOOTSTRAP_TENANT"] == "" || s.Environment["ROSTER_BOOTSTRAP_OWNER_EMAIL"] == "" {
			t.Errorf("service %s: no bootstrap tenant or owner", name)
		}
	}
	if len(rosters) != 2 {
		t.Errorf("compose.yaml: Roster services %v, want two", rosters)
	}
}

// TestDockerfile checks what the image test cannot see from outside: the
// stages the legacy builder builds for the prebuilt target (every stage
// up to it) pull no image, and both targets run as the same non-root user
// with the same healthcheck.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) > 0 && strings.EqualFold(f[0], "FROM") {
			froms = append(froms, strings.Join(f[1:], " "))
		}
	}
	prebuilt := slices.IndexFunc(froms, func(s string) bool { return strings.HasSuffix(s, " AS prebuilt") })
	if prebuilt < 0 {
		t.Fatalf("Dockerfile: no stage named prebuilt in %q", froms)
	}
	local := map[string]bool{"scratch": true}
	for _, from := range froms[:prebuilt+1] {
		f := strings.Fields(from)
		if !local[f[0]] {
			t.Errorf("Dockerfile: stage %q, before or at prebuilt, starts from an image that must be pulled", from)
		}
		if len(f) == 3 {
			local[f[2]] = true
		}
	}
	if !slices.ContainsFunc(froms[prebuilt+1:], func(s string) bool { return strings.HasPrefix(s, "golang:") }) {
		t.Errorf("Dockerfile: no golang build stage after prebuilt in %q", froms)
	}
	for _, want := range []string{"USER " + imageUser, `CMD ["/roster-healthcheck"]`, "VOLUME [\"/data\"]"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The context of 'docker build .' leaves out what must not go in.
	ign, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", "**/roster-data"} {
		if !slices.Contains(strings.Fields(string(ign)), want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
