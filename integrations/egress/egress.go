// Package egress decides which network addresses outbound deliveries may reach.
//
// Destination URLs are merchant input, so a destination could point hookshift at
// its own loopback, the private network or the cloud metadata service (SSRF).
// The check runs twice: CheckURL when a destination is saved, so the merchant
// gets a clear error, and the dialer of Client on every connection, after DNS,
// because the name may resolve differently by the time we deliver (DNS
// rebinding). Only the dial-time check is a security boundary; the save-time
// check is for the merchant's benefit.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// ErrForbidden is wrapped by every refusal of CheckURL and of Client's dialer,
// so callers can errors.Is it. A forbidden dial is a permanent delivery failure:
// retrying will not make the address public.
var ErrForbidden = errors.New("destination address not allowed")

// DefaultTimeout is the overall request timeout Client uses when given zero or
// less. An unbounded request to merchant infrastructure would let one slow
// destination hold a worker forever.
const DefaultTimeout = 30 * time.Second

// allowEnv names the operator setting in error messages.
const allowEnv = "HOOKSHIFT_EGRESS_ALLOW"

// Policy decides which network addresses destinations may reach.
//
// The zero value refuses every private, loopback, link-local, CGNAT
// (100.64.0.0/10), unique-local, multicast, unspecified, reserved and
// cloud-metadata address, and allows public ones. The deny list is the IANA
// special-purpose registry as shipped by code.dny.dev/ssrf; in IPv6 anything
// outside global unicast (2000::/3) is refused, which covers ::1, fe80::/10,
// fc00::/7 (including AWS's fd00:ec2::254), ff00::/8, IPv4-mapped addresses
// and NAT64.
type Policy struct {
	// Allow is the operator allow-list (HOOKSHIFT_EGRESS_ALLOW), for tests and
	// on-premise targets, e.g. 127.0.0.0/8. It overrides the deny list, except
	// for cloud metadata addresses, which stay refused whatever it says. A
	// NAT64 or 6to4 address is also checked as the IPv4 address it reaches,
	// so allowing 64:ff9b::/96 opens only the public IPv4 internet.
	Allow []netip.Prefix
	// Resolver resolves destination host names, both in CheckURL and when
	// dialling. nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// metadataAddrs are cloud instance-metadata endpoints. They are refused even
// when an allow-list entry covers them: no webhook destination lives there, and
// an operator allowing 169.254.0.0/16 or 0.0.0.0/0 should not open up the
// instance's credentials by accident.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, DigitalOcean, OpenStack
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata and credentials
	netip.MustParseAddr("169.254.170.23"),  // AWS EKS Pod Identity agent
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("192.0.0.192"),     // Oracle Cloud (legacy)
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::23"),    // AWS EKS Pod Identity agent over IPv6
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// ParseAllow parses the operator allow-list: comma-separated prefixes or bare
// addresses ("127.0.0.0/8, ::1/128, 10.1.2.3"). A bare address means that one
// address (/32 or /128). Host bits below the prefix length are cleared.
// IPv4-mapped IPv6 entries (::ffff:10.0.0.0/104) are stored as the IPv4
// prefix they mean, since addresses are checked unmapped. Empty entries are
// skipped, so an empty string means no entries.
func ParseAllow(csv string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for field := range strings.SplitSeq(csv, ",") {
		entry := strings.TrimSpace(field)
		if entry == "" {
			continue // tolerate "a, b," and an unset variable
		}
		p, err := parseAllowEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("%s entry %q: %v; expected a prefix like 127.0.0.0/8 or ::1/128, or an address like 10.1.2.3", allowEnv, entry, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseAllowEntry(entry string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(entry, "/") {
		var err error
		p, err = netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, errors.New("not a valid prefix")
		}
	} else {
		a, err := netip.ParseAddr(entry)
		if err != nil {
			return netip.Prefix{}, errors.New("not a valid IP address")
		}
		if a.Zone() != "" {
			return netip.Prefix{}, errors.New("IPv6 zones are not supported")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("an IPv4-mapped prefix must be /96 or longer")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// CheckURL validates a destination URL when it is saved: an absolute http or
// https URL with a host, no userinfo, a port in range, and a host whose every
// address is allowed. It resolves host names with the policy's resolver, so
// ctx should carry a deadline. A nil error does not make later deliveries
// safe: the name can resolve elsewhere by then, which Client's dialer checks.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := CheckForm(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()

	g := p.guardian()
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("url host %q has an IPv6 zone; destinations must be reachable without one", host)
		}
		if err := p.checkAddr(g, a); err != nil {
			return fmt.Errorf("url host %s is %w", host, err)
		}
		return nil
	}
	addrs, err := p.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("url host %q could not be resolved: %v; destinations must have a public DNS name", host, unwrapDNSError(err))
	}
	if len(addrs) == 0 {
		return fmt.Errorf("url host %q resolves to no addresses; destinations must have a public DNS name", host)
	}
	for _, a := range addrs {
		if err := p.checkAddr(g, a); err != nil {
			return fmt.Errorf("url host %q resolves to %s, %w", host, a.Unmap(), err)
		}
	}
	return nil
}

// CheckForm is the part of CheckURL that needs no DNS: an absolute http or
// https URL with a host, no userinfo, a port in range. Deliveries call it on
// the URL a script returns, so a URL that can never be sent fails at once.
func CheckForm(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url %q is not valid: %v; expected an absolute http or https URL such as https://example.com/webhooks", raw, unwrapURLError(err))
	}
	if u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return nil, fmt.Errorf("url %q is not absolute; expected an http or https URL with a host, such as https://example.com/webhooks", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url scheme %q is not supported; expected http or https", u.Scheme)
	}
	if u.User != nil {
		// Credentials in the URL would be stored, logged and shown in clear
		// with it, against the rule that secrets never appear (BRIEF §6).
		return nil, errors.New("url must not contain a user name or password; expected a URL without credentials")
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("url %q has no host; expected an http or https URL with a host, such as https://example.com/webhooks", raw)
	}
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("url port %q is out of range; expected 1 to 65535", ps)
		}
	}
	if _, err := netip.ParseAddr(host); err != nil && (looksNumeric(host) || !validHostName(host)) {
		// Browsers and getaddrinfo read 0x7f.1 or 2130706433 as 127.0.0.1.
		// The dialer would catch the result, but saying so now is clearer;
		// and a name DNS can never resolve (a..b, -x-) is not "not found".
		return nil, fmt.Errorf("url host %q is not a valid IP address or host name", host)
	}
	return u, nil
}

