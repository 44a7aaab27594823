// Command sink is the floor that bench/run.sh measures the reference
// server against: the cheapest HTTP upload to disk that this machine can
// do. It accepts PUT requests, copies each raw body (no multipart, no
// hashing, no metadata) into a new file in -dir, fsyncs it, and answers
// 204. By default it deletes the file before answering; with -keep it
// leaves it, so that the caller can delete it outside the timing, as it
// does for the server it compares with (writing into memory another
// process just freed is faster on virtual machines, so both sides of a
// comparison must delete their files the same way). It is a benchmark
// tool, not a server to deploy.
//
// It logs the address it listens on (useful with the default port 0).
// Usage:
//
//	go run ./bench/sink -addr 127.0.0.1:9999 -dir /tmp/sink [-keep]
//	curl -T big.bin http://127.0.0.1:9999/
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only for benchmarks)")
	dir := flag.String("dir", os.TempDir(), "directory for the received files")
	keep := flag.Bool("keep", false, "keep each received file (default: delete it before answering)")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("PUT /", func(w http.ResponseWriter, r *http.Request) {
		if err := receive(*dir, r.Body, *keep); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

// receive writes body to a new file in dir with the same buffer size as
// the reference server's disk store and fsyncs it; unless keep, it then
// removes the file.
func receive(dir string, body io.Reader, keep bool) (err error) {
	f, err := os.CreateTemp(dir, "sink-*")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil || !keep {
			os.Remove(f.Name())
		}
	}()
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(struct{ io.Writer }{f}, body, buf); err != nil {
		return err
	}
	return f.Sync()
}
