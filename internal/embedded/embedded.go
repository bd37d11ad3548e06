package embedded

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"golang.org/x/sys/unix"
)

// Names inside the data directory.
const (
	LockFile   = "roster.lock"
	SocketFile = "mongod.sock"   // the proxy other processes connect to
	FerretFile = "ferretdb.sock" // FerretDB's own listener, for the serving process
	DBDir      = "db"
)

// ErrLocked is matched (with errors.Is) by the error [Start] returns when
// another process already serves the data directory.
var ErrLocked = errors.New("a roster server is already running on this data directory")

// LockedError reports that another process holds a data directory's lock.
type LockedError struct {
	Dir string // absolute data directory
	PID int    // the holder's process id, 0 when unknown
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("a roster server is already running on data directory %s (pid %d)", e.Dir, e.PID)
	}
	return fmt.Sprintf("a roster server is already running on data directory %s", e.Dir)
}

// Is makes a LockedError match [ErrLocked].
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Config configures an embedded server.
type Config struct {
	// Dir is the data directory; it is created (mode 0700) if missing.
	Dir string
	// Logger receives FerretDB's log records: errors only, unless Logger
	// is enabled at debug level, in which case all of them. Nil discards
	// them.
	Logger *slog.Logger
	// TCP, when set, makes the server also accept connections on this TCP
	// address, such as "127.0.0.1:0", as it does on its Unix socket
	// (through the write gate). The Unix socket is always on.
	TCP string
}

// Server is a FerretDB instance running in this process on a data
// directory whose lock it holds.
//
// FerretDB listens on a private socket that only this process uses
// ([Server.URI]); other processes reach it through a proxy on the data
// directory's socket ([Server.ProxyURI]) that forwards one request at a
// time while holding [Server.Gate] exclusively.
type Server struct {
	dir      string
	socket   string // the proxy's
	private  string // FerretDB's
	uri      string
	proxyURI string
	tcpURI   string
	gate     sync.RWMutex
	proxy    *proxy
	lock     *os.File
	stop     context.CancelFunc
	done     chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// lockInfo is what the lock holder writes into the lock file so that other
// processes can find its socket.
type lockInfo struct {
	PID    int    `json:"pid"`
	Socket string `json:"socket"`
	URI    string `json:"uri"`
}

// newMu serialises ferretdb.New, which writes package-level state.
var newMu sync.Mutex

// Start takes the lock of cfg.Dir and starts FerretDB on it. It fails with
// a [*LockedError] when another process serves the directory, and with a
// message naming the directory when it cannot be created or written. A
// socket file left behind by a server that crashed is removed.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir, err := absDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create data directory %s: %w", dir, unwrapPath(err))
	}
	lock, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPath(err))
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			info, _ := readLockInfo(dir)
			return nil, &LockedError{Dir: dir, PID: info.PID}
		}
		return nil, fmt.Errorf("cannot lock data directory %s: %w", dir, err)
	}
	s, err := start(cfg, dir, lock)
	if err != nil {
		_ = unix.Flock(int(lock.Fd()), unix.LOCK_UN)
		_ = lock.Close()
		return nil, err
	}
	return s, nil
}

// start runs FerretDB and its proxy on dir, whose lock the caller holds.
func start(cfg Config, dir string, lock *os.File) (*Server, error) {
	socket, err := socketPath(dir, SocketFile)
	if err != nil {
		return nil, err
	}
	private, err := socketPath(dir, FerretFile)
	if err != nil {
		return nil, err
	}
	// Holding the lock means no live server uses the sockets: any file
	// there is left over from one that crashed.
	for _, p := range []string{socket, private} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cannot remove stale socket %s: %w", p, unwrapPath(err))
		}
	}
	dbPath := filepath.Join(dir, DBDir)
	if err := os.MkdirAll(dbPath, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPath(err))
	}
	if strings.ContainsAny(dbPath, "?#") {
		return nil, fmt.Errorf("data directory %s: the path must not contain '?' or '#'", dir)
	}
	sqliteURL := (&url.URL{Scheme: "file", Path: dbPath + "/"}).String()

	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: private},
		Logger:    ferretLogger(cfg.Logger),
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	newMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("cannot start the embedded database in %s: %w", dir, err)
	}

	s := &Server{
		dir:      dir,
		socket:   socket,
		private:  private,
		uri:      SocketURI(private),
		proxyURI: SocketURI(socket),
		lock:     lock,
		done:     make(chan struct{}),
	}
	s.proxy = newProxy(private, &s.gate, cfg.Logger)
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go func() {
		defer close(s.done)
		_ = f.Run(runCtx)
	}()
	fail := func(err error) (*Server, error) {
		s.proxy.close()
		stop()
		<-s.done
		_ = os.Remove(socket)
		return nil, err
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return fail(fmt.Errorf("cannot listen on %s: %w", socket, err))
	}
	s.proxy.serve(ln)
	if cfg.TCP != "" {
		ln, err := net.Listen("tcp", cfg.TCP)
		if err != nil {
			return fail(fmt.Errorf("cannot listen on %s: %w", cfg.TCP, err))
		}
		s.tcpURI = "mongodb://" + ln.Addr().String() + "/"
		s.proxy.serve(ln)
	}
	if err := writeLockInfo(lock, lockInfo{PID: os.Getpid(), Socket: socket, URI: s.proxyURI}); err != nil {
		return fail(fmt.Errorf("data directory %s is not writable: %w", dir, err))
	}
	return s, nil
}

// URI returns the MongoDB URI of FerretDB's private socket, for this
// process only. Conditional writes through it must hold [Server.Gate]
// shared, as a store wrapped with Serialize(store, s.Gate()) does.
func (s *Server) URI() string { return s.uri }

