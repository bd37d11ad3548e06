// Package sqlite is an [sdk.Store] on one SQLite database file, through
// the pure-Go driver modernc.org/sqlite: Roster's embedded default store
// (`roster serve --data DIR` opens DIR/roster.db with it).
//
// Work in progress: the full description of the schema, transactions,
// durability and concurrency follows with the implementation.
package sqlite
