package server_test

import (
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkUpload measures server ingest over a real loopback socket: a
// streamed multipart body into the disk store. "random" data is what most
// uploads look like; "zeros" is the worst case for mime/multipart, whose
// boundary scan walks back over every byte of a chunk that holds no '\n'.
func BenchmarkUpload(b *testing.B) {
	random := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{})
	rng.Read(random)
	sources := []struct {
		name  string
		block []byte
	}{
		{"random", random},
		{"zeros", make([]byte, 1<<20)},
	}
	for _, src := range sources {
		for _, mib := range []int64{1, 64} {
			b.Run(src.name+"/"+strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
				e := newBenchEnv(b)
				size := mib << 20
				b.SetBytes(size)
				b.ReportAllocs()
				for b.Loop() {
					pr, pw := io.Pipe()
					mw := multipart.NewWriter(pw)
					go func() {
						mw.WriteField("uploadPath", "bench")
						mw.WriteField("fileName", "b.bin")
						w, _ := mw.CreateFormFile("file", "b.bin")
						for left := size; left > 0; left -= int64(len(src.block)) {
							w.Write(src.block[:min(left, int64(len(src.block)))])
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
			})
		}
	}
}

// newBenchEnv is newEnv for a benchmark.
func newBenchEnv(b *testing.B) *env { return newEnv(b, nil) }