// Client returns an HTTP client for deliveries. Its dialer checks every
// address after DNS and refuses forbidden ones with an error wrapping
// ErrForbidden. It follows no redirects (the 3xx response is returned as is),
// ignores HTTP(S)_PROXY (a proxy would dial on our behalf, past the check),
// and bounds the whole request by timeout (DefaultTimeout if zero or less).
//
// Build it once and share it: each call makes a new connection pool.
func (p Policy) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	g := p.guardian()
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Resolver:  p.Resolver,
		Control: func(network, address string, _ syscall.RawConn) error {
			return p.checkDial(g, network, address)
		},
	}
	// The idle limits: a worker runs up to --concurrency deliveries at once,
	// often to one host (a merchant's DataFast or Slack); keep that many
	// alive, or each delivery past the limit dials (and TLS-handshakes)
	// anew. Idle connections still close after IdleConnTimeout.
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  1 * time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// guardian builds the ssrf guard for this policy. Ports are not restricted:
// merchants legitimately run receivers on 8080 or 8443, and the address check
// is what keeps us off internal services.
func (p Policy) guardian() *ssrf.Guardian {
	var v4, v6 []netip.Prefix
	for _, pr := range p.Allow {
		if pr.Addr().Is4() {
			v4 = append(v4, pr)
		} else {
			v6 = append(v6, pr)
		}
	}
	return ssrf.New(
		ssrf.WithAnyPort(),
		ssrf.WithAllowedV4Prefixes(v4...),
		ssrf.WithAllowedV6Prefixes(v6...),
	)
}

