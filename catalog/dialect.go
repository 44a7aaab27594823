package catalog

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A dialect is what differs between the SQL databases behind a catalog.
// The queries are written once, in SQLite's and PostgreSQL's common
// syntax (upserts are INSERT ... ON CONFLICT in both), with ? for
// parameters and two markers for the locking clauses; sql translates
// them.
type dialect struct {
	name string
	// numbered: parameters are $1, $2... instead of ?.
	numbered bool
	// lock ends a SELECT that locks the rows it reads; skipLocked one
	// that locks them and skips rows another transaction holds. Both are
	// empty for SQLite, whose writing transactions hold the whole
	// database.
	lock, skipLocked string
	// migrationLock, when set, is run first in the migration
	// transaction to keep several processes from migrating at once.
	migrationLock string
	// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
	// constraint violation.
	uniqueViolation func(err error) bool
	// retryable reports whether a transaction that failed with err may
	// be run again from the start (a deadlock or serialisation failure).
	retryable func(err error) bool
}

// The markers sql replaces with a dialect's locking clauses.
const (
	lockRows = "{lock}"
	skipRows = "{skip}"
)

var sqliteDialect = &dialect{
	name:            "sqlite",
	uniqueViolation: sqliteUnique,
	retryable:       func(error) bool { return false },
}

// pgMigrationLock is the pg_advisory_lock key the migrations run under:
// the first 8 bytes of "fileup.c" read as a big-endian integer, so that
// it does not collide by chance with another application's small keys.
const pgMigrationLock = 0x66696c6575702e63

var postgresDialect = &dialect{
	name:            "postgres",
	numbered:        true,
	lock:            " FOR UPDATE",
	skipLocked:      " FOR UPDATE SKIP LOCKED",
	migrationLock:   "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(pgMigrationLock, 10) + ")",
	uniqueViolation: func(err error) bool { return pgCode(err) == "23505" },
	retryable: func(err error) bool {
		c := pgCode(err)
		return c == "40001" || c == "40P01" // serialization_failure, deadlock_detected
	},
}

// sql translates a query into the dialect: the locking markers become its
// clauses and, for PostgreSQL, each ? becomes $1, $2... The queries hold
// no ? in literals.
func (d *dialect) sql(q string) string {
	q = strings.ReplaceAll(q, lockRows, d.lock)
	q = strings.ReplaceAll(q, skipRows, d.skipLocked)
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for _, r := range q {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

func sqliteUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// args returns the arguments of a query: ss, then more.
func args(ss []string, more ...any) []any {
	a := make([]any, 0, len(ss)+len(more))
	for _, s := range ss {
		a = append(a, s)
	}
	return append(a, more...)
}

// params returns n comma-separated parameters, "?, ?, ?", for an IN list.
func params(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
