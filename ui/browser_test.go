package ui_test

// The browser-test harness: the team screen mounted in an httptest server
// on a memstore-backed client, driven in headless Chromium through
// chromedp. One browser serves the whole test process; each test opens a
// tab of its own on a server and tenant of its own, so tests run in
// parallel. The flows are in browser_flows_test.go; each asserts the state
// it leaves through the SDK, not only on the page.
//
// Chromium is found as chromium, chromium-browser, google-chrome or
// $ROSTER_CHROMIUM. Without one the browser tests skip, unless
// ROSTER_REQUIRE_CHROMIUM=1 (as .ci/run sets), which fails them.
// Screenshots of each flow's steps go to
// $ROSTER_TEST_ARTIFACTS/ui/<test>/<step>.png (default: the system's
// temporary directory, roster-test-artifacts/ui/...); the tests log where.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/ui"
)

// flowTimeout bounds one browser test, from its tab's opening to its last
// check.
const flowTimeout = 60 * time.Second

// stepTimeout bounds one wait inside a flow (a page load, an element to
// appear), so that a missing element fails with its name, not at the
// flow's deadline.
const stepTimeout = 15 * time.Second

func TestMain(m *testing.M) {
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// shared is the test process's one browser, started by the first browser
// test that runs.
var shared browserProcess

type browserProcess struct {
	once   sync.Once
	ctx    context.Context // the browser's context; tabs derive from it
	err    error
	cancel func()
}

func (b *browserProcess) stop() {
	if b.cancel != nil {
		b.cancel() // closes the browser and waits for its processes
	}
}

// chromiumPath returns the browser to drive, or "" when there is none.
func chromiumPath() string {
	if p := os.Getenv("ROSTER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser returns the shared browser's context, starting the browser on
// first use; it skips the test when there is no browser to start.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		const msg = "no Chromium: install Debian's chromium package (apt-get install chromium) or set ROSTER_CHROMIUM to run the browser tests"
		if os.Getenv("ROSTER_REQUIRE_CHROMIUM") == "1" {
			t.Fatal(msg + " (ROSTER_REQUIRE_CHROMIUM=1)")
		}
		t.Skip(msg)
	}
	shared.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox, // the tests may run as root, which Chromium's sandbox refuses
			chromedp.WindowSize(1280, 900),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		shared.cancel = func() { cancelBrowser(); cancelAlloc() }
		shared.ctx = bctx
		started := make(chan error, 1)
		go func() { started <- chromedp.Do(bctx) }() // starts the browser and its first tab
		select {
		case shared.err = <-started:
		case <-time.After(30 * time.Second):
			shared.err = errors.New("the browser did not start within 30 s")
		}
		if shared.err != nil {
			shared.err = fmt.Errorf("starting %s: %w", path, shared.err)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.ctx
}

// reassignCall is one call of the client's Reassigner.
type reassignCall struct{ tenant, from, to string }

// testClock is the client's clock: now, until a test moves it on (the SDK
// rate-limits invitation resends by it).
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// screen is one test's team screen: a client on a fresh memstore, a
// tenant, an httptest server mounting the screen at /team (and in French
// at /fr/team), and who acts.
type screen struct {
	t      *testing.T
	client *sdk.Client
	clock  *testClock
	tenant *sdk.Tenant
	owner  *sdk.Member
	srv    *httptest.Server

	mu        sync.Mutex
	reassigns []reassignCall
}

// newScreen creates the tenant req describes (slug and owner filled in
// when empty) and serves the screen for it. The acting member is chosen
// by the "member" cookie, which GET /signin?member=ID sets: the host's
// sign-in, reduced to what the tests need.
func newScreen(t *testing.T, req sdk.CreateTenantRequest, opts ...ui.Option) *screen {
	t.Helper()
	s := &screen{t: t, clock: &testClock{}}
	reassigner := sdk.ReassignFunc(func(_ context.Context, tenant, from, to string) (sdk.ReassignResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reassigns = append(s.reassigns, reassignCall{tenant, from, to})
		return sdk.ReassignResult{Reassigned: map[string]int{"lists": 2}, Broken: []string{"API key ci-deploy"}}, nil
	})
	s.client = sdk.New(memstore.New(), sdk.WithClock(s.clock.now), sdk.WithReassigner(reassigner))
	if req.Slug == "" {
		req.Slug = "acme"
	}
	if req.OwnerEmail == "" {
		req.OwnerEmail, req.OwnerGivenName, req.OwnerFamilyName = "olivia@acme.test", "Olivia", "Owner"
	}
	if req.IncludedSeats == 0 {
		req.IncludedSeats = 10
	}
	var err error
	s.tenant, s.owner, err = s.client.CreateTenant(t.Context(), sdk.SystemActor(), req)
	if err != nil {
		t.Fatal(err)
	}
	identify := func(r *http.Request) (ui.Identity, error) {
		c, err := r.Cookie("member")
		if err != nil || c.Value == "" {
			return ui.Identity{}, ui.ErrSignedOut
		}
		return ui.Identity{TenantID: s.tenant.ID, MemberID: c.Value}, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /signin", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "member", Value: r.FormValue("member"), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		next := r.FormValue("next")
		if next == "" {
			next = "/team/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
	mux.Handle("/team/", ui.New("/team", s.client, identify, opts...))
	mux.Handle("/fr/team/", ui.New("/fr/team", s.client, identify, append(slices.Clone(opts), ui.WithLanguage("fr"))...))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// add adds an active member with role as the owner.
func (s *screen) add(given, family, email, role string) *sdk.Member {
	s.t.Helper()
	m, err := s.client.AddMember(s.t.Context(), sdk.MemberActor(s.owner.ID), sdk.AddMemberRequest{
		TenantID: s.tenant.ID, Email: email, Role: role,
		Profile: sdk.Profile{GivenName: given, FamilyName: family},
	})
	if err != nil {
		s.t.Fatalf("adding %s: %v", email, err)
	}
	return m
}

// member reads a member through the SDK; nil when there is none.
func (s *screen) member(id string) *sdk.Member {
	s.t.Helper()
	m, err := s.client.Member(context.Background(), s.tenant.ID, id)
	return s.orNil(id, m, err)
}

// memberByEmail reads a member by address through the SDK; nil when
// there is none.
func (s *screen) memberByEmail(email string) *sdk.Member {
	s.t.Helper()
	m, err := s.client.MemberByEmail(context.Background(), s.tenant.ID, email)
	return s.orNil(email, m, err)
}

// orNil returns the member a read found, nil for not found, and fails
// the test on any other error.
func (s *screen) orNil(what string, m *sdk.Member, err error) *sdk.Member {
	s.t.Helper()
	if errors.Is(err, sdk.ErrNotFound) {
		return nil
	}
	if err != nil {
		s.t.Fatalf("reading member %s: %v", what, err)
	}
	return m
}

// readTenant reads the tenant through the SDK.
func (s *screen) readTenant() *sdk.Tenant {
	s.t.Helper()
	tn, err := s.client.Tenant(context.Background(), s.tenant.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return tn
}

func (s *screen) reassignCalls() []reassignCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reassigns)
}

// tab is one test's browser tab on a screen.
type tab struct {
	t     *testing.T
	s     *screen
	ctx   context.Context
	dir   string // screenshots
	shots int

	mu         sync.Mutex
	exceptions []string
	dialogs    []string
}

// open opens a tab on s for the rest of the test (at most flowTimeout),
// in a browser context of its own, like a private window: the test
// servers all listen on 127.0.0.1, and cookies ignore the port, so tabs
// sharing one cookie jar would sign each other in. JavaScript dialogs are
// accepted and recorded; an uncaught JavaScript exception fails the test.
func (s *screen) open() *tab {
	t := s.t
	t.Helper()
	tctx, closeTab := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
	ctx, cancel := context.WithTimeout(tctx, flowTimeout)
	t.Cleanup(func() { cancel(); closeTab() })
	tb := &tab{t: t, s: s, ctx: ctx, dir: artifactsDir(t)}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("opening a tab: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, ev.Message)
			tb.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil && e.ExceptionDetails.Exception.Description != "" {
				msg = e.ExceptionDetails.Exception.Description
			}
			tb.mu.Lock()
			tb.exceptions = append(tb.exceptions, msg)
			tb.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, e := range tb.exceptions {
			t.Errorf("uncaught JavaScript exception: %s", e)
		}
	})
	t.Logf("screenshots: %s", tb.dir)
	return tb
}

// artifactsDir returns (creating it) the folder of t's screenshots.
func artifactsDir(t *testing.T) string {
	root := os.Getenv("ROSTER_TEST_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "roster-test-artifacts")
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	dir := filepath.Join(root, "ui", name)
	_ = os.RemoveAll(dir) // a rerun's screenshots replace the last run's
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// do runs actions in the tab, failing the test on error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.fail("%s: %v", what, err)
	}
}

// fail saves a screenshot and the page's HTML, then fails the test.
func (tb *tab) fail(format string, args ...any) {
	tb.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		p := filepath.Join(tb.dir, "failure.png")
		if os.WriteFile(p, png, 0o644) == nil {
			msg += "\nscreenshot: " + p
		}
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		p := filepath.Join(tb.dir, "failure.html")
		if os.WriteFile(p, []byte(html), 0o644) == nil {
			msg += "\npage: " + p
		}
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\nat " + loc
	}
	tb.t.Fatal(msg)
}

// shot saves a full-page screenshot of the current page as
// <n>-<step>.png.
func (tb *tab) shot(step string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.fail("screenshot %s: %v", step, err)
	}
	tb.shots++
	p := filepath.Join(tb.dir, fmt.Sprintf("%02d-%s.png", tb.shots, step))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// signIn makes member the acting member and opens path under /team.
func (tb *tab) signIn(member *sdk.Member, path string) {
	tb.t.Helper()
	tb.navigate("/signin?member=" + member.ID + "&next=/team" + path)
}

// visit opens path under /team.
func (tb *tab) visit(path string) {
	tb.t.Helper()
	tb.navigate("/team" + path)
}

// navigate opens path on the test server and waits for the page.
func (tb *tab) navigate(path string) {
	tb.t.Helper()
	tb.do("navigate to "+path, chromedp.Navigate(tb.s.srv.URL+path))
	tb.waitLoaded("navigate to " + path)
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.fail("evaluating %s: %v", expr, err)
	}
	return v
}

// count returns how many elements match a CSS selector.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, `document.querySelectorAll(`+js(sel)+`).length`)
}

