package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// maxGroup bounds how many callers' transactions one group commit holds.
const maxGroup = 128

// txGroup runs the transactions of concurrent callers as group commits:
// the transactions that queue while one commit is being synced run
// together, in arrival order, in one database transaction, each in a
// savepoint of its own, and are made durable by one COMMIT, so one sync
// of the write-ahead log serves them all. On SQLite, whose writer is one
// connection, that sync set the pace of every change; on PostgreSQL the
// uploads of one tenant, which all update the tenant's row, waited for
// each other's syncs with the row locked, and now take the lock once per
// group. Each caller is still told its own result, and only once the COMMIT
// that holds its work has returned: a caller whose function fails is
// rolled back to its savepoint alone, and the others see the effects of
// those before them exactly as if they had run one after the other.
//
// There is no goroutine of its own: the first caller to find no commit
// under way leads, running batches until its own is done, and then hands
// the lead to the first caller still waiting.
type txGroup struct {
	db    *sql.DB
	d     *dialect
	stmts *stmtCache

	mu      sync.Mutex
	queue   []*txReq
	leading bool
}

// txReq is one caller's transaction.
type txReq struct {
	ctx  context.Context
	fn   func(tx conn) error
	err  error
	done bool          // err is the result; set before wake
	wake chan struct{} // the result is in, or this caller now leads
}

// run runs fn as part of a group commit and returns its result.
func (g *txGroup) run(ctx context.Context, fn func(tx conn) error) error {
	r := &txReq{ctx: ctx, fn: fn, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		<-r.wake
		if r.done {
			return r.err
		}
	}
	g.lead(r)
	return r.err
}

// lead runs batches from the queue until own's is done, then passes the
// lead on to the next caller waiting, if any.
func (g *txGroup) lead(own *txReq) {
	for !own.done {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		g.commit(batch)
		for _, r := range batch {
			r.done = true
			if r != own {
				r.wake <- struct{}{}
			}
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.leading = false
		g.queue = nil
		return
	}
	g.queue[0].wake <- struct{}{}
}

// commit runs batch in one transaction and sets each request's result.
// If the transaction as a whole fails (it cannot begin or commit, or a
// caller's failure undid more than its savepoint), each request runs
// again in a transaction of its own: the functions may run more than
// once.
func (g *txGroup) commit(batch []*txReq) {
	if len(batch) == 1 {
		g.alone(batch[0])
		return
	}
	if err := g.together(batch); err != nil {
		for _, r := range batch {
			g.alone(r)
		}
	}
}

// alone runs r in a transaction of its own.
func (g *txGroup) alone(r *txReq) {
	if r.err = r.ctx.Err(); r.err != nil {
		return
	}
	g.stmts.prepare(r.ctx)
	r.err = runTx(r.ctx, g.db, g.d, g.stmts, r.fn)
}

// together runs batch in one transaction, each request in a savepoint.
// It returns an error, having rolled everything back, when the
// transaction itself failed; the requests' own results are then void.
func (g *txGroup) together(batch []*txReq) error {
	g.stmts.prepare(context.Background())
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	c := txConn(tx, g.d, g.stmts)
	for _, r := range batch {
		if r.err = r.ctx.Err(); r.err != nil {
			continue
		}
		if err := g.step(c, r); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// step runs r in a savepoint of c's transaction, rolling back to it if
// r fails. An error is the transaction's, not r's.
func (g *txGroup) step(c conn, r *txReq) error {
	ctx := context.Background()
	if _, err := c.exec(ctx, "SAVEPOINT req"); err != nil {
		return err
	}
	if r.err = r.fn(c); r.err != nil {
		if _, err := c.exec(ctx, "ROLLBACK TO req"); err != nil {
			return fmt.Errorf("roll back to savepoint: %w", err)
		}
	}
	_, err := c.exec(ctx, "RELEASE req")
	return err
}

// runTx runs fn in one transaction on db and commits it, or rolls it back
// if fn fails. stmts, if not nil, keeps db's statements prepared.
func runTx(ctx context.Context, db *sql.DB, d *dialect, stmts *stmtCache, fn func(tx conn) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(txConn(tx, d, stmts)); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
