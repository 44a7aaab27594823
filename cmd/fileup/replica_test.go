package main

// The replica tests: three `fileup serve` processes sharing one
// PostgreSQL database and one MinIO bucket, as several replicas behind a
// load balancer do. They need both servers:
//
//	scripts/postgres.sh scripts/minio.sh go test -race -run Replica ./cmd/fileup/
//
// and skip, saying why, without them (CI always runs them). Every wait is
// on a condition of the catalog, the bucket or an HTTP answer.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to inspect the catalog
	"github.com/minio/minio-go/v7"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

// replicaEnv is a fresh PostgreSQL database and MinIO bucket for the
// replicas of one test, with the handles the test inspects them through.
// The replicas create both: the first start finds an empty database and
// no bucket.
type replicaEnv struct {
	dsn     string
	s3      storage.S3Config
	storage string          // the --storage URL
	db      *sql.DB         // the catalog's tables, read directly
	store   *storage.S3     // the bucket, as the servers see it (once started)
	cat     catalog.Catalog // a handle of the test's own (once started)
}

// replicaClient is the HTTP client of the replica tests: bounded, so that
// a server that hangs fails the test instead of stalling it.
var replicaClient = &http.Client{
	Timeout:   60 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 16},
}

func newReplicaEnv(t *testing.T) *replicaEnv {
	t.Helper()
	cfg := storagetest.S3FromEnv(t) // skips without FILEUP_TEST_S3_ENDPOINT
	dsn := catalogtest.PostgresDSN(t)
	t.Setenv("AWS_ACCESS_KEY_ID", cfg.AccessKey) // for the servers
	t.Setenv("AWS_SECRET_ACCESS_KEY", cfg.SecretKey)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &replicaEnv{
		dsn:     dsn,
		s3:      cfg,
		storage: "s3://" + cfg.Bucket + "?endpoint=" + cfg.Endpoint + "&secure=false&region=" + cfg.Region,
		db:      db,
	}
}

// start starts n replicas at once on the environment's catalog and
// bucket, and waits until all serve; on failure, their warnings and
// errors are logged.
func (e *replicaEnv) start(t *testing.T, n int, token string, args ...string) []*serverProc {
	t.Helper()
	spawned := make([]*spawnedServer, n)
	for i := range spawned {
		spawned[i] = spawnServer(t, append([]string{"--storage", e.storage, "--db", e.dsn, "--token", token}, args...)...)
	}
	servers := make([]*serverProc, n)
	for i := range servers {
		servers[i] = spawned[i].wait(t)
		srv := servers[i]
		t.Cleanup(func() {
			if p := problems(srv.stderr.String()); t.Failed() && p != "" {
				t.Logf("replica %s: warnings and errors:\n%s", srv.url, p)
			}
		})
	}
	if e.store == nil { // the replicas made the bucket and the schema
		var err error
		if e.store, err = storage.NewS3(context.Background(), e.s3); err != nil {
			t.Fatal(err)
		}
		e.cat = catalogtest.OpenDSN(t, e.dsn, catalog.Options{})
	}
	return servers
}

