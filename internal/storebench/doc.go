// Package storebench holds the benchmarks that compare Roster's stores in
// one run: the in-memory store (the baseline) and the mongo store on the
// embedded FerretDB server, plus the count of database commands each SDK
// operation costs on the mongo store. The figures and the commands that
// produce them are in BENCHMARKS.md at the repository root.
package storebench
