package server_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkUpload measures server ingest over a real loopback socket: a
// streamed multipart body of b.N-independent size into the disk store.
func BenchmarkUpload(b *testing.B) {
	for _, mib := range []int64{1, 64} {
		b.Run(strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			e := newEnv(&testing.T{}, nil)
			defer e.srv.Close()
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
					io.CopyN(w, zeros{}, size)
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

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
