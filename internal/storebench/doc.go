// Package storebench holds the benchmarks that compare Roster's stores in
// one run, through the SDK: the in-memory store (the baseline, serve
// --memory), the SQLite store (the embedded default, serve --data) and the
// mongo store on FerretDB (the mongo store's test double, and the embedded
// store of earlier Rosters), plus the count of database commands each SDK
// operation costs on the mongo store. The figures and the commands that
// produce them are in BENCHMARKS.md at the repository root.
package storebench