// problems keeps the log lines above INFO.
func problems(log string) string {
	var out []string
	for line := range strings.Lines(log) {
		if !strings.Contains(line, "level=INFO") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// stop stops replicas as an operator does, with SIGTERM, and waits.
func stop(t *testing.T, servers []*serverProc) {
	t.Helper()
	for _, s := range servers {
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range servers {
		if err := s.cmd.Wait(); err != nil {
			t.Errorf("replica %s exited: %v", s.url, err)
		}
	}
}

// catalogState is what the catalog's tables hold.
type catalogState struct {
	objects          []string // the objects live files point at, sorted
	names            []string // the live files' names, sorted
	uploads, garbage int64    // rows: uploads in flight, objects to delete
	// the tenants' counters, summed, and the live files' sizes, summed
	usedFiles, usedBytes, reservedFiles, reservedBytes, sizes int64
}

func (e *replicaEnv) state(t *testing.T) catalogState {
	t.Helper()
	var s catalogState
	rows, err := e.db.Query(`SELECT object, name, size FROM files ORDER BY object`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var object, name string
		var size int64
		if err := rows.Scan(&object, &name, &size); err != nil {
			t.Fatal(err)
		}
		s.objects, s.names, s.sizes = append(s.objects, object), append(s.names, name), s.sizes+size
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.names)
	err = e.db.QueryRow(`SELECT (SELECT count(*) FROM uploads), (SELECT count(*) FROM garbage),
		COALESCE(sum(used_files), 0), COALESCE(sum(used_bytes), 0),
		COALESCE(sum(reserved_files), 0), COALESCE(sum(reserved_bytes), 0) FROM tenants`).Scan(
		&s.uploads, &s.garbage, &s.usedFiles, &s.usedBytes, &s.reservedFiles, &s.reservedBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bucket lists the store's objects (by key, without the store's prefix)
// and the keys of its incomplete multipart uploads.
func (e *replicaEnv) bucket(t *testing.T) (objects, incomplete []string) {
	t.Helper()
	ctx := context.Background()
	c, bucket := e.store.Client(), e.s3.Bucket
	for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: "objects/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		objects = append(objects, strings.TrimPrefix(o.Key, "objects/"))
	}
	for u := range c.ListIncompleteUploads(ctx, bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		incomplete = append(incomplete, u.Key)
	}
	slices.Sort(objects)
	return objects, incomplete
}

// checkSettled checks that the catalog and the bucket agree once nothing
// is in flight: the bucket holds exactly the live files' objects and no
// incomplete upload, nothing is reserved, and the tenants' usage is the
// sum of their files.
func (e *replicaEnv) checkSettled(t *testing.T) catalogState {
	t.Helper()
	s := e.state(t)
	objects, incomplete := e.bucket(t)
	if !slices.Equal(objects, s.objects) {
		t.Errorf("the bucket holds %d objects %v; the catalog's %d files point at %v", len(objects), objects, len(s.objects), s.objects)
	}
	if len(incomplete) > 0 {
		t.Errorf("incomplete multipart uploads left in the bucket: %v", incomplete)
	}
	if s.uploads != 0 || s.reservedFiles != 0 || s.reservedBytes != 0 {
		t.Errorf("nothing in flight, yet %d uploads hold %d files and %d bytes reserved", s.uploads, s.reservedFiles, s.reservedBytes)
	}
	if s.usedFiles != int64(len(s.objects)) || s.usedBytes != s.sizes {
		t.Errorf("tenants use %d files and %d bytes; the files table holds %d files of %d bytes", s.usedFiles, s.usedBytes, len(s.objects), s.sizes)
	}
	return s
}

// eventually polls cond until it holds, failing the test after timeout
// with cond's last description of what it saw.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last saw %s", timeout, what, saw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drained waits until no object is queued for deletion and no upload is
// in flight: every janitor's work is done.
func (e *replicaEnv) drained(t *testing.T, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "the janitors to delete every queued object", func() (bool, string) {
		s := e.state(t)
		return s.garbage == 0 && s.uploads == 0, fmt.Sprintf("%d objects queued, %d uploads", s.garbage, s.uploads)
	})
}

// janitorRound waits for proof that some replica's janitor swept the
// catalog and collected its garbage after the call began: it records an
// upload whose lease has already passed, with an object in the bucket,
// and waits until a janitor has released the upload and deleted the
// object.
func (e *replicaEnv) janitorRound(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var b [8]byte
	_, _ = rand.Read(b[:])
	key := "probe/" + hex.EncodeToString(b[:])
	if _, err := e.store.Put(ctx, key, strings.NewReader("probe"), storage.PutOptions{Size: 5}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	lapsed := catalog.Upload{Object: key, Tenant: "janitor-probe", Lease: now.Add(-time.Second)}
	if err := e.cat.Begin(ctx, lapsed, catalog.Limits{}, now); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "a janitor to release the probe upload and delete its object", func() (bool, string) {
		var rows int64
		err := e.db.QueryRow(`SELECT (SELECT count(*) FROM uploads WHERE object = $1)
			+ (SELECT count(*) FROM garbage WHERE object = $1)`, key).Scan(&rows)
		if err != nil {
			return false, err.Error()
		}
		obj, err := e.store.Open(ctx, key)
		if err == nil {
			obj.Close()
		}
		return rows == 0 && errors.Is(err, storage.ErrNotFound), fmt.Sprintf("%d catalog rows, object: %v", rows, err)
	})
}

// form is a kie upload form with the file last.
func form(path, name string, data []byte) (contentType string, body []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("uploadPath", path)
	mw.WriteField("fileName", name)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(data)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// uploadResult is a kie stream upload's answer.
type uploadResult struct {
	status   int
	url      string    // data.downloadUrl of a 200
	uploaded time.Time // data.uploadedAt: the file's creation
	code     int       // the envelope's code
	msg      string
	body     string
}

// kieUpload uploads data as path/name through the server at base.
func kieUpload(ctx context.Context, base, token, path, name string, data []byte) (uploadResult, error) {
	ct, body := form(path, name, data)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/file-stream-upload", bytes.NewReader(body))
	if err != nil {
		return uploadResult{}, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := replicaClient.Do(req)
	if err != nil {
		return uploadResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return uploadResult{}, err
	}
	var env struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data struct {
			DownloadURL string    `json:"downloadUrl"`
			UploadedAt  time.Time `json:"uploadedAt"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return uploadResult{}, fmt.Errorf("status %d, not JSON: %q", resp.StatusCode, b)
	}
	return uploadResult{status: resp.StatusCode, url: env.Data.DownloadURL, uploaded: env.Data.UploadedAt,
		code: env.Code, msg: env.Msg, body: string(b)}, nil
}

// download fetches a download URL through the server at base (another
// replica than the one that answered the upload, typically).
func download(ctx context.Context, base, downloadURL string) (int, []byte, error) {
	u, err := url.Parse(downloadURL)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+u.EscapedPath(), nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := replicaClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, b, err
}

// usedFiles asks a replica for the token's file count (evolink's quota).
func usedFiles(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/files/quota", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := replicaClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var q struct {
		Data struct {
			UsedFiles int `json:"used_files"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("quota: status %d, %v", resp.StatusCode, err)
	}
	return q.Data.UsedFiles
}

// TestReplicaQuota: 30 concurrent uploads of one token, spread over three
// replicas with --quota-files 5, store exactly 5 files; the other 25 are
// refused with 403 envelopes and leave nothing behind. A byte quota that
// holds 5 of the files holds across replicas the same way (its refusals
// come mid-stream, as the bytes arrive).
func TestReplicaQuota(t *testing.T) {
	tests := []struct {
		name  string
		quota []string
		size  int // of each file
	}{
		{"files", []string{"--quota-files", "5"}, 40 << 10},
		{"bytes", []string{"--quota-bytes", "5MiB"}, 1<<20 - 1<<10}, // a request's Content-Length fits 1 MiB
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testReplicaQuota(t, tt.quota, tt.size) })
	}
}

func testReplicaQuota(t *testing.T, quota []string, size int) {
	e := newReplicaEnv(t)
	const token = "replica-quota-token-0123456789"
	servers := e.start(t, 3, token, append(quota, "--janitor-interval", "100ms")...)

	const n = 30
	results := make([]uploadResult, n)
	errs := make([]error, n)
	data := func(i int) []byte { return bytes.Repeat(fmt.Appendf(nil, "upload %02d\n", i), size/10) }
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = kieUpload(context.Background(), servers[i%3].url, token, "quota", fmt.Sprintf("f%d.txt", i), data(i))
		})
	}
	close(start)
	wg.Wait()

	var stored []int
	for i, r := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("upload %d: %v", i, errs[i])
		case r.status == http.StatusOK:
			stored = append(stored, i)
		case r.status != http.StatusForbidden || r.code != http.StatusForbidden || !strings.Contains(r.msg, "Quota exhausted"):
			t.Errorf("upload %d: status %d %s; want 200, or a 403 quota envelope", i, r.status, r.body)
		}
	}
	if len(stored) != 5 {
		t.Fatalf("%d uploads stored (%v), want exactly the quota's 5", len(stored), stored)
	}
	// Each stored file reads back through every replica.
	for _, i := range stored {
		for _, srv := range servers {
			status, got, err := download(context.Background(), srv.url, results[i].url)
			if err != nil || status != http.StatusOK || !bytes.Equal(got, data(i)) {
				t.Errorf("file %d through %s: status %d, %d bytes, %v", i, srv.url, status, len(got), err)
			}
		}
	}

	e.janitorRound(t)
	s := e.checkSettled(t)
	if len(s.objects) != 5 {
		t.Errorf("after the janitor ran the catalog holds %d files, want 5", len(s.objects))
	}
	for _, srv := range servers {
		if used := usedFiles(t, srv.url, token); used != 5 {
			t.Errorf("%s reports %d files used, want 5", srv.url, used)
		}
	}
	// The quota is still full: the refusals reserved nothing that lasts.
	r, err := kieUpload(context.Background(), servers[1].url, token, "quota", "one-more.txt", data(n))
	if err != nil || r.status != http.StatusForbidden {
		t.Errorf("a 31st upload: status %d %s, %v; want 403", r.status, r.body, err)
	}
}

