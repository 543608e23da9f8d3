package egress_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// fakeDNS starts a UDP DNS server on 127.0.0.1 answering A and AAAA queries
// from zone, and returns a resolver that asks only it. Unknown names get
// NXDOMAIN. It exists so tests can make a name resolve to any address without
// internet DNS or /etc/hosts.
func fakeDNS(t *testing.T, zone map[string][]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { pc.Close() })

	records := map[string][]netip.Addr{}
	for name, addrs := range zone {
		for _, a := range addrs {
			records[strings.ToLower(strings.TrimSuffix(name, "."))] = append(records[strings.ToLower(strings.TrimSuffix(name, "."))], netip.MustParseAddr(a))
		}
	}

	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := answer(buf[:n], records); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()

	addr := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

// answer builds the reply to one query, or nil if the query is malformed.
func answer(q []byte, records map[string][]netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	// Question: labels, then qtype and qclass.
	i := 12
	var labels []string
	for {
		if i >= len(q) {
			return nil
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l&0xC0 != 0 || i+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i:i+l]))
		i += l
	}
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	question := q[12 : i+4]
	name := strings.ToLower(strings.Join(labels, "."))

	addrs, known := records[name]
	var rrs []netip.Addr
	for _, a := range addrs {
		if (qtype == 1 && a.Is4()) || (qtype == 28 && a.Is6()) {
			rrs = append(rrs, a)
		}
	}

	resp := make([]byte, 12, 512)
	copy(resp, q[:2])       // id
	flags := uint16(0x8180) // response, recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(resp[2:], flags)
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], uint16(len(rrs)))
	resp = append(resp, question...)
	for _, a := range rrs {
		raw := a.AsSlice()
		resp = append(resp, 0xC0, 12) // pointer to the question name
		resp = binary.BigEndian.AppendUint16(resp, qtype)
		resp = binary.BigEndian.AppendUint16(resp, 1) // IN
		resp = binary.BigEndian.AppendUint32(resp, 60)
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(raw)))
		resp = append(resp, raw...)
	}
	return resp
}
