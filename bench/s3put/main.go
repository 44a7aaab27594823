// Command s3put measures an upload of one file to an S3 endpoint, the way
// a user of minio-go does it and the way the reference server does it, so
// the two can be compared side by side on the same machine and the same
// server. It is a benchmark tool, not part of the server.
//
// Modes:
//
//   - direct: minio-go's PutObject with its defaults, given the *os.File
//     and its size (what a user of minio-go writes);
//   - store: storage.S3.Put of the same bytes read through a plain
//     io.Reader (what a request body is), with Size -1 and SizeHint the
//     file's size plus a multipart form's overhead (-known passes the size,
//     as for a URL upload of known length);
//   - compare: runs direct and store alternately in child processes, -runs
//     of each, and prints the medians and the median of the pairs' wall
//     ratios (store/direct); with -max-ratio it exits 1 when that median
//     is above it;
//   - clear: deletes every object of -bucket under -prefix (no file
//     needed), and prints how many.
//
// Each run prints its wall time, the CPU time of the uploading process and
// of the MinIO server (from /proc/<pid>/stat; found by its --address, or
// -server-pid), and the uploading process's peak RSS. The object is deleted
// after each run, outside the timing, unless -keep: both modes do the same
// (a write into memory just freed is faster on these VMs, so comparisons
// must be symmetric).
//
// The endpoint and keys come from FILEUP_TEST_S3_ENDPOINT,
// FILEUP_TEST_S3_ACCESS_KEY and FILEUP_TEST_S3_SECRET_KEY, as for the
// tests; run it under scripts/minio.sh:
//
//	head -c 1G /dev/urandom >/tmp/big.bin
//	scripts/minio.sh go run ./bench/s3put -mode compare -runs 5 -file /tmp/big.bin
//
// or, as a regression guard (a temporary file of -size MiB, exit status 1
// above the ratio):
//
//	scripts/minio.sh go run ./bench/s3put -size 1024 -runs 5 -max-ratio 1.3
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fileup/fileup/storage"
)

// formOverhead is roughly what a multipart form adds around a file: the
// SizeHint the reference server passes is the request's Content-Length.
const formOverhead = 400

type config struct {
	file      string
	mode      string
	bucket    string
	known     bool
	keep      bool
	runs      int
	maxRatio  float64
	serverPID int
	jsonOut   bool
	partMiB   int
	partConc  int
	endpoint  string
	access    string
	secret    string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("s3put: ")
	var c config
	flag.StringVar(&c.file, "file", "", "the file to upload (or -size)")
	sizeMiB := flag.Int("size", 0, "without -file: upload a temporary file of this many MiB of random bytes, removed at the end")
	flag.StringVar(&c.mode, "mode", "compare", "direct, store, compare or clear")
	prefix := flag.String("prefix", "", "clear mode: the name prefix of the objects to delete")
	flag.StringVar(&c.bucket, "bucket", "fileup-bench", "bucket (created if missing)")
	flag.BoolVar(&c.known, "known", false, "store mode: pass the file's size as PutOptions.Size")
	flag.BoolVar(&c.keep, "keep", false, "keep the uploaded objects (default: delete each after its run, outside the timing)")
	flag.IntVar(&c.runs, "runs", 5, "compare mode: runs of each mode")
	flag.Float64Var(&c.maxRatio, "max-ratio", 0, "compare mode: exit 1 if the median wall ratio store/direct is above this (0: no check)")
	flag.IntVar(&c.serverPID, "server-pid", 0, "pid of the S3 server, for its CPU time (0: find a local MinIO by its --address)")
	flag.BoolVar(&c.jsonOut, "json", false, "print the result as one JSON line (used by compare mode)")
	flag.IntVar(&c.partMiB, "part-size", 0, "store mode: S3Config.PartSize in MiB (0: the default)")
	flag.IntVar(&c.partConc, "part-concurrency", 0, "store mode: S3Config.PartConcurrency (0: the default)")
	flag.Parse()
	c.endpoint = os.Getenv("FILEUP_TEST_S3_ENDPOINT")
	c.access = os.Getenv("FILEUP_TEST_S3_ACCESS_KEY")
	c.secret = os.Getenv("FILEUP_TEST_S3_SECRET_KEY")
	if c.mode == "clear" && c.endpoint != "" {
		n, err := clearPrefix(context.Background(), c, *prefix)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("deleted %d objects\n", n)
		return
	}
	if (c.file == "") == (*sizeMiB <= 0) || c.endpoint == "" {
		log.Fatal("need -file or -size, and FILEUP_TEST_S3_ENDPOINT (run under scripts/minio.sh)")
	}
	if c.file == "" {
		name, err := randomFile(int64(*sizeMiB) << 20)
		if err != nil {
			log.Fatal(err)
		}
		c.file = name
		code := run(c)
		os.Remove(name)
		os.Exit(code)
	}
	os.Exit(run(c))
}

// run measures as c.mode says and returns the exit code: 1 on error or
// when compare finds the ratio above -max-ratio.
func run(c config) int {
	if c.serverPID == 0 {
		c.serverPID = findServer(c.endpoint)
	}
	switch c.mode {
	case "direct", "store":
		res, err := runOnce(context.Background(), c)
		if err != nil {
			log.Print(err)
			return 1
		}
		res.print(c.jsonOut)
		return 0
	case "compare":
		ok, err := compare(c)
		if err != nil {
			log.Print(err)
		}
		if err != nil || !ok {
			return 1
		}
		return 0
	}
	log.Printf("unknown -mode %q", c.mode)
	return 1
}