// storedPart returns the key of an incomplete multipart upload in the
// bucket that holds at least one part, or "".
func (e *replicaEnv) storedPart(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	core := minio.Core{Client: e.store.Client()}
	for u := range core.ListIncompleteUploads(ctx, e.s3.Bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		parts, err := core.ListObjectParts(ctx, e.s3.Bucket, u.Key, u.UploadID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts.ObjectParts) > 0 {
			return u.Key
		}
	}
	return ""
}

// TestReplicaKilledMidUpload: a replica killed with SIGKILL while it
// stores a large overwrite (declared with Content-Length, some MiB of it
// already stored in the bucket) leaves nothing visible on the others;
// once --upload-lease has passed a surviving janitor releases its
// reservation, so an upload that fits only without it succeeds, and
// deletes its partial object and incomplete multipart upload.
//
// The lease is renewed only as bytes are read; 3 s leaves a live upload
// whose reads wait on a part being sent to MinIO a margin of 1.5 s.
func TestReplicaKilledMidUpload(t *testing.T) {
	e := newReplicaEnv(t)
	const token = "replica-kill-token-0123456789"
	const quota, bigSize, afterSize = 40 << 20, 32 << 20, 16 << 20
	servers := e.start(t, 3, token, "--quota-bytes", "40MiB", "--upload-lease", "3s",
		"--janitor-interval", "100ms", "--garbage-delay", "1s")
	ctx := context.Background()

	oldData := bytes.Repeat([]byte("old version\n"), 1000)
	r, err := kieUpload(ctx, servers[0].url, token, "k", "victim.bin", oldData)
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("first upload: %v %s", err, r.body)
	}
	oldObjects := e.state(t).objects

	// Overwrite it through replica 1, 1 MiB at a time, until part of the
	// new version is stored in the bucket.
	ct, body := form("k", "victim.bin", bytes.Repeat([]byte("N"), bigSize))
	conn, err := net.Dial("tcp", strings.TrimPrefix(servers[1].url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/file-stream-upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		token, ct, len(body))
	partial, sent := "", 0
	for ; partial == "" && sent < len(body)-1<<20; sent += 1 << 20 {
		if _, err := conn.Write(body[sent : sent+1<<20]); err != nil {
			t.Fatal(err)
		}
		partial = e.storedPart(t)
	}
	eventually(t, 30*time.Second, "part of the upload to be stored in the bucket", func() (bool, string) {
		partial = e.storedPart(t)
		return partial != "", "no part"
	})

	// The catalog holds the upload, with its declared size reserved.
	var object string
	var reserved, leaseMS int64
	if err := e.db.QueryRow(`SELECT object, bytes, lease_ms FROM uploads`).Scan(&object, &reserved, &leaseMS); err != nil {
		t.Fatalf("the upload in flight in the catalog: %v", err)
	}
	if partial != "objects/"+object || reserved != int64(len(body)) {
		t.Fatalf("the catalog's upload %s reserves %d bytes; the bucket's partial upload is %s of a %d-byte request", object, reserved, partial, len(body))
	}
	if int64(len(oldData))+reserved+afterSize <= quota {
		t.Fatal("test setup: the later upload would fit beside the dead one's reservation")
	}
	if err := servers[1].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	servers[1].cmd.Wait()
	conn.Close()
	killed := time.Now()
	t.Logf("replica killed after %d MiB of %d were sent, a part of them stored", sent>>20, len(body)>>20)

	// Nothing of it is visible on the others.
	for _, i := range []int{0, 2} {
		status, got, err := download(ctx, servers[i].url, r.url)
		if err != nil || status != http.StatusOK || !bytes.Equal(got, oldData) {
			t.Errorf("victim.bin through %s: status %d, %d bytes, %v; want the old %d bytes", servers[i].url, status, len(got), err, len(oldData))
		}
		if used := usedFiles(t, servers[i].url, token); used != 1 {
			t.Errorf("%s reports %d files used, want 1", servers[i].url, used)
		}
	}
	if s := e.state(t); !slices.Equal(s.objects, oldObjects) {
		t.Errorf("after the kill the catalog's files point at %v, want the old version's %v", s.objects, oldObjects)
	}

	// Its reservation is released once its lease has passed, not before.
	eventually(t, 30*time.Second, "a janitor to release the dead upload", func() (bool, string) {
		var n int64
		e.db.QueryRow(`SELECT count(*) FROM uploads WHERE object = $1`, object).Scan(&n)
		return n == 0, fmt.Sprintf("%d upload rows", n)
	})
	if now := time.Now(); now.Before(time.UnixMilli(leaseMS)) {
		t.Errorf("the dead upload was released at %v, before its lease ran out at %v", now, time.UnixMilli(leaseMS))
	}
	t.Logf("its reservation was released %v after the kill", time.Since(killed).Round(time.Millisecond))
	after := bytes.Repeat([]byte("A"), afterSize)
	if r, err := kieUpload(ctx, servers[2].url, token, "k", "after.bin", after); err != nil || r.status != http.StatusOK {
		t.Errorf("an upload that fits only without the dead one's reservation: %v %s", err, r.body)
	}

	// Its partial object and multipart upload are deleted.
	eventually(t, 30*time.Second, "a janitor to delete the dead upload's object", func() (bool, string) {
		objects, incomplete := e.bucket(t)
		s := e.state(t)
		return len(incomplete) == 0 && !slices.Contains(objects, object) && s.garbage == 0,
			fmt.Sprintf("objects %v, incomplete uploads %v, %d objects queued", objects, incomplete, s.garbage)
	})
	if s := e.checkSettled(t); !slices.Equal(s.names, []string{"after.bin", "victim.bin"}) {
		t.Errorf("the catalog holds %v, want after.bin and victim.bin", s.names)
	}
}
