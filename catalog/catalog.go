// Package catalog keeps the reference server's file metadata in a SQL
// database: one row per stored file, each tenant's usage, the uploads in
// flight with their quota reservations, objects waiting to be deleted, and
// idempotency records. The bytes themselves live in a storage.Store under
// object keys the server chooses; a catalog row points at them.
//
// Two databases are supported behind one database/sql layer: SQLite,
// embedded and the default (Open("sqlite:PATH")), and PostgreSQL for
// several server processes sharing one catalog (Open("postgres://...")).
// Every operation that changes state is one transaction, so quotas hold
// and an overwrite is atomic across all processes that share a database.
//
// The life of an upload:
//
//  1. Begin records the upload (its object key, tenant and lease) and
//     reserves one file and some bytes against the tenant's quota, before
//     the first byte is written. An upload that would exceed a quota is
//     refused with a *QuotaError.
//  2. While the bytes stream into the store, Reserve adds bytes to the
//     reservation (in chunks, not per read) and extends the lease.
//  3. Commit makes the file visible under (tenant, path, name) in one
//     transaction: the row is inserted, a file it replaces is removed and
//     its object queued for deletion, the tenant's usage changes by the
//     difference, the reservation is released, and an idempotency record
//     is written when asked. Abort releases the reservation instead and
//     queues the object for deletion.
//
// A process that dies mid-upload leaves its upload row behind; once its
// lease has passed, Sweep releases the reservation and queues the object
// for deletion. Sweep also removes expired files (row first, object
// later) and expired idempotency records. Objects queued for deletion are
// handed out by ClaimGarbage and forgotten by Collected once deleted, so
// an object is deleted only after no row points at it, and a janitor that
// dies between the two leaves the work to the next.
//
// Times are passed in by the caller (the server's clock) and stored with
// millisecond precision.
//
// # What is stored
//
// Open creates or migrates these tables (the schema is embedded, one
// directory of numbered migrations per database, recorded in
// schema_migrations):
//
//   - files: one row per file, (tenant, path, name) and (link, name)
//     unique, with the object it points at; times as Unix milliseconds,
//     expires_ms NULL for never;
//   - tenants: each tenant's used and reserved bytes and files, kept in
//     the same transactions that change them, so a quota check reads one
//     row whatever the tenant stores;
//   - uploads: uploads in flight, their reservations and leases;
//   - garbage: objects to delete from the store and when;
//   - records: idempotency records, the File as JSON;
//   - settings: key/value pairs the server initialises once.
//
// Text columns hold any UTF-8 the server passes, except NUL. Strings that
// are indexed (IDs, tenants, paths, names, links, object keys, record and
// setting keys) may be up to 1 KiB each and 2 KiB per composite key, so
// that every key fits an index entry of both databases; longer ones, and
// invalid UTF-8, are refused with an error before the database is asked.
//
// # Databases
//
// "sqlite:PATH" is a SQLite file, created on first use in an existing
// directory, through a pure-Go driver (no C toolchain needed). It is the
// default and right for one server process. It runs in WAL mode with
// foreign keys on: reads use a pool of read-only connections, and every
// write goes through one connection whose transactions begin IMMEDIATE,
// so writers queue in Go instead of failing with SQLITE_BUSY. A second
// process may open the same file (it waits up to 10 s for the other's
// write transaction), but several servers should share PostgreSQL.
//
// "postgres://..." or "postgresql://..." is a PostgreSQL database (pgx's
// URL form; a pool of up to 16 connections per process). Any number of
// server processes may share it: every transaction is exact across them.
//
// # Transactions and locking
//
// Each method that changes state is one transaction. Every change to a
// tenant's files, usage or reservations locks the tenant's row
// (SELECT ... FOR UPDATE), so concurrent uploads of one tenant from any
// number of processes never take it past its quota. Sweep and
// ClaimGarbage take their rows with FOR UPDATE SKIP LOCKED, so several
// janitors share the work and never handle one row twice. Locks are
// always taken in one order (an upload before its tenant, several tenants
// in order or skipping locked ones), so transactions do not deadlock; one
// that fails with a deadlock or serialisation error anyway is retried.
// Migrations run under a PostgreSQL advisory lock, so of several
// processes starting at once one migrates and the others wait for it.
// On SQLite, the writing transaction holds the whole database.
//
// # Durability
//
// When a method that changes state returns nil, its transaction is
// committed. Concurrent changes are committed in groups, one commit (and
// one sync) for all the changes that queued while the previous commit
// was under way; each is still committed before its method returns, and
// a change that fails is undone alone. SQLite runs with synchronous=FULL: the write-ahead log is
// synced at every commit, so neither a crash of the process (kill -9)
// nor a power loss or kernel panic loses a committed row, provided the
// disk honours flush requests; the database stays consistent either way.
// (synchronous=NORMAL commits up to twice as fast on a local disk, but a
// power loss could then lose the commits since the last checkpoint:
// uploads already acknowledged to clients, or an overwrite whose replaced
// object the janitor has deleted since, leaving a row without bytes.)
// On PostgreSQL durability is the server's: with its defaults (fsync and
// synchronous_commit on) a committed row survives a crash of either side
// and a power loss.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned by a Catalog. Test with errors.Is / errors.As.
var (
	// ErrNotFound: no such file (or it has expired), upload, record or
	// setting.
	ErrNotFound = errors.New("catalog: not found")
	// ErrUploadGone: the upload's row no longer exists (it was committed
	// or aborted already, or its lease passed and Sweep released it).
	ErrUploadGone = errors.New("catalog: upload no longer reserved")
	// ErrExists: Begin was given an object key that is already in use.
	ErrExists = errors.New("catalog: already exists")
)

