// Package embedded runs FerretDB v1 ([github.com/FerretDB/FerretDB/ferretdb])
// with its SQLite handler in-process, on one data directory. It is not part
// of the roster binary, whose embedded store is the SQLite store
// ([github.com/rosterhq/roster/sqlite]); it serves:
//
//   - as the mongo store's test double: the tests of
//     [github.com/rosterhq/roster/mongo] and internal/storebench run the
//     store over FerretDB wrapped with [Serialize], and the integration
//     image (integration/ferretdb-server) serves it to other processes
//     over TCP ([Config.TCP]) where no MongoDB image can be pulled;
//   - as the reader of the data directories of earlier Rosters, whose
//     embedded database was this FerretDB, for the one-off conversion to
//     the SQLite store.
//
// A data directory as those Rosters laid it out holds:
//
//	DIR/roster.lock  exclusive lock (flock) of the process that has the
//	                 directory open, so that two processes never open one
//	                 FerretDB directory
//	DIR/db/          FerretDB's SQLite databases
//
// [Start] takes the lock, failing with an error matching [ErrLocked] when
// another process holds it, and starts FerretDB on DIR/db/. FerretDB listens
// on a Unix socket in a private directory under the temporary directory
// ([Server.URI]), removed by [Server.Close].
//
// # Conditional writes
//
// FerretDB v1 executes a conditional update as a read followed by a
// write, not atomically, so two concurrent updates of one document can
// both pass their condition (two seat takers both see the last free
// seat). The mongo store, written for MongoDB, does nothing about that.
// In one process, [Serialize] wraps the store and runs its writes one
// tenant at a time. For clients in other processes (the integration
// image's 'roster serve' processes), FerretDB is reachable only through a
// small proxy on [Config.TCP] that reads each MongoDB wire protocol message
// whole (framed by its length header), forwards it to FerretDB and relays
// the reply, running one request at a time across all connections.
// Requests that expect no reply (OP_MSG moreToCome) are refused by closing
// the connection; FerretDB would answer them anyway.
//
// FerretDB's own logging is reduced to errors unless the configured logger
// is enabled at debug level, and its telemetry is disabled.
package embedded
