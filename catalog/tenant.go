package catalog

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
)

// Lock order (PostgreSQL; on SQLite a writing transaction holds the whole
// database). Every change to a tenant's files, usage or reservations
// holds the tenant's row, locked FOR UPDATE, so a tenant's files need no
// row locks of their own and a quota check reads one row. A transaction
// that waits for an upload row takes one, before its tenant row; Sweep
// takes several uploads or tenants with SKIP LOCKED, which never waits,
// and then the tenants it must update in order of their names. So no
// transaction waits for a lock while holding one that its holder waits
// for, and none deadlocks. Each transaction holds the tenant's row for as
// few statements as it can: the checks that need no lock come first.

// tenantRow is one row of the tenants table.
type tenantRow struct {
	usedBytes, usedFiles, reservedBytes, reservedFiles int64
}

// delta is a change to a tenant row.
type delta tenantRow

// plus is d and e together.
func (d delta) plus(e delta) delta {
	return delta{d.usedBytes + e.usedBytes, d.usedFiles + e.usedFiles,
		d.reservedBytes + e.reservedBytes, d.reservedFiles + e.reservedFiles}
}

// over returns the quota error for reserving files more files and bytes
// more bytes on top of what t holds, or nil if they fit. A limit of 0 is
// none; files == 0 checks bytes only.
func (t tenantRow) over(l Limits, files, bytes int64) *QuotaError {
	if l.Files > 0 && files > 0 && !fits(l.Files, files, t.usedFiles, t.reservedFiles) {
		return &QuotaError{Files: true, Limit: l.Files}
	}
	if l.Bytes > 0 && !fits(l.Bytes, bytes, t.usedBytes, t.reservedBytes) {
		return &QuotaError{Limit: l.Bytes}
	}
	return nil
}

// fits reports whether used+reserved+more <= limit (limit > 0, more >= 0),
// without overflowing.
func fits(limit, more, used, reserved int64) bool {
	free := limit - max(used, 0)
	if free < 0 {
		return false
	}
	free -= max(reserved, 0)
	return more <= free
}

// addTo returns a+b, or false if the sum overflows int64.
func addTo(a, b int64) (int64, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}

// ensureTenant creates the tenant's row if it has none.
func ensureTenant(ctx context.Context, tx conn, tenant string) error {
	_, err := tx.exec(ctx, `INSERT INTO tenants (tenant) VALUES (?) ON CONFLICT (tenant) DO NOTHING`, tenant)
	return err
}

// lockTenant reads the tenant's row and locks it for the transaction;
// sql.ErrNoRows if there is none.
func lockTenant(ctx context.Context, tx conn, tenant string) (tenantRow, error) {
	var t tenantRow
	err := tx.row(ctx, `SELECT used_bytes, used_files, reserved_bytes, reserved_files
		FROM tenants WHERE tenant = ?`+lockRows, tenant).
		Scan(&t.usedBytes, &t.usedFiles, &t.reservedBytes, &t.reservedFiles)
	return t, err
}

// adjust changes the tenant's row by d.
func adjust(ctx context.Context, tx conn, tenant string, d delta) error {
	if d == (delta{}) {
		return nil
	}
	_, err := tx.exec(ctx, `UPDATE tenants SET
		used_bytes = used_bytes + ?, used_files = used_files + ?,
		reserved_bytes = reserved_bytes + ?, reserved_files = reserved_files + ?
		WHERE tenant = ?`,
		d.usedBytes, d.usedFiles, d.reservedBytes, d.reservedFiles, tenant)
	return err
}

// expireBatch is how many expired files of one tenant a statement of
// Begin, Reserve or Usage removes.
const expireBatch = 500

// reserve locks the tenant's row (it must exist) and checks that files
// more files and bytes more bytes fit within l. If they do not, it
// removes the tenant's files expired at now, batch by batch, until they
// fit or none is left, so expired files never count against a quota. It
// returns the quota error of a refusal; the removals stand either way.
func (c *sqlCatalog) reserve(ctx context.Context, tx conn, tenant string, l Limits, files, bytes int64, now time.Time) (*QuotaError, error) {
	t, err := lockTenant(ctx, tx, tenant)
	if err != nil {
		return nil, err
	}
	q := t.over(l, files, bytes)
	for q != nil {
		n, err := c.expireFiles(ctx, tx, []string{tenant}, now, c.expireBatch)
		if err != nil || n == 0 {
			return q, err
		}
		if t, err = lockTenant(ctx, tx, tenant); err != nil {
			return nil, err
		}
		q = t.over(l, files, bytes)
	}
	return nil, nil
}

// expireFiles removes up to limit files of the given tenants (whose rows
// the transaction holds) that have expired at now: the rows go, the
// tenants' usage shrinks, and the objects are queued for deletion after
// the garbage delay. It returns how many it removed.
func (c *sqlCatalog) expireFiles(ctx context.Context, tx conn, tenants []string, now time.Time, limit int) (int, error) {
	rows, err := tx.query(ctx, `DELETE FROM files WHERE id IN (
		SELECT id FROM files WHERE tenant IN (`+params(len(tenants))+`) AND expires_ms <= ? LIMIT ?)
		RETURNING tenant, object, size`, args(tenants, ms(now), limit)...)
	if err != nil {
		return 0, err
	}
	deltas := map[string]delta{}
	var objects []string
	for rows.Next() {
		var tenant, object string
		var size int64
		if err := rows.Scan(&tenant, &object, &size); err != nil {
			rows.Close()
			return 0, err
		}
		deltas[tenant] = deltas[tenant].plus(delta{usedBytes: -size, usedFiles: -1})
		objects = append(objects, object)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if err := adjustAll(ctx, tx, deltas); err != nil {
		return 0, err
	}
	return len(objects), queueGarbage(ctx, tx, objects, now.Add(c.garbageDelay))
}

// adjustAll applies each tenant's delta, in the order of their names.
func adjustAll(ctx context.Context, tx conn, deltas map[string]delta) error {
	tenants := make([]string, 0, len(deltas))
	for t := range deltas {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		if err := adjust(ctx, tx, t, deltas[t]); err != nil {
			return err
		}
	}
	return nil
}

// garbageChunk bounds the rows of one INSERT into garbage.
const garbageChunk = 200

// queueGarbage queues objects for deletion from due on. An object queued
// already keeps its due time.
func queueGarbage(ctx context.Context, tx conn, objects []string, due time.Time) error {
	for chunk := range slices.Chunk(objects, garbageChunk) {
		values := strings.Repeat(`(?, ?), `, len(chunk)-1) + `(?, ?)`
		a := make([]any, 0, 2*len(chunk))
		for _, o := range chunk {
			a = append(a, o, ms(due))
		}
		if _, err := tx.exec(ctx, `INSERT INTO garbage (object, due_ms) VALUES `+values+` ON CONFLICT (object) DO NOTHING`, a...); err != nil {
			return err
		}
	}
	return nil
}