// QuotaError is a reservation refused because it would take the tenant
// over one of its limits.
type QuotaError struct {
	// Files is true when the file limit was reached, false for bytes.
	Files bool
	// Limit is the limit that was reached (files or bytes).
	Limit int64
}

func (e *QuotaError) Error() string {
	if e.Files {
		return fmt.Sprintf("catalog: file quota of %d reached", e.Limit)
	}
	return fmt.Sprintf("catalog: byte quota of %d reached", e.Limit)
}

// File is one stored file: a name pointing at an immutable object.
type File struct {
	// ID is the file's own identifier, unique in the catalog and new for
	// every upload (evolink's file_id is "file_" + ID).
	ID     string
	Tenant string
	// Path is the upload path ("images/user-uploads") and Name the file
	// name; (Tenant, Path, Name) is unique among live files.
	Path, Name string
	// Link is what precedes Name in the file's download URL,
	// /f/<Link>/<Name>; (Link, Name) is unique. Commit keeps the Link of
	// a live file it replaces, so a file's URL survives an overwrite.
	Link string
	// Object is the storage key of the file's bytes.
	Object       string
	Size         int64
	ContentType  string
	Checksum     string // "<algorithm>:<digest>", as the store computed it
	OriginalName string // the name the client sent, if any
	Created      time.Time
	Expires      time.Time // zero: never expires
}

// Expired reports whether f has expired at now.
func (f File) Expired(now time.Time) bool {
	return !f.Expires.IsZero() && !now.Before(f.Expires)
}

// Limits bound what one tenant may store; zero means unlimited. They are
// given with every call that reserves, so all processes must be
// configured alike.
type Limits struct {
	Bytes, Files int64
}

// Usage is what a tenant stores: the size and number of its live files.
type Usage struct {
	Bytes, Files int64
}

// Upload is an upload in flight.
type Upload struct {
	// Object is the storage key the bytes are written to; it identifies
	// the upload and must be new.
	Object string
	Tenant string
	// Path and Name are where the file will be stored, when that is known
	// as the upload begins (both empty otherwise). An upload to the name
	// of a live file replaces it and adds no file, so Begin reserves no
	// file for it: a tenant at its file limit can still replace its files.
	Path, Name string
	// Bytes is the reservation Begin makes (0 or more); Reserve adds to it.
	Bytes int64
	// Lease is when the reservation lapses unless renewed by Reserve.
	Lease time.Time
}

// Record is an idempotency record: the file stored by the first request
// that carried (Tenant, Scope, Key), answered again to its retries until
// Expires, even if the file has been replaced or has expired since.
type Record struct {
	Tenant string
	// Scope separates keys of different operations ("kie.stream", ...).
	Scope string
	Key   string
	// File is the file as Commit stored it (Commit fills it in).
	File    File
	Expires time.Time
}

// ReplayError is returned by Commit when an idempotency record for the
// same (Tenant, Scope, Key) was committed first, by a concurrent retry of
// the same request. The upload was aborted (its reservation released and
// its object queued for deletion); Record is the first request's answer.
type ReplayError struct {
	Record Record
}

func (e *ReplayError) Error() string { return "catalog: idempotency key already used" }

// Swept counts what one Sweep did.
type Swept struct {
	Expired  int // expired files removed (their objects queued)
	Reaped   int // uploads whose lease had passed, released
	Records  int // expired idempotency records removed
	Garbaged int // objects queued for deletion in all
}

