package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

// TestDiskFull fills a real (tmpfs) filesystem: the overwrite fails with a
// 500 envelope, the old version stays intact, and nothing of the failed
// upload is left. Needs permission to mount tmpfs (root, as in CI).
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the disk-full test needs root", err, bytes.TrimSpace(out))
	}
	store, err := storage.NewDisk(dir)
	if err != nil {
		exec.Command("umount", dir).Run()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		store.Close()
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	cat := catalogtest.OpenDSN(t, catalogtest.SQLiteDSN(t), catalog.Options{}) // off the full disk
	e := newEnvWith(t, store, cat, dir, nil)
	old := bytes.Repeat([]byte("old"), 100_000) // 300 kB
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "f"), field("fileName", "v.bin"), file("v.bin", old))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first upload: %d %s", resp.StatusCode, body)
	}
	url := decode[kieOK](t, body).Data.DownloadUrl

	resp, body = e.post(kiePath, tokenA, field("uploadPath", "f"), field("fileName", "v.bin"), file("v.bin", randomBytes(2<<20)))
	wantEnvelope(t, resp, body, http.StatusInternalServerError, "could not be stored")
	if _, got := e.get(url); !bytes.Equal(got, old) {
		t.Errorf("after the failed overwrite the file is %d bytes, want the old %d", len(got), len(old))
	}
	if objs := e.objects(); len(objs) != 1 {
		t.Errorf("objects on the full disk: %v, want the old version only", objs)
	}
	// The space is free again: a small upload works.
	resp, body = e.post(kiePath, tokenA, field("uploadPath", "f"), field("fileName", "small.bin"), file("small.bin", []byte("fits")))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the failure: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(e.logs.String(), "storage write failed") {
		t.Error("the storage failure was not logged")
	}
}

// TestS3ServerKilledMidUpload kills a MinIO (scripts/minio.sh restarts it)
// while the reference server streams an overwrite into it: the upload
// fails with an envelope, the old version stays intact, nothing partial is
// visible, and uploads work again once MinIO is back.
func TestS3ServerKilledMidUpload(t *testing.T) {
	cfg := storagetest.S3FromEnv(t)
	// A MinIO of its own: other packages' tests use the main one meanwhile.
	cfg.Endpoint = os.Getenv("FILEUP_TEST_S3_FAULT_ENDPOINT")
	pidFile := os.Getenv("FILEUP_TEST_S3_FAULT_PIDFILE")
	if cfg.Endpoint == "" || pidFile == "" {
		t.Skip("FILEUP_TEST_S3_FAULT_ENDPOINT/PIDFILE not set: no MinIO that may be killed (make test starts one)")
	}
	store, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, store, catalogtest.OpenDSN(t, catalogtest.SQLiteDSN(t), catalog.Options{}), "", nil)
	old := bytes.Repeat([]byte("old version "), 10_000)
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "s3"), field("fileName", "v.bin"), file("v.bin", old))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first upload: %d %s", resp.StatusCode, body)
	}
	url := decode[kieOK](t, body).Data.DownloadUrl

	// Stream a 40 MiB overwrite; kill MinIO once 12 MiB have gone.
	newData := randomBytes(40 << 20)
	ct, form := formBody(t, field("uploadPath", "s3"), field("fileName", "v.bin"), file("v.bin", newData))
	var killed bool
	written := make(chan struct{})
	pr, pw := ioPipe()
	go func() {
		defer close(written)
		defer pw.Close()
		const chunk = 1 << 20
		for off := 0; off < len(form); off += chunk {
			if off == 12<<20 {
				killMinIO(t, pidFile)
				killed = true
			}
			if _, err := pw.Write(form[off:min(off+chunk, len(form))]); err != nil {
				return
			}
		}
	}()
	resp, body = e.do(http.MethodPost, kiePath, tokenA, ct, pr)
	pr.CloseWithError(errors.New("answered")) // unblocks a writer the server stopped reading
	<-written
	if !killed {
		t.Fatalf("the upload ended before MinIO was killed: %d %s", resp.StatusCode, body)
	}
	waitMinIO(t, cfg.Endpoint)
	want := old
	if resp.StatusCode == http.StatusOK {
		// The S3 client's retries outlived the restart: then the new
		// version must be complete.
		t.Log("the upload survived the MinIO restart")
		want = newData
	} else {
		wantEnvelope(t, resp, body, resp.StatusCode, "")
	}
	if _, got := e.get(url); !bytes.Equal(got, want) {
		t.Errorf("after the restart the object is %d bytes, want %d (old %v)", len(got), len(want), resp.StatusCode != http.StatusOK)
	}
	resp, body = e.post(kiePath, tokenA, field("uploadPath", "s3"), field("fileName", "after.bin"), file("after.bin", []byte("back")))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after MinIO restarted: %d %s", resp.StatusCode, body)
	}
	u, err := e.cat.Usage(context.Background(), e.tenant(tokenA), e.now.Now())
	if err != nil || u.Files != 2 || u.Bytes != int64(len(want))+4 {
		t.Errorf("usage %+v, %v: want the old file and the new small one only", u, err)
	}
}

func killMinIO(t *testing.T, pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Error(err)
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Error(err)
		return
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Error(err)
	}
}

func waitMinIO(t *testing.T, endpoint string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("MinIO did not come back")
}