// result is one run's measurements.
type result struct {
	Mode      string  `json:"mode"`
	Bytes     int64   `json:"bytes"`
	Wall      float64 `json:"wall_s"`
	CPU       float64 `json:"cpu_s"`
	ServerCPU float64 `json:"server_cpu_s"` // -1: unknown
	PeakRSS   float64 `json:"peak_rss_mib"`
}

func (r result) print(asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	fmt.Printf("%-6s %6.0f MiB  wall %6.2f s  %6.1f MB/s  cpu %5.2f s  server cpu %5.2f s  peak rss %6.1f MiB\n",
		r.Mode, float64(r.Bytes)/(1<<20), r.Wall, float64(r.Bytes)/r.Wall/1e6, r.CPU, r.ServerCPU, r.PeakRSS)
}

// runOnce uploads the file once in c.mode and measures it.
func runOnce(ctx context.Context, c config) (result, error) {
	f, err := os.Open(c.file)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return result{}, err
	}
	up, err := newUploader(ctx, c)
	if err != nil {
		return result{}, err
	}
	key := fmt.Sprintf("s3put/%s-%d", c.mode, time.Now().UnixNano())
	cpu0, srv0 := selfCPU(), procCPU(c.serverPID)
	start := time.Now()
	err = up.put(ctx, key, f, fi.Size())
	wall := time.Since(start)
	cpu1, srv1 := selfCPU(), procCPU(c.serverPID)
	if err != nil {
		return result{}, fmt.Errorf("%s put: %w", c.mode, err)
	}
	if !c.keep {
		if err := up.remove(ctx, key); err != nil {
			return result{}, err
		}
	}
	res := result{Mode: c.mode, Bytes: fi.Size(), Wall: wall.Seconds(), CPU: cpu1 - cpu0, ServerCPU: -1, PeakRSS: peakRSS()}
	if srv0 >= 0 && srv1 >= 0 {
		res.ServerCPU = srv1 - srv0
	}
	return res, nil
}

// uploader is one way of putting a file.
type uploader struct {
	put    func(ctx context.Context, key string, f *os.File, size int64) error
	remove func(ctx context.Context, key string) error
}

func newUploader(ctx context.Context, c config) (uploader, error) {
	if c.mode == "store" {
		return storeUploader(ctx, c)
	}
	return directUploader(ctx, c)
}

// newClient is a minio-go client of c's MinIO with default options.
func newClient(c config) (*minio.Client, error) {
	return minio.New(c.endpoint, &minio.Options{Creds: credentials.NewStaticV4(c.access, c.secret, ""), Region: "us-east-1"})
}

// directUploader is minio-go as its users call it: default options, the
// *os.File and its size.
func directUploader(ctx context.Context, c config) (uploader, error) {
	mc, err := newClient(c)
	if err != nil {
		return uploader{}, err
	}
	ok, err := mc.BucketExists(ctx, c.bucket)
	if err == nil && !ok {
		err = mc.MakeBucket(ctx, c.bucket, minio.MakeBucketOptions{Region: "us-east-1"})
	}
	if err != nil {
		return uploader{}, err
	}
	return uploader{
		put: func(ctx context.Context, key string, f *os.File, size int64) error {
			_, err := mc.PutObject(ctx, c.bucket, key, f, size, minio.PutObjectOptions{})
			return err
		},
		remove: func(ctx context.Context, key string) error {
			return mc.RemoveObject(ctx, c.bucket, key, minio.RemoveObjectOptions{})
		},
	}, nil
}

// storeUploader is the reference server's path: storage.S3.Put from a
// stream.
func storeUploader(ctx context.Context, c config) (uploader, error) {
	s, err := storage.NewS3(ctx, storage.S3Config{Endpoint: c.endpoint, AccessKey: c.access, SecretKey: c.secret, Bucket: c.bucket, Region: "us-east-1",
		PartSize: uint64(c.partMiB) << 20, PartConcurrency: c.partConc})
	if err != nil {
		return uploader{}, err
	}
	return uploader{
		put: func(ctx context.Context, key string, f *os.File, size int64) error {
			opts := storage.PutOptions{Size: -1, SizeHint: size + formOverhead}
			if c.known {
				opts.Size = size
			}
			w, err := s.Put(ctx, key, struct{ io.Reader }{f}, opts)
			if err == nil && w.Size != size {
				err = fmt.Errorf("stored %d bytes of %d", w.Size, size)
			}
			return err
		},
		remove: s.Delete,
	}, nil
}

// randomFile writes size random bytes to a new temporary file.
func randomFile(size int64) (string, error) {
	f, err := os.CreateTemp("", "s3put-*.bin")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, io.LimitReader(rand.Reader, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// child runs one measurement in a new process, so that each has its own
// heap and peak RSS.
func child(c config, mode string) (result, error) {
	args := []string{"-mode", mode, "-json", "-file", c.file, "-bucket", c.bucket, fmt.Sprintf("-server-pid=%d", c.serverPID),
		fmt.Sprintf("-part-size=%d", c.partMiB), fmt.Sprintf("-part-concurrency=%d", c.partConc)}
	if c.known {
		args = append(args, "-known")
	}
	if c.keep {
		args = append(args, "-keep")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%s run: %w", mode, err)
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return result{}, fmt.Errorf("%s run printed %q: %w", mode, strings.TrimSpace(string(out)), err)
	}
	return r, nil
}
