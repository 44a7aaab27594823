package main

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
)

// clearPrefix deletes every object of c.bucket whose name starts with
// prefix, and returns how many it deleted. bench/run.sh calls it after
// each upload through the reference server, so that both sides of the
// comparison delete their object after each run.
func clearPrefix(ctx context.Context, c config, prefix string) (int, error) {
	mc, err := newClient(c)
	if err != nil {
		return 0, err
	}
	n := 0
	for oi := range mc.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return n, oi.Err
		}
		if err := mc.RemoveObject(ctx, c.bucket, oi.Key, minio.RemoveObjectOptions{}); err != nil {
			return n, fmt.Errorf("remove %s: %w", oi.Key, err)
		}
		n++
	}
	return n, nil
}
