package mongo

import (
	"sync"
	"sync/atomic"
)

// Test hooks: tests stop a store at the points where a process could die
// between two of a method's writes (returning an error, as a crash would,
// skipping every later step, compensations included), or pause it there
// to run something in the gap. Nothing on the Store holds them, and a
// store without tests pays one atomic load per point.
var (
	hooksOn   atomic.Bool // set once any test installs a hook
	testHooks sync.Map    // *Store → func(point string) error
)

// crashPoint runs the test hook of s at point, if there is one, and
// returns its error.
func (s *Store) crashPoint(point string) error {
	if !hooksOn.Load() {
		return nil
	}
	h, ok := testHooks.Load(s)
	if !ok {
		return nil
	}
	return h.(func(string) error)(point)
}
