package server

import (
	"context"
	"errors"
	"time"
)

// Janitor tuning.
const (
	sweepBatch   = 500
	garbageBatch = 100
	// garbageClaim is how long a janitor has to delete the objects it
	// claimed before another may claim them again.
	garbageClaim = 10 * time.Minute
	// abandonedUpload is the age past which a multipart upload left in an
	// S3 bucket without its catalog record is aborted (a backstop: the
	// catalog's own record of a dead upload removes it much sooner).
	abandonedUpload = 24 * time.Hour
)

// incompleteAborter is a store that can abort multipart uploads left
// behind by processes that died (S3).
type incompleteAborter interface {
	AbortIncomplete(ctx context.Context, olderThan time.Time) (int, error)
}

// RunJanitor does the catalog's cleaning every interval until ctx is done:
// it removes expired files and the reservations of uploads whose process
// died, then deletes the objects no file points at any more. Any number
// of servers sharing a catalog may run it at once.
func (s *Server) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep does one round of the janitor's work.
func (s *Server) Sweep(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := s.cat.Sweep(ctx, s.now(), sweepBatch)
		if err != nil {
			s.janitorFailed(ctx, "sweeping the catalog", err)
			break
		}
		if n.Expired+n.Reaped > 0 {
			s.log.InfoContext(ctx, "janitor: released", "expired_files", n.Expired, "dead_uploads", n.Reaped)
		}
		if n.Expired < sweepBatch && n.Reaped < sweepBatch && n.Records < sweepBatch {
			break
		}
	}
	for ctx.Err() == nil && s.collectGarbage(ctx) == garbageBatch {
	}
	if a, ok := s.store.(incompleteAborter); ok {
		if _, err := a.AbortIncomplete(ctx, s.now().Add(-abandonedUpload)); err != nil {
			s.janitorFailed(ctx, "aborting abandoned uploads", err)
		}
	}
}

// collectGarbage deletes one batch of objects no file points at, and
// returns how many it claimed.
func (s *Server) collectGarbage(ctx context.Context) int {
	objects, err := s.cat.ClaimGarbage(ctx, s.now(), garbageClaim, garbageBatch)
	if err != nil {
		s.janitorFailed(ctx, "claiming objects to delete", err)
		return 0
	}
	done := objects[:0:0]
	for _, o := range objects {
		if err := s.store.Delete(ctx, o); err != nil {
			s.janitorFailed(ctx, "deleting an object", errors.New(redact(err, o)))
			continue // claimed: retried once the claim lapses
		}
		done = append(done, o)
	}
	if len(done) > 0 {
		if err := s.cat.Collected(ctx, done); err != nil {
			s.janitorFailed(ctx, "recording deleted objects", err)
		}
	}
	return len(objects)
}

func (s *Server) janitorFailed(ctx context.Context, what string, err error) {
	if ctx.Err() == nil {
		s.log.ErrorContext(ctx, "janitor: "+what+" failed", "err", err)
	}
}
