//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockDataDir takes the server lock of the data directory dir for this
// process, failing with a *lockedError when another server holds it. The
// lock goes with the process, however it ends.
func lockDataDir(dir string) (release func() error, err error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPath(err))
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &lockedError{dir: dir, pid: readLockPID(path)}
		}
		return nil, fmt.Errorf("cannot lock data directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		_ = f.Truncate(0)
		err := unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return errors.Join(err, f.Close())
	}, nil
}

// lockedError reports that another server serves a data directory.
type lockedError struct {
	dir string
	pid int
}

func (e *lockedError) Error() string {
	if e.pid > 0 {
		return fmt.Sprintf("a roster server is already running on data directory %s (pid %d)", e.dir, e.pid)
	}
	return fmt.Sprintf("a roster server is already running on data directory %s", e.dir)
}

// readLockPID returns the pid a server wrote into the lock file, or 0.
func readLockPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var pid int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d", &pid); err != nil {
		return 0
	}
	return pid
}