// has reports whether an element matches a CSS selector.
func (tb *tab) has(sel string) bool {
	tb.t.Helper()
	return tb.count(sel) > 0
}

// text returns the trimmed text of the first element matching sel,
// waiting for it.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	tb.waitFor(sel)
	return strings.TrimSpace(eval[string](tb, `document.querySelector(`+js(sel)+`).innerText`))
}

// html returns the current page's markup.
func (tb *tab) html() string {
	tb.t.Helper()
	return eval[string](tb, `document.documentElement.outerHTML`)
}

// waitFor waits until an element matches sel.
func (tb *tab) waitFor(sel string) {
	tb.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for !tb.has(sel) {
		if time.Now().After(deadline) {
			tb.fail("no element %s on the page", sel)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLoaded waits until the tab holds a new document, fully loaded: the
// marker click sets on the old one is gone.
func (tb *tab) waitLoaded(what string) {
	tb.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ready, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`!window.__rosterStale && document.readyState === "complete"`))
		if err == nil && ready {
			return
		}
		if time.Now().After(deadline) {
			tb.fail("%s: the page did not load within %v (last error: %v)", what, stepTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// click clicks the first element matching sel with the mouse and waits
// for the page it leads to.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.waitFor(sel)
	tb.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__rosterStale = true`))
	tb.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	tb.waitLoaded("after clicking " + sel)
}

// submit clicks the submit button of the form holding the element sel
// matches, and waits for the page it leads to.
func (tb *tab) submit(sel string) {
	tb.t.Helper()
	tb.waitFor(sel)
	ok := eval[bool](tb, `(() => {
		document.querySelectorAll("[data-roster-test-submit]").forEach(e => e.removeAttribute("data-roster-test-submit"));
		const el = document.querySelector(`+js(sel)+`);
		const form = el.form || el.closest("form");
		if (!form) return false;
		const b = form.querySelector("button[type=submit], button:not([type]), input[type=submit]");
		if (!b) return false;
		b.setAttribute("data-roster-test-submit", "");
		return true;
	})()`)
	if !ok {
		tb.fail("no submit button in the form of %s", sel)
	}
	tb.click("[data-roster-test-submit]")
}

// set sets the value of the form field sel matches (an input, a select),
// as the browser does when a user types or picks, with its input and
// change events.
func (tb *tab) set(sel, value string) {
	tb.t.Helper()
	tb.waitFor(sel)
	ok := eval[bool](tb, `(() => {
		const el = document.querySelector(`+js(sel)+`);
		el.value = `+js(value)+`;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return el.value === `+js(value)+`;
	})()`)
	if !ok {
		tb.fail("%s cannot take the value %q", sel, value)
	}
}

// setFormField sets the field name of the form that holds the element
// sel matches (typically the form's submit button).
func (tb *tab) setFormField(sel, name, value string) {
	tb.t.Helper()
	tb.waitFor(sel)
	ok := eval[bool](tb, `(() => {
		const el = document.querySelector(`+js(sel)+`);
		const f = (el.form || el.closest("form")).elements.namedItem(`+js(name)+`);
		if (!f) return false;
		f.value = `+js(value)+`;
		f.dispatchEvent(new Event("input", {bubbles: true}));
		f.dispatchEvent(new Event("change", {bubbles: true}));
		return f.value === `+js(value)+`;
	})()`)
	if !ok {
		tb.fail("the form of %s has no field %s taking %q", sel, name, value)
	}
}

// typeInto types text into the field sel matches, key by key, after
// clearing it.
func (tb *tab) typeInto(sel, text string) {
	tb.t.Helper()
	tb.waitFor(sel)
	tb.do("type into "+sel, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// check ticks the checkbox sel matches with a click.
func (tb *tab) check(sel string) {
	tb.t.Helper()
	tb.waitFor(sel)
	tb.do("tick "+sel, chromedp.Click(chromedp.CSS(sel)))
	if !eval[bool](tb, `document.querySelector(`+js(sel)+`).checked`) {
		tb.fail("%s is not ticked after a click", sel)
	}
}

// row returns the selector of the members table's row of m.
func row(m *sdk.Member) string { return `#members tr[data-member-id="` + m.ID + `"]` }

// action returns the selector of a data-action control inside scope.
func action(scope, name string) string {
	return strings.TrimSpace(scope + ` [data-action="` + name + `"]`)
}
