package storage_test

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

func TestS3Conformance(t *testing.T) {
	storagetest.S3FromEnv(t) // skips without an endpoint
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := storage.NewS3(context.Background(), storagetest.S3FromEnv(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestS3InstallsLifecycleRule(t *testing.T) {
	cfg := storagetest.S3FromEnv(t)
	cfg.Prefix = "pre/"
	if _, err := storage.NewS3(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := c.GetBucketLifecycle(context.Background(), cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(lc.Rules) != 1 || lc.Rules[0].Expiration.Days != 4 || lc.Rules[0].RuleFilter.Prefix != "pre/" || lc.Rules[0].Status != "Enabled" {
		t.Errorf("lifecycle rules = %+v", lc.Rules)
	}
}

func TestParseS3URL(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "envkey")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	tests := []struct {
		in   string
		want storage.S3Config
		ok   bool
	}{
		{"s3://b?endpoint=127.0.0.1:9000&secure=false", storage.S3Config{Bucket: "b", Endpoint: "127.0.0.1:9000", AccessKey: "envkey", SecretKey: "envsecret"}, true},
		{"s3://b?endpoint=s3.example.com&region=eu-west-1&prefix=up/&part_size=8388608&lifecycle_days=-1&access_key=k&secret_key=s",
			storage.S3Config{Bucket: "b", Endpoint: "s3.example.com", Region: "eu-west-1", Prefix: "up/", PartSize: 8 << 20, LifecycleDays: -1, AccessKey: "k", SecretKey: "s", UseSSL: true}, true},
		{"s3://b", storage.S3Config{}, false},
		{"http://b?endpoint=x", storage.S3Config{}, false},
		{"s3://b?endpoint=x&secure=maybe", storage.S3Config{}, false},
	}
	for _, tt := range tests {
		got, err := storage.ParseS3URL(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %+v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
