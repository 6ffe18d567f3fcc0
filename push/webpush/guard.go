package webpush

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"

	"github.com/lenta-dev/lenta/notify"
)

// Special-purpose IPv4 ranges refused besides what netip classifies as
// private, loopback, link-local, multicast or unspecified (IANA IPv4
// Special-Purpose Address Registry, RFC 6890 and successors).
var refusedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT (and some clouds' metadata)
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),       // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.31.196.0/24"),    // AS112-v4
	netip.MustParsePrefix("192.52.193.0/24"),    // AMT
	netip.MustParsePrefix("192.88.99.0/24"),     // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.175.48.0/24"),    // direct delegation AS112
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),    // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),     // documentation (TEST-NET-3)
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved
	netip.MustParsePrefix("255.255.255.255/32"), // limited broadcast
}

// globalV6 is the only IPv6 space a push service can live in: global
// unicast 2000::/3. Everything else (::/96 IPv4-compatible, ::ffff:0:0:0/96
// IPv4-translated, 100::/64 discard, 5f00::/16 SRv6, fc00::/7 unique-local,
// fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast, ::, ::1)
// is refused. IPv4-mapped (::ffff:0:0/96) is judged by its IPv4 address.
var globalV6 = netip.MustParsePrefix("2000::/3")

// nat64 is the well-known NAT64 prefix (RFC 6052); an address in it is
// judged by the IPv4 address it embeds.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Special-purpose ranges inside 2000::/3 (IANA IPv6 Special-Purpose
// Address Registry).
var refusedV6 = []netip.Prefix{
	netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments: Teredo 2001::/32 (embeds IPv4), benchmarking 2001:2::/48, ORCHID, AS112, AMT
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("2002::/16"),     // 6to4 (deprecated, RFC 7526): embeds an IPv4 address
	netip.MustParsePrefix("3fff::/20"),     // documentation (RFC 9637)
}

// Policy says which addresses a push may go to.
type Policy struct {
	// AllowLoopback lets pushes reach 127.0.0.0/8 and ::1. Tests only.
	AllowLoopback bool
	// AllowHTTP accepts http:// endpoints. Tests only.
	AllowHTTP bool
}

// Refused reports why ip may not be dialled ("" if it may). Only a
// global unicast address outside every special-purpose range may be; an
// IPv6 form that embeds an IPv4 address (mapped, NAT64) is judged by that
// address, and the other embedding forms (IPv4-compatible ::a.b.c.d,
// 6to4, Teredo, IPv4-translated) are refused whatever they embed.
func (p Policy) Refused(ip netip.Addr) string {
	if ip.Zone() != "" {
		return "scoped address" // netip.Prefix.Contains never matches a zoned address
	}
	if ip.Is4In6() {
		return p.refusedV4(ip.Unmap())
	}
	if ip.Is4() {
		return p.refusedV4(ip)
	}
	if !ip.IsValid() {
		return "invalid address"
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		if why := p.refusedV4(netip.AddrFrom4([4]byte(b[12:]))); why != "" {
			return "NAT64 address of a " + why
		}
		return ""
	}
	switch {
	case ip.IsLoopback():
		if p.AllowLoopback {
			return ""
		}
		return "loopback address"
	case ip.IsUnspecified(), ip.IsMulticast():
		return "not a unicast address"
	case ip.IsLinkLocalUnicast():
		return "link-local address (cloud metadata lives there)"
	case ip.IsPrivate():
		return "private address"
	case !globalV6.Contains(ip):
		return "reserved address (outside global unicast 2000::/3)"
	}
	for _, pr := range refusedV6 {
		if pr.Contains(ip) {
			return "reserved address"
		}
	}
	return ""
}

func (p Policy) refusedV4(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		if p.AllowLoopback {
			return ""
		}
		return "loopback address"
	case ip.IsPrivate():
		return "private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local address (cloud metadata lives there)"
	case ip.IsUnspecified(), ip.IsMulticast():
		return "not a unicast address"
	}
	for _, pr := range refusedV4 {
		if pr.Contains(ip) {
			return "reserved address"
		}
	}
	return ""
}

// Resolver looks a host name up.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

func defaultResolver(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// guard resolves and checks addresses, and dials only checked ones.
type guard struct {
	policy  Policy
	resolve Resolver
	dialer  *net.Dialer
}

func refused(host, why string) error {
	return fmt.Errorf("%w: %s is a %s", notify.ErrRefused, host, why)
}

// addrs resolves host and refuses it if any of its addresses is refused
// (a name that has one private address is not a push service).
func (g *guard) addrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := g.policy.Refused(ip); why != "" {
			return nil, refused(host, why)
		}
		return []netip.Addr{ip}, nil
	}
	ips, err := g.resolve(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	for _, ip := range ips {
		if why := g.policy.Refused(ip); why != "" {
			return nil, refused(host, why)
		}
	}
	return ips, nil
}

// dial resolves, checks, then dials the checked address itself (never
// the name again), and checks once more in Control: the socket's actual
// peer address.
func (g *guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := g.addrs(ctx, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ip := range ips {
		c, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if errors.Is(err, notify.ErrRefused) || ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// control runs before connect(2) with the final address.
func (g *guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", notify.ErrRefused, address)
	}
	if why := g.policy.Refused(ap.Addr()); why != "" {
		return refused(ap.Addr().String(), why)
	}
	return nil
}

// CheckEndpoint checks an endpoint's shape and where it resolves now.
func (g *guard) CheckEndpoint(ctx context.Context, endpoint string) error {
	if err := notify.CheckEndpointURL(endpoint, g.policy.AllowHTTP); err != nil {
		return err
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("%w: %v", notify.ErrBadSubscription, err)
	}
	if _, err := g.addrs(ctx, u.Hostname()); err != nil {
		if errors.Is(err, notify.ErrRefused) {
			return fmt.Errorf("%w: %w", notify.ErrBadSubscription, err)
		}
		return fmt.Errorf("%w: endpoint host does not resolve", notify.ErrBadSubscription)
	}
	return nil
}
