package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// groupDB opens a SQLite catalog's writer with a table t of integers for
// the transactions under test.
func groupDB(t *testing.T) *sqlCatalog {
	t.Helper()
	c, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "g.db"), "FULL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.write.Exec(`CREATE TABLE t (x INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return c
}

// rows is the content of t, in order.
func rows(t *testing.T, c *sqlCatalog) []int {
	t.Helper()
	r, err := c.read.Query(`SELECT x FROM t ORDER BY x`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []int
	for r.Next() {
		var x int
		if err := r.Scan(&x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

var errRefused = errors.New("refused")

// insert is a transaction that inserts x, then fails with fail if not nil.
func insert(x int, fail error) func(tx conn) error {
	return func(tx conn) error {
		if _, err := tx.exec(context.Background(), `INSERT INTO t (x) VALUES (?)`, x); err != nil {
			return err
		}
		return fail
	}
}

// breakTx is a transaction that ends the database transaction it runs in
// and fails: a failure that undoes more than its own work.
func breakTx(tx conn) error {
	_, _ = tx.exec(context.Background(), `ROLLBACK`)
	return errRefused
}

// A group commit tells each caller its own result: a failing transaction
// is undone alone, the others commit; a caller whose context is done is
// not run; and when one failure undoes the whole database transaction,
// every caller runs again alone and still gets its own result.
func TestGroupCommit(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	type req struct {
		ctx context.Context
		fn  func(tx conn) error
	}
	tests := []struct {
		name     string
		reqs     []req
		wantErrs []error
		wantRows []int
	}{
		{
			name:     "one fails",
			reqs:     []req{{nil, insert(1, nil)}, {nil, insert(2, errRefused)}, {nil, insert(3, nil)}},
			wantErrs: []error{nil, errRefused, nil},
			wantRows: []int{1, 3},
		},
		{
			name:     "later ones see earlier ones",
			reqs:     []req{{nil, insert(1, nil)}, {nil, insert(1, nil)}, {nil, insert(2, nil)}},
			wantErrs: []error{nil, errAny, nil},
			wantRows: []int{1, 2},
		},
		{
			name:     "canceled caller",
			reqs:     []req{{nil, insert(1, nil)}, {canceled, insert(2, nil)}, {nil, insert(3, nil)}},
			wantErrs: []error{nil, context.Canceled, nil},
			wantRows: []int{1, 3},
		},
		{
			name:     "a failure breaks the transaction",
			reqs:     []req{{nil, insert(1, nil)}, {nil, breakTx}, {nil, insert(3, nil)}, {nil, insert(4, errRefused)}},
			wantErrs: []error{nil, errRefused, nil, errRefused},
			wantRows: []int{1, 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := groupDB(t)
			batch := make([]*txReq, len(tc.reqs))
			for i, r := range tc.reqs {
				ctx := r.ctx
				if ctx == nil {
					ctx = context.Background()
				}
				batch[i] = &txReq{ctx: ctx, fn: r.fn}
			}
			c.group.commit(batch)
			for i, r := range batch {
				switch want := tc.wantErrs[i]; {
				case want == errAny && r.err == nil:
					t.Errorf("request %d succeeded, want an error", i)
				case want != errAny && !errors.Is(r.err, want):
					t.Errorf("request %d: %v, want %v", i, r.err, want)
				}
			}
			if got := rows(t, c); !slices.Equal(got, tc.wantRows) {
				t.Errorf("rows %v, want %v", got, tc.wantRows)
			}
		})
	}
}

// errAny in TestGroupCommit's wantErrs stands for any error.
var errAny = errors.New("any error")

// Concurrent callers through withTx each get their result and the lead
// passes from one to the next without losing a caller.
func TestGroupCommitConcurrent(t *testing.T) {
	c := groupDB(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var fail error
			if i%5 == 0 {
				fail = errRefused
			}
			errs[i] = c.withTx(context.Background(), insert(i, fail))
		}()
	}
	wg.Wait()
	var want []int
	for i, err := range errs {
		if i%5 == 0 {
			if !errors.Is(err, errRefused) {
				t.Errorf("transaction %d: %v, want %v", i, err, errRefused)
			}
			continue
		}
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
		want = append(want, i)
	}
	if got := rows(t, c); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if c.group.leading || len(c.group.queue) != 0 {
		t.Errorf("after every caller returned: leading %v, %d queued", c.group.leading, len(c.group.queue))
	}
}

// The writer's statements are prepared once: a query first seen in a
// transaction runs unprepared, and from the next transaction on it runs
// prepared, with the same results.
func TestStmtCachePreparesForNextTransaction(t *testing.T) {
	c := groupDB(t)
	stmts := c.group.stmts
	for i := range 3 {
		if err := c.withTx(context.Background(), insert(i, nil)); err != nil {
			t.Fatal(err)
		}
		stmts.mu.Lock()
		prepared := len(stmts.stmts)
		stmts.mu.Unlock()
		if want := min(i, 1); prepared != want {
			t.Errorf("after transaction %d: %d statements prepared, want %d", i, prepared, want)
		}
	}
	if err := c.withTx(context.Background(), insert(1, nil)); err == nil {
		t.Error("a prepared INSERT of a duplicate key succeeded")
	}
	if got := rows(t, c); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("rows %v, want [0 1 2]", got)
	}
}
