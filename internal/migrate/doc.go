// Package migrate copies everything a Roster store holds into another
// store: tenants, members, credentials, groups and their membership
// edges, invitations, SCIM tokens and audit events, keeping every id,
// version, timestamp, seat counter and owner as they are. It is what
// `roster migrate --to-mongo-uri URI` runs to move a data directory into
// MongoDB.
//
//	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{SourceID: dir})
//
// The source is any [sdk.Store], read only through the store contract, so
// that any store can be copied; the target is a [Target], which a store
// implements with idempotent imports: each record replaces the one with
// its id, or is inserted when there is none, exactly as given. The mongo
// store ([github.com/rosterhq/roster/mongo]) is a Target.
//
// # What a copy does
//
// [Copy] lists the source's tenants and copies them one at a time: the
// tenant, its members (in batches), their credentials, its groups with the
// edges of each, its invitations, its tokens and its audit log. It counts
// the records it reads; when a tenant is done it compares those counts
// with the target's ([Target.Counts]) for that tenant, and when every
// tenant is done, the totals. Any difference is a [*MismatchError] naming
// the collection and both numbers.
//
// # Interruptions
//
// Every import is an upsert by id, so running a copy again converges on
// the same target whatever stopped the earlier run. A target that also
// implements [Resumer] records its progress: which tenants were completed,
// with their counts. A run that finds an unfinished copy from the same
// [Options.SourceID] resumes it, skipping the tenants completed, and may
// do so although the target is not empty.
//
// # Refusing a target that holds data
//
// Copying into a database that already holds Roster data is most often a
// mistake (a URI pointing at the wrong database), so [Copy] refuses it
// with a [*NotEmptyError] (matching [ErrTargetNotEmpty]) unless
// [Options.AllowNonEmpty] is set or the run resumes a copy from the same
// source. A target tells whether it is empty through [Emptier]; one that
// cannot counts as empty while it holds none of the source's tenants.
//
// # Consistency
//
// The copy reads the source while it copies, one page after another: the
// source must not change meanwhile (copy from a snapshot, or with the
// server stopped). A record deleted from the source after an interrupted
// run copied it stays in the target, and the counts then differ.
package migrate
