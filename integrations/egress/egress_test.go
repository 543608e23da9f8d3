package egress_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations/egress"
)

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestParseAllow(t *testing.T) {
	tests := []struct {
		in      string
		want    []netip.Prefix
		wantErr string // substring; "" means success
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "127.0.0.0/8", want: prefixes("127.0.0.0/8")},
		{in: "127.0.0.0/8, ::1/128, 10.1.2.3", want: prefixes("127.0.0.0/8", "::1/128", "10.1.2.3/32")},
		{in: "fd00::1", want: prefixes("fd00::1/128")},
		{in: "10.0.0.0/8,", want: prefixes("10.0.0.0/8")},
		{in: "10.1.2.3/8", want: prefixes("10.0.0.0/8")},          // host bits cleared
		{in: "::ffff:10.0.0.0/104", want: prefixes("10.0.0.0/8")}, // mapped means IPv4
		{in: "::ffff:10.1.2.3", want: prefixes("10.1.2.3/32")},    // mapped bare address
		{in: "127.0.0.0/8, localhost", wantErr: `entry "localhost": not a valid IP address`},
		{in: "10.0.0.0/33", wantErr: `entry "10.0.0.0/33": not a valid prefix`},
		{in: "10.0.0/8", wantErr: `entry "10.0.0/8"`},
		{in: "fe80::1%eth0", wantErr: "zones are not supported"},
		{in: "::ffff:0:0/80", wantErr: "must be /96 or longer"},
		{in: "300.1.1.1", wantErr: `entry "300.1.1.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := egress.ParseAllow(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAllow(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "HOOKSHIFT_EGRESS_ALLOW") {
					t.Errorf("error %q does not name the setting", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAllow(%q): %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseAllow(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	resolver := fakeDNS(t, map[string][]string{
		"public.hookshift.test":   {"93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
		"private.hookshift.test":  {"10.0.0.7"},
		"mixed.hookshift.test":    {"93.184.215.14", "127.0.0.1"},
		"metadata.hookshift.test": {"169.254.169.254"},
		"ula.hookshift.test":      {"fd00:ec2::254"},
		"empty.hookshift.test":    {},
	})
	loopback := prefixes("127.0.0.0/8")

	tests := []struct {
		name    string
		allow   []netip.Prefix
		url     string
		wantErr string // substring; "" means accepted
	}{
		// Refused addresses, literal.
		{name: "loopback", url: "http://127.0.0.1", wantErr: "url host 127.0.0.1 is a loopback address; destinations must be public (an operator can allow it with HOOKSHIFT_EGRESS_ALLOW)"},
		{name: "metadata", url: "http://169.254.169.254/latest/meta-data", wantErr: "a cloud metadata address"},
		{name: "private", url: "http://10.0.0.1", wantErr: "10.0.0.1 is a private address"},
		{name: "ipv6 loopback", url: "http://[::1]/", wantErr: "::1 is a loopback address"},
		{name: "cgnat", url: "http://100.64.1.1", wantErr: "carrier-grade NAT"},
		{name: "private 192.168", url: "http://192.168.1.1", wantErr: "private address"},
		{name: "link-local", url: "http://169.254.1.1", wantErr: "link-local address"},
		{name: "unspecified", url: "http://0.0.0.0:8080", wantErr: "unspecified address"},
		{name: "multicast", url: "http://224.0.0.1", wantErr: "multicast address"},
		{name: "unique-local", url: "http://[fd12::1]/", wantErr: "unique-local address"},
		{name: "aws metadata v6", url: "http://[fd00:ec2::254]/", wantErr: "cloud metadata address"},
		{name: "ipv4-mapped loopback", url: "http://[::ffff:127.0.0.1]/", wantErr: "loopback address"},
		{name: "zone", url: "http://[fe80::1%25eth0]/", wantErr: "IPv6 zone"},
		{name: "decimal ipv4", url: "http://2130706433/", wantErr: "not a valid IP address or host name"},
		{name: "hex ipv4", url: "http://0x7f.1/", wantErr: "not a valid IP address or host name"},

		// Refused shapes.
		{name: "ftp", url: "ftp://example.com", wantErr: `url scheme "ftp" is not supported; expected http or https`},
		{name: "not a url", url: "not a url", wantErr: "is not absolute"},
		{name: "relative", url: "/webhooks", wantErr: "is not absolute"},
		{name: "opaque", url: "http:example.com", wantErr: "has no host"},
		{name: "no host", url: "http:///path", wantErr: "is not absolute"},
		{name: "userinfo", url: "https://user:pass@93.184.215.14/", wantErr: "must not contain a user name or password"},
		{name: "user only", url: "https://user@93.184.215.14/", wantErr: "must not contain a user name or password"},
		{name: "port zero", url: "https://93.184.215.14:0/", wantErr: `port "0" is out of range`},
		{name: "port too big", url: "https://93.184.215.14:65536/", wantErr: `port "65536" is out of range`},
		{name: "control char", url: "https://example.com/\x7f\n", wantErr: "is not valid"},

		// Refused after DNS.
		{name: "localhost", url: "http://localhost:8080/hook", wantErr: `url host "localhost" resolves to 127.0.0.1, a loopback address; destinations must be public (an operator can allow it with HOOKSHIFT_EGRESS_ALLOW)`},
		{name: "name to private", url: "https://private.hookshift.test/", wantErr: `resolves to 10.0.0.7, a private address`},
		{name: "one bad answer is enough", url: "https://mixed.hookshift.test/", wantErr: `resolves to 127.0.0.1, a loopback address`},
		{name: "name to metadata", url: "http://metadata.hookshift.test/", wantErr: "resolves to 169.254.169.254, a cloud metadata address"},
		{name: "name to ula", url: "http://ula.hookshift.test/", wantErr: "resolves to fd00:ec2::254, a cloud metadata address"},
		{name: "unknown name", url: "https://nowhere.hookshift.test/", wantErr: "could not be resolved"},
		{name: "no addresses", url: "https://empty.hookshift.test/", wantErr: "could not be resolved"},

		// Accepted.
		{name: "public literal", url: "https://93.184.215.14/x"},
		{name: "public v6 literal", url: "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/x"},
		{name: "public name", url: "https://public.hookshift.test/webhooks?x=1"},
		{name: "uppercase scheme", url: "HTTPS://93.184.215.14/x"},
		{name: "allowed loopback", allow: loopback, url: "http://127.0.0.1:18080/hook"},
		{name: "allowed localhost", allow: loopback, url: "http://localhost:18080/hook"},
		{name: "allowed name", allow: loopback, url: "https://mixed.hookshift.test/"},

		// The allow-list widens only what it names, and never the metadata service.
		{name: "allow-list is not a wildcard", allow: loopback, url: "http://10.0.0.1", wantErr: "private address"},
		{name: "metadata despite allow-list", allow: prefixes("169.254.0.0/16", "0.0.0.0/0"), url: "http://169.254.169.254/", wantErr: "cloud metadata address"},
		{name: "allowed link-local", allow: prefixes("169.254.0.0/16"), url: "http://169.254.1.1/"},

		// An IPv6-only network reaches IPv4 through NAT64 (the operator allows
		// 64:ff9b::/96) or 6to4: the IPv4 address inside is what is reached,
		// and the IPv4 rules and the metadata refusal still hold for it.
		{name: "nat64 public", allow: prefixes("64:ff9b::/96"), url: "http://[64:ff9b::5db8:d70e]/"},
		{name: "nat64 metadata", allow: prefixes("64:ff9b::/96"), url: "http://[64:ff9b::a9fe:a9fe]/", wantErr: "cloud metadata address"},
		{name: "nat64 private", allow: prefixes("64:ff9b::/96"), url: "http://[64:ff9b::a00:1]/", wantErr: "private address"},
		{name: "nat64 loopback", allow: prefixes("64:ff9b::/96"), url: "http://[64:ff9b::7f00:1]/", wantErr: "loopback address"},
		{name: "nat64 allowed private", allow: prefixes("64:ff9b::/96", "10.0.0.0/8"), url: "http://[64:ff9b::a00:1]/"},
		{name: "6to4 metadata", allow: prefixes("2002::/16"), url: "http://[2002:a9fe:a9fe::1]/", wantErr: "cloud metadata address"},
		{name: "6to4 private", allow: prefixes("2002::/16"), url: "http://[2002:c0a8:101::1]/", wantErr: "private address"},
		{name: "metadata despite allow-all", allow: prefixes("::/0", "0.0.0.0/0"), url: "http://[64:ff9b::a9fe:a9fe]/", wantErr: "cloud metadata address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p := egress.Policy{Allow: tt.allow, Resolver: resolver}
			err := p.CheckURL(ctx, tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q): %v", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckURL(%q) error = %v, want containing %q", tt.url, err, tt.wantErr)
			}
			if strings.Contains(tt.wantErr, " is a ") || strings.Contains(tt.wantErr, "resolves to ") {
				if !errors.Is(err, egress.ErrForbidden) {
					t.Errorf("CheckURL(%q) error %v does not wrap ErrForbidden", tt.url, err)
				}
			}
		})
	}
}

func TestClientDialCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "reached")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	resolver := fakeDNS(t, map[string][]string{"loop.hookshift.test": {"127.0.0.1"}})

	tests := []struct {
		name      string
		allow     []netip.Prefix
		url       string
		forbidden bool
	}{
		{name: "literal refused", url: srv.URL, forbidden: true},
		{name: "name refused after DNS", url: fmt.Sprintf("http://loop.hookshift.test:%d/", port), forbidden: true},
		{name: "literal allowed", allow: prefixes("127.0.0.0/8"), url: srv.URL},
		{name: "name allowed", allow: prefixes("127.0.0.1/32"), url: fmt.Sprintf("http://loop.hookshift.test:%d/", port)},
		{name: "other prefix allowed", allow: prefixes("10.0.0.0/8"), url: srv.URL, forbidden: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := egress.Policy{Allow: tt.allow, Resolver: resolver}.Client(5 * time.Second)
			resp, err := c.Get(tt.url)
			if tt.forbidden {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET %s succeeded, want refused at dial", tt.url)
				}
				if !errors.Is(err, egress.ErrForbidden) {
					t.Fatalf("GET %s error = %v, want ErrForbidden", tt.url, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", tt.url, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var (
		mu   sync.Mutex
		hits []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/hook" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		fmt.Fprint(w, "followed")
	}))
	defer srv.Close()

	c := egress.Policy{Allow: prefixes("127.0.0.0/8")}.Client(5 * time.Second)
	resp, err := c.Post(srv.URL+"/hook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want 302 returned as is", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/elsewhere" {
		t.Errorf("Location = %q, want /elsewhere", loc)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(hits, []string{"/hook"}) {
		t.Errorf("server saw %v, want only /hook", hits)
	}
}

func TestClientIgnoresProxyEnvironment(t *testing.T) {
	// A proxy would make the connection on our behalf, past the dial check.
	var proxied atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Store(true)
		fmt.Fprint(w, "via proxy")
	}))
	defer proxy.Close()
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)

	// The proxy itself is allowed, so only Proxy == nil keeps the request off it.
	c := egress.Policy{Allow: prefixes("127.0.0.0/8")}.Client(5 * time.Second)
	_, err := c.Get("http://10.0.0.1/") // not loopback: ProxyFromEnvironment exempts loopback
	if !errors.Is(err, egress.ErrForbidden) {
		t.Errorf("GET error = %v, want ErrForbidden from the direct dial", err)
	}
	if proxied.Load() {
		t.Error("request went through HTTP_PROXY")
	}
	tr := c.Transport.(*http.Transport)
	if tr.Proxy != nil {
		t.Error("transport has a Proxy func")
	}
}

func TestClientTimeouts(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)

	c := egress.Policy{Allow: prefixes("127.0.0.0/8")}.Client(200 * time.Millisecond)
	start := time.Now()
	_, err := c.Get(srv.URL)
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatalf("GET error = %v, want a timeout", err)
	}
	if errors.Is(err, egress.ErrForbidden) {
		t.Errorf("a timeout must not read as forbidden: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timed out after %v, want about 200ms", d)
	}
	if got := (egress.Policy{}).Client(0).Timeout; got != egress.DefaultTimeout {
		t.Errorf("Client(0).Timeout = %v, want DefaultTimeout", got)
	}
}
