package server_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strconv"
	"testing"
)

// benchSizes are the file sizes of the upload and download benchmarks, in
// MiB: one copy buffer's worth, and enough to stream.
var benchSizes = []int64{1, 64}

// benchBlocks are the data of the benchmarks: "random" is what most
// uploads look like; "zeros" is the worst case for a multipart boundary
// scan that walks back over every byte of a chunk that holds no '\n'.
func benchBlocks() []struct {
	name  string
	block []byte
} {
	random := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{}).Read(random)
	return []struct {
		name  string
		block []byte
	}{{"random", random}, {"zeros", make([]byte, 1<<20)}}
}

// BenchmarkUpload measures server ingest over a real loopback socket: a
// streamed multipart body into the disk store, with the SQLite catalog.
func BenchmarkUpload(b *testing.B) {
	for _, src := range benchBlocks() {
		for _, mib := range benchSizes {
			b.Run(src.name+"/"+strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
				benchUpload(b, newEnv(b, nil), src.block, mib<<20)
			})
		}
	}
}

// BenchmarkUploadS3 is BenchmarkUpload into the S3 store, on the MinIO of
// scripts/minio.sh (a fresh bucket); it skips without one:
//
//	scripts/minio.sh go test -run '^$' -bench UploadS3 -benchtime 3x ./server
func BenchmarkUploadS3(b *testing.B) {
	random := benchBlocks()[0].block
	for _, mib := range benchSizes {
		b.Run("random/"+strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			benchUpload(b, newS3Env(b, nil), random, mib<<20)
		})
	}
}

// benchUpload uploads size bytes (block repeated) to e's server per
// iteration, streaming the multipart body from a pipe.
func benchUpload(b *testing.B, e *env, block []byte, size int64) {
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			mw.WriteField("uploadPath", "bench")
			mw.WriteField("fileName", "b.bin")
			w, _ := mw.CreateFormFile("file", "b.bin")
			for left := size; left > 0; left -= int64(len(block)) {
				w.Write(block[:min(left, int64(len(block)))])
			}
			mw.Close()
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+kiePath, pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tokenA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkDownload measures a GET of a stored file over a real loopback
// socket (disk store: the bytes go out with sendfile).
func BenchmarkDownload(b *testing.B) {
	random := benchBlocks()[0].block
	for _, mib := range benchSizes {
		b.Run(strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			benchDownload(b, newEnv(b, nil), random, mib<<20)
		})
	}
}

// BenchmarkDownloadS3 is BenchmarkDownload from the S3 store, on the
// MinIO of scripts/minio.sh; it skips without one.
func BenchmarkDownloadS3(b *testing.B) {
	random := benchBlocks()[0].block
	for _, mib := range benchSizes {
		b.Run(strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			benchDownload(b, newS3Env(b, nil), random, mib<<20)
		})
	}
}

// benchDownload stores size bytes (block repeated) once, then downloads
// them per iteration and checks the length.
func benchDownload(b *testing.B, e *env, block []byte, size int64) {
	data := bytes.Repeat(block, int((size+int64(len(block))-1)/int64(len(block))))[:size]
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "bench"), file("d.bin", data))
	url := decodeUpload(b, "kie", resp, body).url
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n != size {
			b.Fatalf("GET: status %d, %d of %d bytes, %v", resp.StatusCode, n, size, err)
		}
	}
}
