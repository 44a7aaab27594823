package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// sqlCatalog is the Catalog on a database/sql database, SQLite or
// PostgreSQL.
type sqlCatalog struct {
	d *dialect
	// write runs every transaction that changes state. For SQLite it is
	// one connection whose transactions begin IMMEDIATE, so writers
	// queue in Go instead of spinning on SQLITE_BUSY; for PostgreSQL it
	// is the same pool as read.
	write *sql.DB
	// group runs concurrent transactions on write as group commits.
	group *txGroup
	// read answers the lookups that change nothing.
	read *sql.DB
	// garbageDelay is Options.GarbageDelay, defaulted.
	garbageDelay time.Duration
	// expireBatch is expireBatch, but for tests.
	expireBatch int
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written for all dialects (see dialect.sql) on a
// database or in a transaction.
type conn struct {
	q querier
	d *dialect
	// stmts, when set on a transaction's conn, keeps its queries
	// prepared.
	stmts *stmtCache
}

// txConn is a conn for the transaction tx, using stmts if not nil.
func txConn(tx *sql.Tx, d *dialect, stmts *stmtCache) conn {
	return conn{q: tx, d: d, stmts: stmts}
}

// on returns what runs query: a prepared statement in the transaction,
// or the database or transaction itself.
func (c conn) on(ctx context.Context, query string) (querier, string) {
	if tx, ok := c.q.(*sql.Tx); ok && c.stmts != nil {
		if st := c.stmts.get(query); st != nil {
			return stmtQuerier{tx.StmtContext(ctx, st)}, ""
		}
	}
	return c.q, query
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, text := c.on(ctx, c.d.sql(query))
	return q.ExecContext(ctx, text, args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, text := c.on(ctx, c.d.sql(query))
	return q.QueryContext(ctx, text, args...)
}

func (c conn) row(ctx context.Context, query string, args ...any) *sql.Row {
	q, text := c.on(ctx, c.d.sql(query))
	return q.QueryRowContext(ctx, text, args...)
}

// stmtQuerier runs its statement, whatever query text it is given.
type stmtQuerier struct{ s *sql.Stmt }

func (q stmtQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return q.s.ExecContext(ctx, args...)
}

func (q stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return q.s.QueryContext(ctx, args...)
}

func (q stmtQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return q.s.QueryRowContext(ctx, args...)
}

// reader is a conn for lookups outside a transaction.
func (c *sqlCatalog) reader() conn { return conn{q: c.read, d: c.d} }

// maxAttempts bounds how often withTx runs a transaction that failed with
// a retryable error (a PostgreSQL deadlock or serialisation failure,
// which the catalog's lock order should never cause).
const maxAttempts = 5

// withTx runs fn in one transaction on the writer and commits it, or
// rolls it back if fn fails. fn may run more than once, so it must set
// its results afresh each time. The transaction may be a savepoint in a
// group commit (see txGroup): fn must use only the conn it is given and
// return every error of its statements.
func (c *sqlCatalog) withTx(ctx context.Context, fn func(tx conn) error) error {
	for attempt := 1; ; attempt++ {
		err := c.tryTx(ctx, fn)
		if err == nil || attempt == maxAttempts || !c.d.retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (c *sqlCatalog) tryTx(ctx context.Context, fn func(tx conn) error) error {
	if c.group != nil {
		return c.group.run(ctx, fn)
	}
	return runTx(ctx, c.write, c.d, nil, fn)
}

// invalidError is bad input, refused before the database is asked.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return "catalog: " + e.msg }

func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// opErr names the operation in a database error. The catalog's own
// errors (the documented sentinels and types, and bad input) are returned
// as they are.
func opErr(op string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrUploadGone) || errors.Is(err, ErrExists) {
		return err
	}
	var q *QuotaError
	var r *ReplayError
	var in *invalidError
	if errors.As(err, &q) || errors.As(err, &r) || errors.As(err, &in) {
		return err
	}
	return fmt.Errorf("catalog: %s: %w", op, err)
}

// ms is t in Unix milliseconds, the catalog's unit of time.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMs is the time ms stands for, in UTC.
func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// expiresMs is an expiry for a nullable column: nil for the zero time
// (never).
func expiresMs(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// Ping checks that the database answers.
func (c *sqlCatalog) Ping(ctx context.Context) error {
	if err := c.write.PingContext(ctx); err != nil {
		return opErr("ping", err)
	}
	if c.read != c.write {
		return opErr("ping", c.read.PingContext(ctx))
	}
	return nil
}

// Close releases the database.
func (c *sqlCatalog) Close() error {
	err := c.write.Close()
	if c.read != c.write {
		err = errors.Join(err, c.read.Close())
	}
	return err
}
