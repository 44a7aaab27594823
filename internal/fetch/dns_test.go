package fetch_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/fileup/fileup/internal/fetch"
)

// fakeDNS answers A and AAAA queries over UDP from a table, so that names
// can resolve to any address a test needs. A name may have several
// successive answers: the n-th query gets the n-th (the last one repeats).
type fakeDNS struct {
	pc      net.PacketConn
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	asked   map[string]int
}

func newFakeDNS(t *testing.T, answers map[string][][]netip.Addr) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	d := &fakeDNS{pc: pc, answers: answers, asked: map[string]int{}}
	go d.serve()
	return d
}

// resolver sends every query of the Go resolver to d.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", d.pc.LocalAddr().String())
	}}
}

func (d *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.answer(buf[:n]); resp != nil {
			d.pc.WriteTo(resp, from)
		}
	}
}

// answer builds the response to one query (RFC 1035 §4.1): the header, the
// question echoed, and an A or AAAA record per matching address.
func (d *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if l > 63 || i+1+l >= len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	addrs, known := d.lookup(strings.ToLower(strings.Join(labels, ".")), qtype)
	flags := []byte{0x81, 0x80} // response, recursion desired and available
	if !known {
		flags[1] = 0x83 // NXDOMAIN
	}
	resp := append([]byte{q[0], q[1], flags[0], flags[1], 0, 1, 0, 0, 0, 0, 0, 0}, q[12:i+5]...)
	for _, a := range addrs {
		rdata := a.AsSlice()
		resp = append(resp, 0xc0, 12, byte(qtype>>8), byte(qtype), 0, 1, 0, 0, 0, 0, 0, byte(len(rdata)))
		resp = append(resp, rdata...)
	}
	resp[7] = byte(len(addrs))
	return resp
}

// lookup returns the addresses of name for an A (1) or AAAA (28) query,
// counting A queries to pick successive answers.
func (d *fakeDNS) lookup(name string, qtype uint16) ([]netip.Addr, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	answers, ok := d.answers[name]
	if !ok {
		return nil, false
	}
	n := d.asked[name]
	if qtype == 1 {
		d.asked[name]++
	}
	var out []netip.Addr
	for _, a := range answers[min(n, len(answers)-1)] {
		if (qtype == 1 && a.Is4()) || (qtype == 28 && a.Is6()) {
			out = append(out, a)
		}
	}
	return out, true
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// TestNamesCheckedWhenDialled: names are judged by the addresses they
// resolve to when the connection is made, for the first request and for
// redirects, and a name that changes its answer (DNS rebinding) is judged
// again on the next connection.
func TestNamesCheckedWhenDialled(t *testing.T) {
	o := newOrigin(t)
	other := listen(t, "127.0.0.2:"+o.port) // the same port on another loopback address
	dns := newFakeDNS(t, map[string][][]netip.Addr{
		"origin.test":   {addrs("127.0.0.1")},
		"rebind.test":   {addrs("127.0.0.2")},
		"internal.test": {addrs("10.0.0.1", "192.168.1.1")},
		"meta.test":     {addrs("169.254.169.254")},
		"v6.test":       {addrs("::1", "fd00::1")},
		"mixed.test":    {addrs("10.0.0.1", "127.0.0.1")},
		"flip.test":     {addrs("127.0.0.1"), addrs("127.0.0.2")},
	})
	c := newClient(t, fetch.Config{Allow: loopback})
	fetch.SetResolver(c, dns.resolver())
	at := func(host, path string) string { return "http://" + host + ":" + o.port + path }

	for _, host := range []string{"origin.test", "mixed.test"} {
		if _, body, err := get(t, c, at(host, "/chain/0")); err != nil || string(body) != "ok" {
			t.Fatalf("%s: %q, %v", host, body, err)
		}
	}
	for _, host := range []string{"rebind.test", "internal.test", "meta.test", "v6.test"} {
		_, _, err := get(t, c, at(host, "/hit"))
		checkError(t, err, fetch.Refused, 0, o.port)
		_, _, err = get(t, c, at("origin.test", "/redirect?to="+url.QueryEscape(at(host, "/hit"))))
		checkError(t, err, fetch.Refused, 1, o.port)
	}

	if _, _, err := get(t, c, at("flip.test", "/chain/0")); err != nil {
		t.Fatalf("flip.test, first answer: %v", err)
	}
	c.CloseIdleConnections() // the next request dials again
	_, _, err := get(t, c, at("flip.test", "/hit"))
	checkError(t, err, fetch.Refused, 0, o.port)

	if n := o.hits.Load(); n != 0 {
		t.Errorf("the origin's /hit was reached %d times", n)
	}
	if other != nil && other.accepted.Load() != 0 {
		t.Errorf("127.0.0.2 accepted %d connections", other.accepted.Load())
	}

	strict := newClient(t, fetch.Config{})
	fetch.SetResolver(strict, dns.resolver())
	_, _, err = get(t, strict, at("origin.test", "/hit"))
	checkError(t, err, fetch.Refused, 0, o.port)
}
