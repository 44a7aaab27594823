package server

import (
	"context"
	"time"
)

// RunJanitor deletes expired files every interval until ctx is done. The
// store keeps all state, so any number of replicas may run it at once.
func (s *Server) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) sweep(ctx context.Context) {
	n, err := s.store.DeleteExpired(ctx, s.now())
	if err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "janitor: deleting expired files failed", "err", err)
		return
	}
	if n > 0 {
		s.log.InfoContext(ctx, "janitor: deleted expired files", "count", n)
	}
}
