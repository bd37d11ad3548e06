package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/rosterhq/roster/mongo"
)

// mongoOpen opens the MongoDB store of database db at uri, with opts.
func mongoOpen(ctx context.Context, uri, db string, log *slog.Logger, opts ...mongo.Option) (*mongo.Store, error) {
	return mongo.Open(ctx, uri, db, append([]mongo.Option{mongo.WithLogger(log)}, opts...)...)
}

// unreachable describes why the servers of a failed server selection did
// not answer ("127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection
// refused"), or returns "" when err is not a server selection failure.
func unreachable(err error) string {
	var sse topology.ServerSelectionError
	if !errors.As(err, &sse) {
		return ""
	}
	var why []string
	for _, s := range sse.Desc.Servers {
		if s.LastError != nil {
			why = append(why, fmt.Sprintf("%s: %v", s.Addr, s.LastError))
		}
	}
	if len(why) == 0 {
		return "no server answered"
	}
	return strings.Join(why, "; ")
}