// Options configure a catalog at Open.
type Options struct {
	// GarbageDelay is how long an object stays in the store after the
	// file that pointed at it was replaced or expired, so that downloads
	// already reading it can finish (default 10 minutes). Objects of
	// aborted or reaped uploads are not delayed.
	GarbageDelay time.Duration
}

// Catalog is the file catalog. Implementations are safe for concurrent
// use, by any number of processes sharing one database.
type Catalog interface {
	// Setting returns a setting's value, or ErrNotFound.
	Setting(ctx context.Context, key string) (string, error)
	// InitSetting stores value under key unless the key is set already,
	// and returns the value that is stored (value or the existing one):
	// of several processes starting at once, all get the same.
	InitSetting(ctx context.Context, key, value string) (string, error)

	// Begin records an upload and reserves one file (none when u names a
	// live file it will replace) and u.Bytes bytes for u.Tenant within
	// limits. Before refusing with a *QuotaError, it removes the tenant's
	// files expired at now, so expired files never count against a quota.
	Begin(ctx context.Context, u Upload, limits Limits, now time.Time) error
	// Reserve adds bytes to an upload's reservation within limits.Bytes
	// (a *QuotaError when they do not fit, leaving the reservation as it
	// was) and moves its lease to lease. bytes may be 0 to renew the
	// lease only. ErrUploadGone if the upload no longer exists.
	Reserve(ctx context.Context, object string, bytes int64, lease time.Time, limits Limits, now time.Time) error
	// Commit makes f (f.Object being an upload begun with Begin) the live
	// file at (f.Tenant, f.Path, f.Name), in one transaction:
	//   - a live file already there is replaced: its row is removed, its
	//     object queued for deletion after GarbageDelay, and f takes its
	//     Link; an expired one is removed likewise but f keeps its own Link;
	//   - the tenant's usage grows by f.Size and one file, less the
	//     replaced file's size and one file, and the upload's reservation
	//     is released (the bytes are not checked again: they were
	//     reserved while they arrived; an upload that reserved no file
	//     because it meant to replace one, and finds none to replace,
	//     needs a file within limits.Files now, else Commit returns a
	//     *QuotaError and commits nothing);
	//   - rec, if not nil, is stored with rec.File set to the stored file;
	//     if an unexpired record with its (Tenant, Scope, Key) exists,
	//     nothing of the above happens, the upload is aborted, and Commit
	//     returns a *ReplayError holding that record.
	// It returns the file as stored. ErrUploadGone if the upload no
	// longer exists (nothing is committed then).
	Commit(ctx context.Context, f File, rec *Record, limits Limits, now time.Time) (File, error)
	// Abort releases an upload's reservation and queues its object for
	// deletion at once. Aborting an upload that no longer exists is not an
	// error.
	Abort(ctx context.Context, object string, now time.Time) error
	// Import adds a file that is already stored (a one-time import of an
	// older storage format), charging the tenant's usage without limits.
	// If a live file exists at (f.Tenant, f.Path, f.Name), Import leaves
	// it and returns it with ErrExists.
	Import(ctx context.Context, f File, now time.Time) (File, error)

	// File returns the live file at (tenant, path, name) at now.
	File(ctx context.Context, tenant, path, name string, now time.Time) (File, error)
	// FileByID returns the live file with the given ID at now.
	FileByID(ctx context.Context, id string, now time.Time) (File, error)
	// FileByLink returns the live file with the given Link and Name at now.
	FileByLink(ctx context.Context, link, name string, now time.Time) (File, error)
	// Usage returns what the tenant stores at now (expired files are
	// removed first, as Begin does). A tenant never seen has zero usage.
	Usage(ctx context.Context, tenant string, now time.Time) (Usage, error)
	// Replay returns the unexpired idempotency record, or ErrNotFound.
	Replay(ctx context.Context, tenant, scope, key string, now time.Time) (Record, error)

	// Sweep does a bounded amount of the janitor's catalog work at now:
	// up to batch expired files, up to batch uploads whose lease has
	// passed, and up to batch expired idempotency records. Several
	// processes may sweep at once; each row is handled by one of them.
	Sweep(ctx context.Context, now time.Time, batch int) (Swept, error)
	// ClaimGarbage returns up to batch objects queued for deletion that
	// are due at now, and claims them for claim: they are not handed out
	// again before now+claim unless Collected first.
	ClaimGarbage(ctx context.Context, now time.Time, claim time.Duration, batch int) ([]string, error)
	// Collected forgets objects that have been deleted from the store.
	Collected(ctx context.Context, objects []string) error

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
