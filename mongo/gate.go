package mongo

import "sync"

// WithWriteGate makes the store hold g shared (RLock) around each write it
// serialises (see [WithSerializedWrites]), together with the per-document
// lock. The owner of g takes it exclusively while a write that did not go
// through this store runs — the embedded server does, for each request its
// Unix socket forwards from another process — so that FerretDB's
// read-then-write updates from other processes never interleave with this
// process's. It has no effect when writes are not serialised.
func WithWriteGate(g *sync.RWMutex) Option {
	return func(c *config) { c.gate = g }
}

// gated returns unlock extended to also release the write gate, which it
// takes shared; with no gate it returns unlock.
func (s *Store) gated(unlock func()) func() {
	if s.gate == nil {
		return unlock
	}
	s.gate.RLock()
	return func() {
		s.gate.RUnlock()
		unlock()
	}
}
