package mongo

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/event"
)

// CommandCounter counts the database commands a client sends, in total and
// by command name, so that tests, benchmarks and the roster command can
// report round trips per operation. Install it with
// WithCommandMonitor(c.Monitor()). It is safe for concurrent use; the zero
// value is ready.
type CommandCounter struct {
	n      atomic.Int64
	mu     sync.Mutex
	byName map[string]int64
}

// Monitor returns a command monitor that counts every command started.
func (c *CommandCounter) Monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			c.n.Add(1)
			c.mu.Lock()
			if c.byName == nil {
				c.byName = map[string]int64{}
			}
			c.byName[e.CommandName]++
			c.mu.Unlock()
		},
	}
}

// Count returns the number of commands counted since the last Reset.
func (c *CommandCounter) Count() int64 { return c.n.Load() }

// ByName returns a copy of the counts per command name ("find", "update",
// "insert", "findAndModify", "aggregate", ...) since the last Reset.
func (c *CommandCounter) ByName() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byName)
}

// Reset sets the counts back to zero.
func (c *CommandCounter) Reset() {
	c.mu.Lock()
	c.n.Store(0)
	clear(c.byName)
	c.mu.Unlock()
}
