package embedded

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
	"golang.org/x/sys/unix"
)

// Names inside a data directory, as Roster laid it out before the SQLite
// store.
const (
	LockFile = "roster.lock"
	DBDir    = "db"
)

// ErrLocked is matched (with errors.Is) by the error [Start] returns when
// another process holds the data directory's lock.
var ErrLocked = errors.New("another process holds its lock (" + LockFile + ")")

// Config configures a server.
type Config struct {
	// Dir is the data directory; it is created (mode 0700) if missing.
	Dir string
	// Logger receives FerretDB's log records: errors only, unless Logger
	// is enabled at debug level, in which case all of them. Nil discards
	// them.
	Logger *slog.Logger
	// TCP, when set, is a TCP address such as "0.0.0.0:27017" on which the
	// server serves other processes through a proxy that runs one request
	// at a time (see the package documentation). FerretDB is then
	// reachable only through the proxy, and [Server.URI] is the proxy's.
	TCP string
}

// Server is FerretDB running in this process on a data directory whose
// lock it holds.
type Server struct {
	dir     string
	uri     string
	sockDir string // private directory of FerretDB's socket
	proxy   *proxy // nil without Config.TCP
	lock    *os.File
	stop    context.CancelFunc
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// newMu serialises ferretdb.New, which writes package-level state.
var newMu sync.Mutex

// maxSocketPath is the longest Unix socket path every supported kernel
// accepts: sun_path is 104 bytes on the BSDs and macOS (108 on Linux),
// the terminating NUL included.
const maxSocketPath = 103

// Start takes the lock of cfg.Dir and starts FerretDB on its databases,
// DIR/db/. It fails with an error matching [ErrLocked] when another process
// holds the lock, and with a message naming the directory when it cannot
// be created or written.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		return nil, errors.New("no data directory given")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.Dir, err)
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
			return nil, fmt.Errorf("data directory %s: %w", dir, ErrLocked)
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

// start runs FerretDB (and the proxy, with cfg.TCP) on dir, whose lock the
// caller holds. FerretDB listens on a Unix socket in a directory of its
// own under the temporary directory: short enough for the kernel whatever
// the data directory's path, never left over from an earlier run, and
// (mode 0700) open to this user only.
func start(cfg Config, dir string, lock *os.File) (*Server, error) {
	dbPath := filepath.Join(dir, DBDir)
	if err := os.MkdirAll(dbPath, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPath(err))
	}
	if strings.ContainsAny(dbPath, "?#") {
		return nil, fmt.Errorf("data directory %s: the path must not contain '?' or '#'", dir)
	}
	sqliteURL := (&url.URL{Scheme: "file", Path: dbPath + "/"}).String()

	sockDir, err := os.MkdirTemp("", "roster-ferretdb-")
	if err != nil {
		return nil, fmt.Errorf("cannot create a directory for FerretDB's socket: %w", err)
	}
	sock := filepath.Join(sockDir, "ferretdb.sock")
	if len(sock) > maxSocketPath {
		_ = os.RemoveAll(sockDir)
		return nil, fmt.Errorf("FerretDB's socket path %s is longer than the %d bytes a Unix socket allows: point TMPDIR at a shorter directory", sock, maxSocketPath)
	}
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: sock},
		Logger:    ferretLogger(cfg.Logger),
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	newMu.Unlock()
	if err != nil {
		_ = os.RemoveAll(sockDir)
		return nil, fmt.Errorf("cannot start FerretDB in %s: %w", dir, err)
	}

	s := &Server{dir: dir, uri: f.MongoDBURI(), sockDir: sockDir, lock: lock, done: make(chan struct{})}
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go func() {
		defer close(s.done)
		_ = f.Run(runCtx)
	}()
	if cfg.TCP != "" {
		ln, err := net.Listen("tcp", cfg.TCP)
		if err != nil {
			stop()
			<-s.done
			_ = os.RemoveAll(sockDir)
			return nil, fmt.Errorf("cannot listen on %s: %w", cfg.TCP, err)
		}
		s.proxy = newProxy(sock, cfg.Logger)
		s.proxy.serve(ln)
		s.uri = "mongodb://" + ln.Addr().String() + "/"
	}
	return s, nil
}

// URI returns the MongoDB URI to connect to: FerretDB's socket, open to
// this process's user only, or, with [Config.TCP], the proxy's address.
// Concurrent conditional writes through FerretDB's socket need [Serialize].
func (s *Server) URI() string { return s.uri }

// Dir returns the absolute data directory.
func (s *Server) Dir() string { return s.dir }

// Close closes the proxy's connections, stops FerretDB (giving its
// clients up to a few seconds to finish), removes its socket and releases
// the lock. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.proxy != nil {
			s.proxy.close()
		}
		s.stop()
		<-s.done
		var errs []error
		if err := os.RemoveAll(s.sockDir); err != nil {
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
