package catalog

import (
	"context"
	"slices"
	"time"
)

// maxBatch caps the batch of Sweep and ClaimGarbage, which may do less
// than asked: it bounds their memory and their statements' parameters.
const maxBatch = 10000

// Sweep does a bounded amount of the janitor's catalog work at now, in
// three transactions (expired files, lapsed uploads, expired records) so
// that none holds a lock another sweeper waits for while it waits itself.
func (c *sqlCatalog) Sweep(ctx context.Context, now time.Time, batch int) (Swept, error) {
	if batch < 1 {
		return Swept{}, invalid("sweep batch %d is not positive", batch)
	}
	batch = min(batch, maxBatch)
	var s Swept
	err := c.withTx(ctx, func(tx conn) (err error) {
		s.Expired, err = c.sweepFiles(ctx, tx, now, batch)
		return err
	})
	if err == nil {
		err = c.withTx(ctx, func(tx conn) (err error) {
			s.Reaped, err = sweepUploads(ctx, tx, now, batch)
			return err
		})
	}
	if err == nil {
		err = c.withTx(ctx, func(tx conn) (err error) {
			s.Records, err = sweepRecords(ctx, tx, now, batch)
			return err
		})
	}
	s.Garbaged = s.Expired + s.Reaped
	return s, opErr("sweep", err)
}

// sweepFiles removes up to batch files expired at now. It locks the rows
// of their tenants first, skipping tenants another transaction holds (a
// sweeper or an upload of theirs: that one will remove them).
func (c *sqlCatalog) sweepFiles(ctx context.Context, tx conn, now time.Time, batch int) (int, error) {
	due, err := column(ctx, tx, `SELECT tenant FROM files WHERE expires_ms <= ? ORDER BY expires_ms LIMIT ?`, ms(now), batch)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	slices.Sort(due)
	due = slices.Compact(due)
	tenants, err := column(ctx, tx, `SELECT tenant FROM tenants WHERE tenant IN (`+params(len(due))+`)
		ORDER BY tenant`+skipRows, args(due)...)
	if err != nil || len(tenants) == 0 {
		return 0, err
	}
	return c.expireFiles(ctx, tx, tenants, now, batch)
}

// sweepUploads releases up to batch uploads whose lease has passed at
// now and queues their objects for deletion at once.
func sweepUploads(ctx context.Context, tx conn, now time.Time, batch int) (int, error) {
	rows, err := tx.query(ctx, `SELECT object, tenant, bytes, files FROM uploads WHERE lease_ms < ?
		ORDER BY lease_ms LIMIT ?`+skipRows, ms(now), batch)
	if err != nil {
		return 0, err
	}
	var objects []string
	deltas := map[string]delta{}
	for rows.Next() {
		var u uploadRow
		if err := rows.Scan(&u.object, &u.tenant, &u.bytes, &u.files); err != nil {
			rows.Close()
			return 0, err
		}
		objects = append(objects, u.object)
		deltas[u.tenant] = deltas[u.tenant].plus(delta{reservedBytes: -u.bytes, reservedFiles: -u.files})
	}
	if err := rows.Err(); err != nil || len(objects) == 0 {
		return 0, err
	}
	if _, err := tx.exec(ctx, `DELETE FROM uploads WHERE object IN (`+params(len(objects))+`)`, args(objects)...); err != nil {
		return 0, err
	}
	if err := adjustAll(ctx, tx, deltas); err != nil {
		return 0, err
	}
	return len(objects), queueGarbage(ctx, tx, objects, now)
}

// sweepRecords removes up to batch idempotency records expired at now.
func sweepRecords(ctx context.Context, tx conn, now time.Time, batch int) (int, error) {
	res, err := tx.exec(ctx, `DELETE FROM records WHERE (tenant, scope, key) IN (
		SELECT tenant, scope, key FROM records WHERE expires_ms <= ? LIMIT ?`+skipRows+`)`, ms(now), batch)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ClaimGarbage hands out up to batch objects due for deletion at now and
// moves their due time to now+claim.
func (c *sqlCatalog) ClaimGarbage(ctx context.Context, now time.Time, claim time.Duration, batch int) ([]string, error) {
	if batch < 1 {
		return nil, invalid("garbage batch %d is not positive", batch)
	}
	if claim < 0 {
		return nil, invalid("garbage claim %v is negative", claim)
	}
	batch = min(batch, maxBatch)
	var objects []string
	err := c.withTx(ctx, func(tx conn) (err error) {
		objects, err = column(ctx, tx, `UPDATE garbage SET due_ms = ? WHERE object IN (
			SELECT object FROM garbage WHERE due_ms <= ? ORDER BY due_ms LIMIT ?`+skipRows+`)
			RETURNING object`, ms(now.Add(claim)), ms(now), batch)
		return err
	})
	return objects, opErr("claim garbage", err)
}

// Collected forgets objects that have been deleted from the store.
func (c *sqlCatalog) Collected(ctx context.Context, objects []string) error {
	// A key that could not be stored is not queued either. In order,
	// two janitors that both deleted an object lock its row in turn.
	objects = slices.DeleteFunc(slices.Clone(objects), func(o string) bool { return !textOK(o) })
	slices.Sort(objects)
	if len(objects) == 0 {
		return nil
	}
	err := c.withTx(ctx, func(tx conn) error {
		for chunk := range slices.Chunk(objects, garbageChunk) {
			if _, err := tx.exec(ctx, `DELETE FROM garbage WHERE object IN (`+params(len(chunk))+`)`, args(chunk)...); err != nil {
				return err
			}
		}
		return nil
	})
	return opErr("collected", err)
}

// column runs a query of one text column and returns its values.
func column(ctx context.Context, q conn, query string, args ...any) ([]string, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
