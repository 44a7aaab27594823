package fetch_test

import (
	"net/netip"
	"testing"

	"github.com/fileup/fileup/internal/fetch"
)

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		// IPv4: public unicast
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"93.184.215.14", true},
		{"100.63.255.255", true}, // just below CGNAT
		{"100.128.0.0", true},    // just above CGNAT
		{"172.15.255.255", true},
		{"172.32.0.0", true},
		{"192.0.1.1", true},
		{"198.17.255.255", true},
		{"198.20.0.0", true},
		{"223.255.255.255", true},
		// IPv4: not public
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"100.64.0.1", false},
		{"100.100.100.200", false}, // Alibaba metadata, in CGNAT
		{"100.127.255.255", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"169.254.0.1", false},
		{"169.254.169.254", false},
		{"168.63.129.16", false}, // Azure WireServer: a public address, refused
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.192", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		// IPv4-mapped: judged as IPv4
		{"::ffff:8.8.8.8", true},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:0.0.0.0", false},
		{"::ffff:7f00:1", false},
		// IPv4-compatible (deprecated): never
		{"::8.8.8.8", false},
		{"::127.0.0.1", false},
		{"::10.0.0.1", false},
		// NAT64 well-known prefix: judged by the embedded IPv4 address
		{"64:ff9b::8.8.8.8", true},
		{"64:ff9b::127.0.0.1", false},
		{"64:ff9b::10.0.0.1", false},
		{"64:ff9b::a9fe:a9fe", false}, // 169.254.169.254
		{"64:ff9b::192.168.0.1", false},
		{"64:ff9b:1::8.8.8.8", false}, // local-use NAT64
		// IPv6: public unicast
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
		{"2a00:1450:4001::1", true},
		{"2001:200::1", true}, // just above 2001::/23
		// IPv6: not public
		{"::", false},
		{"::1", false},
		{"::2", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"febf::1", false},
		{"fec0::1", false}, // site-local (deprecated)
		{"fc00::1", false},
		{"fd00::1", false},
		{"fd00:ec2::254", false},
		{"ff02::1", false},
		{"ff05::2", false},
		{"100::1", false},         // discard-only
		{"2001::1", false},        // Teredo
		{"2001:1::1", false},      // IETF protocol assignments
		{"2001:db8::1", false},    // documentation
		{"2002:7f00:1::1", false}, // 6to4 of 127.0.0.1
		{"2002:808:808::1", false},
		{"3fff::1", false},
		{"4000::1", false},
		{"2606:4700::1%eth0", false}, // zoned
	} {
		addr := netip.MustParseAddr(tc.addr)
		if got := fetch.Public(addr); got != tc.public {
			t.Errorf("Public(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
	if fetch.Public(netip.Addr{}) {
		t.Error("the invalid Addr is public")
	}
}

// TestAllow: Check, which judges IP literals without connecting, through
// clients with different Allow lists.
func TestAllow(t *testing.T) {
	for _, tc := range []struct {
		allow []string
		url   string
		ok    bool
	}{
		{nil, "http://8.8.8.8/", true},
		{nil, "http://127.0.0.1/", false},
		{[]string{"127.0.0.1/32"}, "http://127.0.0.1/", true},
		{[]string{"127.0.0.1/32"}, "http://127.0.0.2/", false},
		{[]string{"127.0.0.0/8"}, "http://127.0.0.2/", true},
		{[]string{"::ffff:127.0.0.0/104"}, "http://127.0.0.9/", true},
		{[]string{"127.0.0.1/32"}, "http://[::ffff:127.0.0.1]/", false}, // mapped literals never
		{[]string{"::1/128"}, "http://[::1]/", true},
		{[]string{"::1/128"}, "http://127.0.0.1/", false},
		{[]string{"10.0.0.0/8"}, "http://10.1.2.3:8080/", true},
		{[]string{"10.0.0.0/8"}, "http://[64:ff9b::10.1.2.3]/", false}, // NAT64 is not the prefix
		{[]string{"0.0.0.0/0"}, "http://10.1.2.3/", true},
		{[]string{"0.0.0.0/0"}, "http://0.0.0.0/", false},
		{[]string{"0.0.0.0/0"}, "http://169.254.169.254/", false},
		{[]string{"0.0.0.0/0"}, "http://168.63.129.16/", false},
		{[]string{"0.0.0.0/0"}, "http://100.100.100.200/", false},
		{[]string{"::/0"}, "http://[::]/", false},
		{[]string{"::/0"}, "http://[fd00:ec2::254]/", false},
		{[]string{"::/0"}, "http://[64:ff9b::a9fe:a9fe]/", false},
		{[]string{"fe80::/10"}, "http://[fe80::1%25lo]/", true},
	} {
		var allow []netip.Prefix
		for _, p := range tc.allow {
			allow = append(allow, netip.MustParsePrefix(p))
		}
		c, err := fetch.New(fetch.Config{Allow: allow})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Check(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("Allow %v: Check(%s) = %v, want ok %v", tc.allow, tc.url, err, tc.ok)
		}
		if err != nil && kindOf(err) != fetch.Refused {
			t.Errorf("Allow %v: Check(%s) = %v, want Kind Refused", tc.allow, tc.url, err)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []fetch.Config{
		{Timeout: -1},
		{MaxSize: -1},
		{Allow: []netip.Prefix{{}}},
		{Allow: []netip.Prefix{netip.PrefixFrom(netip.MustParseAddr("::ffff:10.0.0.0"), 64)}},
	} {
		if _, err := fetch.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
