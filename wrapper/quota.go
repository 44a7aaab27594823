package wrapper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/fileup/fileup/gen/evolink"
)

// Quota is an API key's file quota, as evolink reports it. A field the
// server did not send is absent: a nil count, an empty string, IsCustom
// false; in JSON, absent fields are omitted (IsCustom appears only when
// true).
type Quota struct {
	// UserGroup is the key's tier, such as "default" (2,000 files).
	UserGroup string `json:"user_group,omitempty"`
	// UsedFiles is the number of files stored now.
	UsedFiles *int64 `json:"used_files,omitempty"`
	// MaxFiles is the most files the key may store, and RemainFiles the
	// uploads left. fileup serve leaves both out when files are
	// unlimited.
	MaxFiles    *int64 `json:"max_files,omitempty"`
	RemainFiles *int64 `json:"remain_files,omitempty"`
	// IsCustom reports a quota an administrator set for this key, and
	// QuotaReason why.
	IsCustom    bool   `json:"is_custom,omitempty"`
	QuotaReason string `json:"quota_reason,omitempty"`
}

// Quota reads the file quota of the client's API key. Only evolink has a
// quota operation: on a kie client, Quota returns an error that
// errors.Is errors.ErrUnsupported, before anything is sent. Otherwise it
// behaves as Upload: the token, the retries (the request is a GET, always
// replayable), *Error and the per-call options; it sends no
// Idempotency-Key, and WithProgress has no effect.
func (c *Client) Quota(ctx context.Context, opts ...Option) (*Quota, error) {
	if c.vendor != Evolink {
		return nil, fmt.Errorf("wrapper: %s has no quota operation (evolink has): %w", c.vendor, errors.ErrUnsupported)
	}
	cfg := c.cfg.with(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	var q *Quota
	r := &call{
		op:         "quota",
		replayable: true,
		build: func(ctx context.Context, _ func()) (*http.Request, func(), error) {
			req, err := evolink.NewGetFilesQuotaRequest(c.baseURL)
			if err != nil {
				return nil, nil, fmt.Errorf("wrapper: %w", err)
			}
			return req.WithContext(ctx), func() {}, nil
		},
		decode: func(data []byte) (err error) {
			q, err = decodeQuota(data)
			return err
		},
	}
	if err := c.send(ctx, &cfg, r); err != nil {
		return nil, err
	}
	return q, nil
}

// decodeQuota reads the data of the quota's success envelope, evolink's
// QuotaData, every field of which is optional.
func decodeQuota(data []byte) (*Quota, error) {
	var d struct {
		UserGroup   *string `json:"user_group"`
		UsedFiles   *int64  `json:"used_files"`
		MaxFiles    *int64  `json:"max_files"`
		RemainFiles *int64  `json:"remain_files"`
		IsCustom    *bool   `json:"is_custom"`
		QuotaReason *string `json:"quota_reason"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	return &Quota{UserGroup: deref(d.UserGroup), UsedFiles: d.UsedFiles, MaxFiles: d.MaxFiles, RemainFiles: d.RemainFiles,
		IsCustom: deref(d.IsCustom), QuotaReason: deref(d.QuotaReason)}, nil
}
