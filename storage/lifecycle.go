package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
)

// Lifecycle is the part of a bucket's lifecycle configuration that an S3
// store manages: rules that apply to the store's own objects only and are
// recognised by their IDs (which name the store's prefix), merged with
// whatever other rules the bucket has, which are kept as they are.
type Lifecycle struct {
	// ExpireDays expires the store's objects this many days after they
	// were written, a backstop should every janitor stop; 0 installs no
	// expiration rule (and removes one an earlier configuration installed).
	ExpireDays int
	// AbortIncompleteDays aborts multipart uploads of the store that were
	// started this many days ago and never completed; 0 installs none.
	AbortIncompleteDays int
}

// LifecycleFor is the lifecycle for files that live ttl (negative or zero:
// forever): expiry a day after the longest a file can live, so the rule
// never removes a live file, and no expiry at all for files that never
// expire; incomplete uploads are aborted after a day either way.
func LifecycleFor(ttl time.Duration) Lifecycle {
	l := Lifecycle{AbortIncompleteDays: 1}
	if ttl > 0 {
		const day = 24 * time.Hour
		l.ExpireDays = int((ttl+day-1)/day) + 1
	}
	return l
}

// ruleID is the ID of the store's rule: one per prefix, so stores with
// other prefixes in the same bucket keep theirs.
func (s *S3) ruleID() string {
	sum := sha256.Sum256([]byte(s.objectPrefix()))
	return "fileup-" + hex.EncodeToString(sum[:6])
}

// legacyRuleID is the rule an earlier version of the store installed for
// its whole prefix (expiring every object after 4 days, whatever the
// TTL); it is removed.
const legacyRuleID = "fileup-expiry"

// applyLifecycle merges l into the bucket's lifecycle configuration. Some
// servers (MinIO) refuse a rule that only aborts incomplete uploads; for
// files that never expire the store then installs no rule, and the
// janitor's AbortIncomplete is what removes dead uploads.
func (s *S3) applyLifecycle(ctx context.Context, l Lifecycle) error {
	cfg, err := s.c.GetBucketLifecycle(ctx, s.cfg.Bucket)
	if err != nil {
		if minio.ToErrorResponse(err).Code != "NoSuchLifecycleConfiguration" {
			return fmt.Errorf("storage: s3: reading the bucket's lifecycle: %w", err)
		}
		cfg = lifecycle.NewConfiguration()
	}
	id := s.ruleID()
	cfg.Rules = slices.DeleteFunc(cfg.Rules, func(r lifecycle.Rule) bool {
		return r.ID == id || (r.ID == legacyRuleID && r.RuleFilter.Prefix == s.cfg.Prefix)
	})
	others := len(cfg.Rules)
	if rule, ok := s.rule(id, l); ok {
		cfg.Rules = append(cfg.Rules, rule)
	}
	err = s.c.SetBucketLifecycle(ctx, s.cfg.Bucket, cfg)
	if err != nil && l.ExpireDays == 0 && len(cfg.Rules) > others {
		// An abort-only rule refused: keep the other rules, without ours.
		cfg.Rules = cfg.Rules[:others]
		err = s.c.SetBucketLifecycle(ctx, s.cfg.Bucket, cfg)
	}
	if err != nil {
		return fmt.Errorf("storage: s3: installing lifecycle rules: %w", err)
	}
	return nil
}

// rule is the store's lifecycle rule for l, if l asks for anything.
func (s *S3) rule(id string, l Lifecycle) (lifecycle.Rule, bool) {
	r := lifecycle.Rule{ID: id, Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: s.objectPrefix()}}
	if l.ExpireDays > 0 {
		r.Expiration = lifecycle.Expiration{Days: lifecycle.ExpirationDays(l.ExpireDays)}
	}
	if l.AbortIncompleteDays > 0 {
		r.AbortIncompleteMultipartUpload = lifecycle.AbortIncompleteMultipartUpload{DaysAfterInitiation: lifecycle.ExpirationDays(l.AbortIncompleteDays)}
	}
	return r, l.ExpireDays > 0 || l.AbortIncompleteDays > 0
}
