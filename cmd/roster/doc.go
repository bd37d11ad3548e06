// Command roster runs the Roster server and administers its tenants and
// members. It is the one binary of the project: it wires the SDK
// ([github.com/rosterhq/roster/sdk]) to a store and serves it over HTTP.
//
// Usage:
//
//	roster serve  [--addr 127.0.0.1:8080] [--data ./roster-data | --mongo-uri URI | --memory] [--db roster]
//	roster tenant create SLUG --owner-email EMAIL [--name NAME] [--seats N] [--roles PRESET]
//	roster tenant list
//	roster tenant reconcile  SLUG
//	roster tenant show       SLUG
//	roster tenant seats      SLUG --add N | --remove N
//	roster tenant settings   SLUG [--invite-policy P] [--seat-states S,...] [--default-role R] [--successor-role R] [--require-mfa=BOOL] [--unique-email-across-tenants=BOOL]
//	roster tenant delete     SLUG [--yes]
//	roster token create      --tenant SLUG [--name NAME]
//	roster token list        --tenant SLUG
//	roster token revoke      --tenant SLUG ID
//	roster member list       --tenant SLUG [--status STATUS] [--role ROLE] [--prefix TEXT]
//	roster member add        --tenant SLUG --email EMAIL [--given-name NAME] [--family-name NAME] [--role ROLE]
//	roster member invite     --tenant SLUG --email EMAIL [--given-name NAME] [--family-name NAME] [--role ROLE]
//	roster member resend     --tenant SLUG MEMBER
//	roster member revoke     --tenant SLUG MEMBER
//	roster member deactivate --tenant SLUG MEMBER
//	roster member reactivate --tenant SLUG MEMBER
//	roster member logout     --tenant SLUG MEMBER
//	roster member remove     --tenant SLUG MEMBER
//	roster member show       --tenant SLUG MEMBER
//	roster member edit       --tenant SLUG MEMBER [--email E] [--given-name G] [--family-name F] [--password-stdin]
//	roster member role       --tenant SLUG MEMBER ROLE
//	roster member transfer-owner --tenant SLUG MEMBER
//	roster member bulk remove|logout|role --tenant SLUG --file F|- [--role R]
//	roster group list        --tenant SLUG
//	roster group show        --tenant SLUG GROUP
//	roster group role        --tenant SLUG GROUP ROLE|--clear
//	roster audit list        --tenant SLUG [--member M] [--action A] [--channel C] [--since T] [--limit N] [--cursor C]
//	roster sync --tenant SLUG --file FILE|- [--format csv|jsonl] [--delimiter D] [--dry-run] [--deprovision none|deactivate|delete] [--max-deprovision N|P%] [--force] [--json] [--metrics-file FILE]
//	            [--source bamboohr|workday|hibob|personio|rippling|generic] [--map 'Col=field,...'] [--map-file F] [--status-map 'Value=active|inactive|ignore,...'] [--show-mapping]
//	roster version [--json]      (also roster --version)
//	roster completion bash|zsh|fish|powershell
//
// MEMBER is an email address or a member id. Admin commands act as the
// host system ([sdk.SystemActor]), sync as the run ([sdk.SyncActor]
// "cli:FILE"); every rule (seat limits, owner protection) is the SDK's.
// Tables and, with --json, JSON documents go to stdout, as do the values
// a script captures: the new id ('tenant create', 'member add'), a SCIM
// token ('token create') or an invitation secret ('member invite',
// 'member resend'), each alone on its line and shown only that once.
// Messages, reports for people and logs go to stderr. A failing or
// refused command exits 1 (so do 'sync' and 'member bulk' when any row or
// item failed), a malformed command line 2 (the message names the help of
// the subcommand), a sync stopped by Ctrl-C or SIGTERM 130.
//
// # Sync
//
// 'roster sync' reads an HR export whole with [hrsync.Read] (the format
// from --format, else from the file name), then runs [sdk.Client.Sync].
// A file that cannot be trusted as a whole — unparsable, a duplicate
// email or external id, a cycle of managers — is refused with its line and
// column before anything is written; unknown columns are reported and
// ignored. The report goes to stderr (counts, then every failed and
// skipped row with its line, key, reason and message), or with --json to
// stdout as [sdk.SyncSummary]. The exit status is 1 when any row failed.
// --metrics-file records the run (rows by outcome, duration, last run and
// last success) in node_exporter's textfile-collector format.
// A progress bar is drawn on stderr whenever stderr is a terminal (stdout
// may be redirected: the report goes there, the bar is cleared).
//
// # Tokens and reconciliation
//
// 'token create' prints the SCIM bearer token alone on stdout; the store
// keeps its hash, 'token list' shows ids, names, the last four characters
// and when each was last used. 'tenant reconcile' runs
// [sdk.Client.Reconcile] and [sdk.Client.ReconcileGroups] (when the store
// has groups) and says what it repaired; serve runs the same for every
// tenant in the background at start-up, --reconcile-concurrency tenants at
// a time, and logs what it repaired. 'token revoke' says how long servers
// may still accept the token: their --token-cache-ttl.
//
// # Store
//
// The store is, in order of precedence: MongoDB (--mongo-uri), an
// in-memory store (serve --memory: everything is lost on exit, and admin
// commands cannot reach it), or the embedded store — SQLite
// ([github.com/rosterhq/roster/sqlite]) in DIR/roster.db — in the data
// directory (--data, default ./roster-data). One server at a time may
// serve a data directory (it holds DIR/roster.lock); a second fails with a
// message saying so. Admin commands open the same database file while a
// server runs: SQLite's locking orders their transactions with the
// server's, so every invariant holds across processes. A data directory in
// the earlier embedded format (FerretDB, DIR/db/) is refused with a
// message saying how to convert it; a file that is not a Roster database
// is refused and left untouched.
//
// 'backup --to FILE' writes a consistent copy of the embedded store while
// the server runs; 'migrate --to-mongo-uri URI' copies every record into
// MongoDB, resumably, and checks the counts of each collection.
//
// # Environment
//
// A flag given on the command line wins over its variable.
//
//	ROSTER_DATA         --data
//	ROSTER_MONGODB_URI  --mongo-uri
//	ROSTER_DB           --db
//	ROSTER_ADDR         serve --addr
//	ROSTER_SCIM_RATE              serve --scim-rate (per token per second; 0: off)
//	ROSTER_SCIM_BURST             serve --scim-burst
//	ROSTER_MAX_BODY_BYTES         serve --max-body-bytes
//	ROSTER_TOKEN_CACHE_TTL        serve --token-cache-ttl, token revoke --token-cache-ttl
//	ROSTER_SHUTDOWN_TIMEOUT       serve --shutdown-timeout
//	ROSTER_RECONCILE_CONCURRENCY  serve --reconcile-concurrency
//
// The limits are per server. A value a setting does not accept is a usage
// error (exit 2) naming the flag or variable it came from.
//
// At start-up, serve creates a tenant when ROSTER_BOOTSTRAP_TENANT names
// one that does not exist yet, owned by ROSTER_BOOTSTRAP_OWNER_EMAIL with
// ROSTER_BOOTSTRAP_SEATS seats (default 10); it leaves an existing tenant
// as it is. ROSTER_BOOTSTRAP_TOKEN, when set (at least 32 characters), is
// registered as the tenant's SCIM token named "bootstrap"; registering is
// idempotent, so restarts keep one token. This is how a container, or a
// --memory server, gets its first tenant and token. A malformed email or a
// short token stops the start.
//
// # Serving
//
// serve answers GET /healthz with 200 once ready (503 before and while
// shutting down), exposes Prometheus metrics at /metrics
// (roster_http_requests_total and roster_http_request_duration_seconds by
// route template, method and code; roster_scim_requests_total by resource,
// method and outcome; roster_scim_throttled_total,
// roster_store_errors_total, roster_mongo_commands_total by command,
// roster_reconcile_tenants_total; Go and process metrics), logs with
// log/slog (--log-format text|json, --log-level; with json every line on
// stderr is JSON, messages for people included), writes one access-log
// line per request ("request": method, route template, status, duration,
// tenant slug, token id — never a token, a body or the query; /healthz and
// /metrics at debug level, SCIM details from [scim.RequestInfo]), and on SIGINT or SIGTERM
// stops accepting requests, lets running ones finish (--shutdown-timeout),
// then closes the store. [NewRouter] assembles
// the routes; the SCIM 2.0 endpoint ([scim.Handler]) serves every tenant
// at /scim/v2/{tenant}, authenticated by the tenant's tokens.
package main
