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

// extra ranges refused besides what netip classifies as private,
// loopback, link-local, multicast or unspecified.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (and some clouds' metadata)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may embed a private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("2002::/16"),     // 6to4: may embed a private IPv4
}

// Policy says which addresses a push may go to.
type Policy struct {
	// AllowLoopback lets pushes reach 127.0.0.0/8 and ::1. Tests only.
	AllowLoopback bool
	// AllowHTTP accepts http:// endpoints. Tests only.
	AllowHTTP bool
}

// Refused reports why ip may not be dialled ("" if it may).
func (p Policy) Refused(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "invalid address"
	case ip.IsLoopback():
		if p.AllowLoopback {
			return ""
		}
		return "loopback address"
	case ip.IsPrivate():
		return "private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local address (cloud metadata lives there)"
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "not a unicast address"
	}
	for _, pr := range refusedPrefixes {
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
