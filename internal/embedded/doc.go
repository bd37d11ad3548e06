// Package embedded runs Roster's embedded database: FerretDB v1
// ([github.com/FerretDB/FerretDB/ferretdb]) with its SQLite handler,
// in-process, storing everything under one data directory. Roster talks to
// it exactly as it talks to MongoDB — through the official driver and the
// [github.com/rosterhq/roster/mongo] store, wrapped by [Serialize] for
// FerretDB's sake — so the embedded default and a production MongoDB share
// one adapter. (The embedded default is to become a SQLite store; FerretDB
// then remains the mongo store's test double.)
//
// A data directory holds:
//
//	DIR/roster.lock    exclusive lock (flock) of the process serving DIR, and
//	                   where its socket is, for other processes to find it
//	DIR/mongod.sock    the Unix socket other processes connect to while a
//	                   server runs: a proxy in front of FerretDB
//	DIR/ferretdb.sock  FerretDB's own listener, used by the serving process
//	DIR/db/            the SQLite databases
//
// (A socket whose path would be too long for the kernel lives in the
// temporary directory instead, under a name derived from DIR.)
//
// Exactly one process serves a data directory at a time: [Start] takes the
// lock and fails with a [*LockedError] (matching [ErrLocked]) when another
// process holds it. Administrative commands use [Connect] instead: when a
// server is running on the directory they talk to it through its socket,
// so the SQLite files are never opened by two processes; otherwise they
// start a server of their own for the duration of the command.
//
// # Writes from several processes
//
// FerretDB v1 executes a conditional update as a read followed by a
// write, not atomically, so two concurrent updates of one document can
// both pass their condition (two seat takers both see the last free
// seat). The mongo store, written for MongoDB, does nothing about that:
// [Serialize] wraps it and runs this process's writes one tenant at a
// time, which does not cover writes coming from another process. So the
// serving process does not expose FerretDB itself: its socket is a small
// proxy that reads each MongoDB wire protocol message whole (framed by its
// length header), forwards it to FerretDB's private socket and relays the
// reply, holding the server's write gate ([Server.Gate], a sync.RWMutex)
// exclusively while the request is in flight. The serving process opens
// its store on [Server.URI] and wraps it with Serialize(store,
// srv.Gate()), which holds the gate shared around each write. Every
// conditional write thus runs alone against the writes it could
// interleave with: in-process ones per tenant, proxied ones one at a
// time. Requests that expect no reply (OP_MSG moreToCome) are refused by
// closing the connection; FerretDB would answer them anyway.
//
// FerretDB's own logging is reduced to errors unless the configured logger
// is enabled at debug level, and its telemetry is disabled.
//
// The embedded store is meant for evaluation, development and small teams;
// production deployments point Roster at MongoDB.
package embedded
