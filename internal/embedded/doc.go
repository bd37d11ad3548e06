// Package embedded runs Roster's embedded database: FerretDB v1
// ([github.com/FerretDB/FerretDB/ferretdb]) with its SQLite handler,
// in-process, storing everything under one data directory. Roster talks to
// it exactly as it talks to MongoDB — through the official driver and the
// [github.com/rosterhq/roster/mongo] store — so the embedded default and a
// production MongoDB share one adapter.
//
// A data directory holds:
//
//	DIR/roster.lock   exclusive lock (flock) of the process serving DIR, and
//	                  where its socket is, for other processes to find it
//	DIR/mongod.sock   the Unix socket FerretDB listens on while running
//	DIR/db/           the SQLite databases
//
// Exactly one process serves a data directory at a time: [Start] takes the
// lock and fails with a [*LockedError] (matching [ErrLocked]) when another
// process holds it. Administrative commands use [Connect] instead: when a
// server is running on the directory they talk to its FerretDB through its
// socket, so the SQLite files are never opened by two processes; otherwise
// they start a server of their own for the duration of the command.
//
// FerretDB's own logging is reduced to errors unless the configured logger
// is enabled at debug level, and its telemetry is disabled.
//
// The embedded store is meant for evaluation, development and small teams;
// production deployments point Roster at MongoDB.
package embedded