// checkDial is the dialer's Control hook: network and address are what the
// kernel is about to connect to, after DNS.
func (p Policy) checkDial(g *ssrf.Guardian, network, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q", ErrForbidden, address)
	}
	a := ap.Addr().WithZone("").Unmap()
	if err := p.checkAddr(g, a); err != nil {
		return fmt.Errorf("%w: %s is %w", ErrForbidden, a, err)
	}
	// The guardian also insists on tcp4/tcp6.
	if err := g.Safe(network, netip.AddrPortFrom(a, ap.Port()).String(), nil); err != nil {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return nil
}

// checkAddr reports whether a may be reached. Its error reads as the tail of a
// sentence ("a loopback address; destinations must be ...") and wraps
// ErrForbidden.
func (p Policy) checkAddr(g *ssrf.Guardian, a netip.Addr) error {
	// Zones defeat netip.Prefix.Contains, and LookupNetIP may return IPv4
	// answers as IPv4-mapped IPv6; check the plain address.
	a = a.WithZone("").Unmap()
	for _, m := range metadataAddrs {
		if a == m {
			return &forbiddenError{kind: "a cloud metadata address", note: "destinations must be public"}
		}
	}
	if v4, ok := embeddedIPv4(a); ok {
		// NAT64 and 6to4 reach the IPv4 address inside: an allow-list entry
		// for the IPv6 prefix (an IPv6-only network's NAT64) must not open
		// the private IPv4 network or the metadata service through it.
		if err := p.checkAddr(g, v4); err != nil {
			return err
		}
	}
	if err := g.SafeAddr(a); err != nil {
		return &forbiddenError{
			kind: describe(a),
			note: "destinations must be public (an operator can allow it with " + allowEnv + ")",
		}
	}
	return nil
}

var (
	nat64Prefixes = []netip.Prefix{
		netip.MustParsePrefix("64:ff9b::/96"),   // well-known NAT64 (RFC 6052)
		netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215), /96 form
	}
	sixToFour = netip.MustParsePrefix("2002::/16") // 6to4 (RFC 3056)
)

// embeddedIPv4 is the IPv4 address an IPv6 address reaches through a
// translator: the last 32 bits of a NAT64 address, bits 16 to 47 of a 6to4
// one.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	for _, p := range nat64Prefixes {
		if p.Contains(a) {
			return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
		}
	}
	if sixToFour.Contains(a) {
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// forbiddenError is a refusal with a reason a merchant can act on.
type forbiddenError struct {
	kind string // "a loopback address"
	note string // what is expected instead
}

func (e *forbiddenError) Error() string { return e.kind + "; " + e.note }
func (e *forbiddenError) Unwrap() error { return ErrForbidden }

// describe names the class of a refused address for error messages. The
// decision itself is the guardian's; this only explains it.
func describe(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "an unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case cgnat.Contains(a):
		return "a carrier-grade NAT (100.64.0.0/10) address"
	case a.IsMulticast():
		return "a multicast address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.Is6() && a.IsPrivate():
		return "a unique-local address"
	case a.IsPrivate():
		return "a private address"
	default:
		return "a reserved address"
	}
}

func (p Policy) resolver() *net.Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

// looksNumeric reports whether host's last label is a number, which the URL
// standard and inet_aton read as an IPv4 address in some form (octal, hex,
// a single 32-bit integer). No real top-level domain is numeric.
func looksNumeric(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		return true
	}
	for _, c := range last {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validHostName reports whether host is a DNS name: dot-separated labels of
// 1 to 63 letters, digits, hyphens or underscores (or non-ASCII letters of
// an internationalised name, which net/http sends as punycode), not starting
// or ending with a hyphen, 253 bytes at most (a trailing dot allowed).
func validHostName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// unwrapURLError drops url.Error's "parse <url>:" prefix, since the message
// already quotes the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func unwrapDNSError(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		if de.IsNotFound {
			return "no such host"
		}
		return de.Err
	}
	return err.Error()
}
