package formdata_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/fileup/fileup/internal/formdata"
)

const (
	benchBoundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
	benchSize     = 64 << 20
	benchBuf      = 256 << 10
)

// benchBodies are forms with one 64 MiB file part of random bytes or of
// zeros, built once.
var benchBodies = sync.OnceValue(func() map[string][]byte {
	build := func(fill func([]byte)) []byte {
		head := "--" + benchBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n" +
			"Content-Type: application/octet-stream\r\n\r\n"
		body := append(make([]byte, 0, len(head)+benchSize+64), head...)
		body = body[:len(head)+benchSize]
		fill(body[len(head):])
		return append(body, "\r\n--"+benchBoundary+"--\r\n"...)
	}
	rng := rand.NewChaCha8([32]byte{1})
	return map[string][]byte{
		"random": build(func(b []byte) { rng.Read(b) }),
		"zeros":  build(func([]byte) {}),
	}
})

// BenchmarkFilePart reads a 64 MiB file part through a 256 KiB buffer with
// formdata and with mime/multipart.
func BenchmarkFilePart(b *testing.B) {
	for _, data := range []string{"random", "zeros"} {
		body := benchBodies()[data]
		src := func() io.Reader { return bytes.NewReader(body) }
		b.Run(data+"/formdata", func(b *testing.B) {
			benchRead(b, func(r io.Reader) io.Reader {
				p, err := formdata.NewReader(r, benchBoundary, formdata.Options{}).NextPart()
				if err != nil {
					b.Fatal(err)
				}
				return p
			}, src)
		})
		b.Run(data+"/mime-multipart", func(b *testing.B) {
			benchRead(b, func(r io.Reader) io.Reader {
				p, err := multipart.NewReader(r, benchBoundary).NextPart()
				if err != nil {
					b.Fatal(err)
				}
				return p
			}, src)
		})
	}
}

// BenchmarkCopyToFile copies a 64 MiB file part of random bytes to a file
// (/dev/null: the write system calls without the disk) with io.Copy, as a
// server stores an upload: through Part.WriteTo, which writes from the
// Reader's buffer, and through Read, which copies into io.Copy's buffer
// first.
func BenchmarkCopyToFile(b *testing.B) {
	body := benchBodies()["random"]
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, mode := range []string{"WriteTo", "Read"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				p, err := formdata.NewReader(bytes.NewReader(body), benchBoundary, formdata.Options{}).NextPart()
				if err != nil {
					b.Fatal(err)
				}
				var src io.Reader = p
				if mode == "Read" {
					src = struct{ io.Reader }{p} // hides WriteTo
				}
				if n, err := io.Copy(f, src); n != benchSize || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// benchRead reads the file part that open finds in each body that src
// returns with Read calls of benchBuf bytes, writing them to io.Discard.
func benchRead(b *testing.B, open func(io.Reader) io.Reader, src func() io.Reader) {
	buf := make([]byte, benchBuf)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		p := open(src())
		var n int
		for {
			m, err := p.Read(buf)
			io.Discard.Write(buf[:m])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != benchSize {
			b.Fatalf("read %d bytes, want %d", n, benchSize)
		}
	}
}

// TestAllocsConstant: reading a form allocates the same whatever the size
// of its file part.
func TestAllocsConstant(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts include the race runtime's; measured by the run without -race")
	}
	buf := make([]byte, 32<<10)
	allocs := func(size int) float64 {
		body := []byte(crlf("--B\n"+disp+"name=a\n\npath\n--B\n"+disp+"name=f; filename=x\n\n") +
			strings.Repeat("\r\n--B-", size/6) + "\r\n--B--\r\n")
		return testing.AllocsPerRun(3, func() {
			mr := formdata.NewReader(bytes.NewReader(body), "B", formdata.Options{BufferSize: 64 << 10})
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{p}, buf); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if small, large := allocs(1<<20), allocs(16<<20); large > small {
		t.Errorf("%v allocs for 1 MiB, %v for 16 MiB: memory grows with the part", small, large)
	}
}

// BenchmarkFilePartTCP is BenchmarkFilePart with the body arriving over a
// loopback TCP connection, as a server receives it: every fill of a
// reader's buffer is a read system call.
func BenchmarkFilePartTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	impls := []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"formdata", func(r io.Reader) (io.Reader, error) {
			return formdata.NewReader(r, benchBoundary, formdata.Options{}).NextPart()
		}},
		{"mime-multipart", func(r io.Reader) (io.Reader, error) {
			return multipart.NewReader(r, benchBoundary).NextPart()
		}},
	}
	for _, data := range []string{"random", "zeros"} {
		body := benchBodies()[data]
		for _, impl := range impls {
			b.Run(data+"/"+impl.name, func(b *testing.B) {
				benchRead(b, func(r io.Reader) io.Reader {
					p, err := impl.open(r)
					if err != nil {
						b.Fatal(err)
					}
					return p
				}, func() io.Reader { return sendOver(b, ln, body) })
			})
		}
	}
}

// sendOver connects to ln, writes body on the connection from another
// goroutine, and returns the accepted end, closed when the benchmark's
// iteration is over.
func sendOver(b *testing.B, ln net.Listener, body []byte) io.Reader {
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return // the reader sees no connection and fails
		}
		defer c.Close()
		c.Write(body)
	}()
	c, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}
