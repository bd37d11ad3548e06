// Package integration tests Roster end to end against a real database: the
// store conformance suite on a MongoDB server, SCIM request sequences
// through the roster binary, two 'roster serve' processes sharing one
// database under concurrent SCIM traffic, and processes killed with
// SIGKILL in the middle of their writes, restarted and re-run.
//
// The database is, in order of precedence:
//
//   - the server at MONGODB_URI, when set (each test uses databases of its
//     own and drops them afterwards);
//   - a container started with testcontainers-go's MongoDB module from the
//     image ROSTER_TEST_MONGO_IMAGE (default mongo:8.0), on a standalone
//     server: Roster needs no replica set.
//
// When neither is available — no Docker engine reachable — every test
// skips with a message saying so, so that 'go test ./...' needs no Docker.
// ROSTER_REQUIRE_DOCKER=1 turns that skip into a failure, for CI.
//
// Where no image can be pulled, CI builds one from this repository
// (integration/ferretdb-server: Roster's embedded FerretDB listening on
// TCP, in a FROM scratch image) and points ROSTER_TEST_MONGO_IMAGE at it;
// see .ci/run.
//
// The tests build the roster binary once (go build) and drive it as a user
// would: 'roster tenant create', 'roster token create', 'roster sync
// --json', 'roster serve --mongo-uri'. Servers listen on 127.0.0.1 only;
// every request loop is bounded in count and time.
package integration