// ProxyURI returns the MongoDB URI of the data directory's Unix socket,
// which other processes use: their requests run one at a time, each with
// the gate held exclusively.
func (s *Server) ProxyURI() string { return s.proxyURI }

// TCPURI returns the MongoDB URI of the proxy's TCP listener, or "" when
// [Config.TCP] was empty.
func (s *Server) TCPURI() string { return s.tcpURI }

// Gate returns the server's write gate. FerretDB v1 executes a conditional
// update as a read followed by a write, so two concurrent updates of one
// document can both pass their condition; a store wrapped with [Serialize]
// serialises this process's writes per tenant and holds the gate shared
// while doing so, and the proxy takes it exclusively around each request
// from another process.
func (s *Server) Gate() *sync.RWMutex { return &s.gate }

// Dir returns the absolute data directory.
func (s *Server) Dir() string { return s.dir }

// Socket returns the path of the Unix socket other processes connect to.
func (s *Server) Socket() string { return s.socket }

// Close closes the proxy's connections, stops FerretDB (giving this
// process's clients up to a few seconds to finish), removes the sockets
// and releases the lock. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.proxy.close()
		s.stop()
		<-s.done
		var errs []error
		for _, p := range []string{s.socket, s.private} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if err := s.lock.Truncate(0); err != nil {
			errs = append(errs, err)
		}
		if err := unix.Flock(int(s.lock.Fd()), unix.LOCK_UN); err != nil {
			errs = append(errs, err)
		}
		if err := s.lock.Close(); err != nil {
			errs = append(errs, err)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Conn is a database to talk to on a data directory: either the server
// of another process or one [Connect] started in this process.
type Conn struct {
	uri string
	srv *Server
}

// URI returns the MongoDB URI to connect to: the running server's proxy,
// or the private socket of the server Connect started.
func (c *Conn) URI() string { return c.uri }

// Gate returns the write gate to wrap the store with ([Serialize]): that
// of the server Connect started, which other processes may connect to
// meanwhile, or nil when another process serves the directory and its
// proxy does the gating.
func (c *Conn) Gate() *sync.RWMutex {
	if c.srv == nil {
		return nil
	}
	return c.srv.Gate()
}

// Server returns the server Connect started, or nil when another process
// serves the directory.
func (c *Conn) Server() *Server { return c.srv }

// Close stops the server Connect started, if any. Close the driver
// client first.
func (c *Conn) Close() error {
	if c.srv == nil {
		return nil
	}
	return c.srv.Close()
}

// connectWait bounds how long Connect waits for a server that holds the
// lock to publish its socket.
const connectWait = 15 * time.Second

// Connect returns a database on cfg.Dir for a short-lived command. When
// another process serves the directory, it returns that server's socket
// URI, so the SQLite files are never opened by two processes; otherwise it
// starts a server in this process, which [Conn.Close] stops.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	dir, err := absDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	deadline := time.Now().Add(connectWait)
	for {
		s, err := Start(ctx, cfg)
		if err == nil {
			return &Conn{uri: s.URI(), srv: s}, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		info, err := readLockInfo(dir)
		if err == nil && info.URI != "" && socketExists(info.Socket) {
			return &Conn{uri: info.URI}, nil
		}
		// The holder is still starting (or stopping): wait for it to
		// publish its socket or release the lock.
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("a roster server holds data directory %s but its socket is not answering", dir)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SocketURI returns the MongoDB URI of a Unix socket: the driver takes the
// URL-escaped path as the host.
func SocketURI(socket string) string {
	return "mongodb://" + url.QueryEscape(socket) + "/"
}

func absDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("no data directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("data directory %s: %w", dir, err)
	}
	return abs, nil
}

// maxSocketPath is the longest Unix socket path the kernel accepts:
// sun_path is 108 bytes on Linux, 104 on the BSDs and macOS, including
// the terminating NUL.
func maxSocketPath() int {
	if runtime.GOOS == "linux" {
		return 107
	}
	return 103
}

// socketPath returns where the socket name of dir is. It is DIR/name
// unless that path is too long for a Unix socket or contains a character
// the driver's URI parsing cannot take (':'), in which case it is a file in
// the temporary directory named after a hash of dir and name. Other
// processes find the proxy's socket through the lock file either way.
func socketPath(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if len(p) <= maxSocketPath() && !strings.Contains(p, ":") {
		return p, nil
	}
	sum := sha256.Sum256([]byte(dir + "\x00" + name))
	p = filepath.Join(os.TempDir(), "roster-"+hex.EncodeToString(sum[:8])+".sock")
	if len(p) > maxSocketPath() || strings.Contains(p, ":") {
		return "", fmt.Errorf("data directory %s: its socket path is longer than the %d bytes a Unix socket allows, and so is the fallback %s; use a shorter data directory path or TMPDIR",
			dir, maxSocketPath(), p)
	}
	return p, nil
}

func socketExists(p string) bool {
	if p == "" {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&fs.ModeSocket != 0
}

func writeLockInfo(f *os.File, info lockInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(append(b, '\n'), 0)
	return err
}

func readLockInfo(dir string) (lockInfo, error) {
	var info lockInfo
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return info, err
	}
	err = json.Unmarshal(b, &info)
	return info, err
}

// unwrapPath drops the path from a *fs.PathError, which the caller's
// message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ferretLogger returns the logger FerretDB gets: quiet unless l is enabled
// at debug level.
func ferretLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	l = l.With(slog.String("component", "ferretdb"))
	if l.Enabled(context.Background(), slog.LevelDebug) {
		return l
	}
	return slog.New(&minLevel{Handler: l.Handler(), min: slog.LevelError})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h *minLevel) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.Handler.Enabled(ctx, level)
}

func (h *minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h *minLevel) WithGroup(name string) slog.Handler {
	return &minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
