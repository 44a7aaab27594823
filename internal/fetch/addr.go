package fetch

import (
	"context"
	"net/netip"
	"syscall"
)

// notPublic4 are the IPv4 ranges that are not globally routable unicast:
// the special-purpose ranges of the IANA registry that are not globally
// reachable, plus multicast, reserved and broadcast.
var notPublic4 = prefixes(
	"0.0.0.0/8",       // "this network"
	"10.0.0.0/8",      // private (RFC 1918)
	"100.64.0.0/10",   // shared address space, carrier-grade NAT (RFC 6598)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, and most cloud metadata services
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and the limited broadcast 255.255.255.255
)

// globalUnicast6 is the only IPv6 range allocated for global unicast.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// notPublic6 are the parts of 2000::/3 that are not globally routable
// unicast, or that tunnel to an IPv4 address this package cannot check.
var notPublic6 = prefixes(
	"2001::/23",     // IETF protocol assignments, Teredo (2001::/32) among them
	"2001:db8::/32", // documentation
	"2002::/16",     // 6to4: reaches the IPv4 address it embeds
	"3fff::/20",     // documentation (RFC 9637)
)

// nat64 is the well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d
// reaches a.b.c.d through the network's NAT64 gateway, so it is judged by
// the IPv4 address it embeds. (The local-use prefix 64:ff9b:1::/48 is not
// global unicast and is refused.)
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// metadata are cloud instance metadata and platform endpoints. They are
// refused even when an Allow prefix covers them: no operator means to
// hand them to a URL a client chose.
var metadata = prefixes(
	"169.254.169.254/32", // AWS, GCP, Azure, OpenStack, DigitalOcean, ...
	"169.254.170.2/32",   // AWS ECS task metadata
	"168.63.129.16/32",   // Azure WireServer (a public address)
	"100.100.100.200/32", // Alibaba Cloud
	"192.0.0.192/32",     // Oracle Cloud
	"fd00:ec2::254/128",  // AWS IMDS over IPv6
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

func anyContains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Public reports whether addr is a globally routable unicast address that
// is not a cloud metadata endpoint: an address a [Client] connects to
// without an Allow prefix. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) and
// NAT64 addresses (64:ff9b::a.b.c.d) are judged by the IPv4 address they
// reach; IPv4-compatible addresses (::a.b.c.d, deprecated) and addresses
// with a zone are never public.
func Public(addr netip.Addr) bool {
	if addr.Zone() != "" {
		return false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return !anyContains(notPublic4, addr) && !anyContains(metadata, addr)
	}
	if nat64.Contains(addr) {
		return Public(embedded4(addr))
	}
	return globalUnicast6.Contains(addr) && !anyContains(notPublic6, addr) && !anyContains(metadata, addr)
}

// embedded4 is the IPv4 address in the last 32 bits of an IPv6 address.
func embedded4(addr netip.Addr) netip.Addr {
	b := addr.As16()
	return netip.AddrFrom4([4]byte(b[12:]))
}

// alwaysRefused reports the addresses no Allow prefix opens: unspecified
// addresses (connecting to 0.0.0.0 or :: reaches this host) and metadata
// endpoints, directly or through NAT64.
func alwaysRefused(addr netip.Addr) bool {
	if nat64.Contains(addr) {
		addr = embedded4(addr)
	}
	return addr.IsUnspecified() || anyContains(metadata, addr)
}

// permitted reports whether the client may connect to addr: not always
// refused, and public or inside an Allow prefix. IPv4-mapped addresses
// are judged as the IPv4 address they reach.
func (c *Client) permitted(addr netip.Addr) bool {
	addr = addr.Unmap()
	bare := addr.WithZone("")
	if alwaysRefused(bare) {
		return false
	}
	return anyContains(c.allow, bare) || Public(addr)
}

// errRefused is the dial error for an address that is not permitted. The
// dialer wraps it in a *net.OpError that names the address, which only the
// operator's log may see.
var errRefused = refusedError{}

type refusedError struct{}

func (refusedError) Error() string { return "fetch: address not permitted" }

// control is the dialer's ControlContext: it runs on every address the
// dialer is about to connect to, after name resolution and for every
// redirect, so neither DNS rebinding nor a redirect can reach an address
// that is not permitted.
func (c *Client) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return errRefused
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !c.permitted(ap.Addr()) {
		return errRefused
	}
	return nil
}

// normalizeAllow checks and masks the operator's prefixes; an IPv4-mapped
// prefix (::ffff:10.0.0.0/104) becomes the IPv4 prefix it means.
func normalizeAllow(in []netip.Prefix) ([]netip.Prefix, bool) {
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if !p.IsValid() || p.Addr().Zone() != "" {
			return nil, false
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return nil, false
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, true
}
