// Command sink is the floor that bench/run.sh measures the reference
// server against: the cheapest HTTP upload to disk that this machine can
// do. It accepts PUT requests, copies each raw body (no multipart, no
// hashing, no metadata) into a new file in -dir, fsyncs it, deletes it,
// and answers 204. It is a benchmark tool, not a server to deploy.
//
// Usage:
//
//	go run ./bench/sink -addr 127.0.0.1:9999 -dir /tmp/sink
//	curl -T big.bin http://127.0.0.1:9999/
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only for benchmarks)")
	dir := flag.String("dir", os.TempDir(), "directory for the received files")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("PUT /", func(w http.ResponseWriter, r *http.Request) {
		if err := receive(*dir, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}

// receive writes body to a new file in dir with the same buffer size as
// the reference server's disk store, fsyncs it and removes it.
func receive(dir string, body io.Reader) error {
	f, err := os.CreateTemp(dir, "sink-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(struct{ io.Writer }{f}, body, buf); err != nil {
		return err
	}
	return f.Sync()
}
