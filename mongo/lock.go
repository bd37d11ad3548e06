package mongo

import (
	"context"
	"hash/maphash"
	"slices"
)

// docLocks serialises writes to the same document within this process. It
// is striped: two documents may share a stripe, which only serialises them
// needlessly. Each stripe is a one-slot channel so that waiting honours the
// caller's context.
type docLocks struct {
	seed    maphash.Seed
	stripes [256]chan struct{}
}

// processLocks is shared by every Store in the process, so that two stores
// opened on one database (a server and an admin command in one binary, or
// tests) exclude each other too.
var processLocks = newDocLocks()

func newDocLocks() *docLocks {
	l := &docLocks{seed: maphash.MakeSeed()}
	for i := range l.stripes {
		l.stripes[i] = make(chan struct{}, 1)
	}
	return l
}

// lock takes the stripes of every key, in stripe order so that two callers
// never wait on each other crosswise.
func (l *docLocks) lock(ctx context.Context, keys []string) (func(), error) {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		idx = append(idx, int(maphash.String(l.seed, k)%uint64(len(l.stripes))))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	unlock := func(n int) {
		for _, i := range idx[:n] {
			<-l.stripes[i]
		}
	}
	for n, i := range idx {
		select {
		case l.stripes[i] <- struct{}{}:
		case <-ctx.Done():
			unlock(n)
			return nil, ctx.Err()
		}
	}
	return func() { unlock(len(idx)) }, nil
}
