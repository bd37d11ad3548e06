//go:build !unix

package main

// lockDataDir does nothing where flock is not available: SQLite's own
// locking still keeps the data consistent, but a second server on the
// same directory is not refused.
func lockDataDir(string) (release func() error, err error) {
	return func() error { return nil }, nil
}
