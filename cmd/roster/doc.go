// Command roster runs the Roster server and administers its tenants and
// members. It is the one binary of the project: it wires the SDK
// ([github.com/rosterhq/roster/sdk]) to a store and serves it over HTTP.
//
// Usage:
//
//	roster serve  [--addr 127.0.0.1:8080] [--data ./roster-data | --mongo-uri URI | --memory] [--db roster]
//	roster tenant create SLUG --owner-email EMAIL [--name NAME] [--seats N] [--roles PRESET]
//	roster tenant list
//	roster member list       --tenant SLUG [--status STATUS] [--role ROLE] [--prefix TEXT]
//	roster member add        --tenant SLUG --email EMAIL [--given-name NAME] [--family-name NAME] [--role ROLE]
//	roster member deactivate --tenant SLUG MEMBER
//	roster member reactivate --tenant SLUG MEMBER
//	roster member logout     --tenant SLUG MEMBER
//	roster member remove     --tenant SLUG MEMBER
//
// MEMBER is an email address or a member id. Admin commands act as the
// host system ([sdk.SystemActor]); every rule (seat limits, owner
// protection) is the SDK's. Tables and, with --json, JSON documents go to
// stdout ('tenant create' and 'member add' print the new id); messages and
// logs go to stderr. A failing command exits 1, a malformed command line 2.
//
// # Store
//
// The store is, in order of precedence: MongoDB (--mongo-uri), an
// in-memory store (serve --memory: everything is lost on exit, and admin
// commands cannot reach it), or the embedded database — FerretDB on SQLite
// ([github.com/rosterhq/roster/internal/embedded]) — in the data directory
// (--data, default ./roster-data). One server at a time may serve a data
// directory; a second fails with a message saying so. Admin commands work
// on the same directory while a server runs: they talk to the server's
// embedded database through its Unix socket.
//
// # Environment
//
// A flag given on the command line wins over its variable.
//
//	ROSTER_DATA         --data
//	ROSTER_MONGODB_URI  --mongo-uri
//	ROSTER_DB           --db
//	ROSTER_ADDR         serve --addr
//
// At start-up, serve creates a tenant when ROSTER_BOOTSTRAP_TENANT names
// one that does not exist yet, owned by ROSTER_BOOTSTRAP_OWNER_EMAIL with
// ROSTER_BOOTSTRAP_SEATS seats (default 10); it leaves an existing tenant
// as it is. ROSTER_BOOTSTRAP_TOKEN, when set, must be at least 32
// characters. This is how a container, or a --memory server, gets its
// first tenant. A malformed email or a short token stops the start.
//
// # Serving
//
// serve answers GET /healthz with 200 once ready (503 before and while
// shutting down), exposes Prometheus metrics at /metrics
// (roster_http_requests_total and roster_http_request_duration_seconds by
// route template, method and code, plus Go and process metrics), logs with
// log/slog (--log-format text|json, --log-level), and on SIGINT or SIGTERM
// stops accepting requests, lets running ones finish (--shutdown-timeout),
// then closes the store and the embedded database. [NewRouter] assembles
// the routes; the SCIM endpoint mounts at /scim/v2/{tenant}.
package main
