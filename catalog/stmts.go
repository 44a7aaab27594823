package catalog

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the statements a stmtCache keeps (queries built for a
// number of arguments have many texts; those beyond are parsed each time).
const maxStmts = 256

// stmtCache keeps the SQLite writer's statements prepared, so that a
// transaction does not parse its SQL again each time. Statements are
// prepared on the writer's one connection and used in transactions
// through Tx.StmtContext, which finds them prepared there.
//
// A statement cannot be prepared on the writer while a transaction holds
// its one connection, so a query first seen in a transaction runs
// unprepared and is noted; the group commit prepares the noted queries
// before it begins its next transaction.
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get returns the prepared statement for query, or nil after noting that
// it is wanted.
func (s *stmtCache) get(query string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stmts[query]
	if st == nil && len(s.stmts)+len(s.wanted) < maxStmts {
		s.wanted[query] = true
	}
	return st
}

// prepare prepares the wanted queries. It must not run inside a
// transaction on the writer. A query that fails to prepare is dropped:
// it keeps running unprepared. A nil cache does nothing.
func (s *stmtCache) prepare(ctx context.Context) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for q := range s.wanted {
		delete(s.wanted, q)
		if st, err := s.db.PrepareContext(ctx, q); err == nil {
			s.stmts[q] = st
		}
	}
}
