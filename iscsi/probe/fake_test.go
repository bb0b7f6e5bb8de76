package probe_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"lunbench/collect/preflight"
	"lunbench/iscsi"
	"lunbench/iscsi/probe"
)

// promiscuous is a broken target on loopback that tgtd will not imitate:
// it accepts any CHAP response (and no CHAP at all), and lists in
// discovery a second portal that accepts TCP and never answers.
type promiscuous struct {
	ln, silent net.Listener
	// discoveryCHAP refuses discovery sessions without CHAP (0x0201).
	discoveryCHAP bool
}

func newPromiscuous(t *testing.T) *promiscuous { return newFakeTarget(t, false) }

func newFakeTarget(t *testing.T, discoveryCHAP bool) *promiscuous {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &promiscuous{ln: ln, silent: silent, discoveryCHAP: discoveryCHAP}
	go accept(silent, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, c)
	})
	go accept(ln, p.serve)
	t.Cleanup(func() { ln.Close(); silent.Close() })
	return p
}

func accept(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); serve(c) }()
	}
}

func send(c net.Conn, req *iscsi.PDU, op, flags byte, ks iscsi.Keys) {
	p := &iscsi.PDU{Data: ks.Encode()}
	p.BHS[0], p.BHS[1] = op, flags
	copy(p.BHS[16:20], req.BHS[16:20])
	binary.BigEndian.PutUint32(p.BHS[28:], 1)
	binary.BigEndian.PutUint32(p.BHS[32:], 64)
	if op == iscsi.OpSCSIResponse {
		p.BHS[3] = 0x02 // CHECK CONDITION, no sense: the probe must cope
	}
	b, _ := p.Marshal(iscsi.Digests{})
	c.Write(b)
}

func (p *promiscuous) serve(c net.Conn) {
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		req, err := iscsi.ReadPDU(c, iscsi.Digests{}, 1<<20)
		if err != nil {
			return
		}
		ks, _ := iscsi.ParseKeys(req.Data)
		switch req.Opcode() {
		case iscsi.OpLoginReq:
			st, _ := ks.Get("SessionType")
			if m, _ := ks.Get("AuthMethod"); p.discoveryCHAP && st == "Discovery" && m == "None" {
				refuse := &iscsi.PDU{}
				refuse.BHS[0] = iscsi.OpLoginResp
				copy(refuse.BHS[16:20], req.BHS[16:20])
				refuse.BHS[36], refuse.BHS[37] = 2, 1
				b, _ := refuse.Marshal(iscsi.Digests{})
				c.Write(b)
				return
			}
			var out iscsi.Keys
			if m, ok := ks.Get("AuthMethod"); ok {
				out = append(out, iscsi.KV{Key: "AuthMethod", Value: m})
			}
			if _, ok := ks.Get("CHAP_A"); ok {
				out = iscsi.Keys{{Key: "CHAP_A", Value: "5"}, {Key: "CHAP_I", Value: "7"}, {Key: "CHAP_C", Value: "0x00112233445566778899aabbccddeeff"}}
			}
			// Echo the stages and transit bit: any answer is accepted.
			send(c, req, iscsi.OpLoginResp, req.BHS[1]&0x8f, out)
		case iscsi.OpTextReq:
			send(c, req, iscsi.OpTextResp, 0x80, iscsi.Keys{
				{Key: "TargetName", Value: "iqn.2026-11.test:lbprb.promiscuous"},
				{Key: "TargetAddress", Value: p.ln.Addr().String() + ",1"},
				{Key: "TargetAddress", Value: p.silent.Addr().String() + ",1"},
			})
		case iscsi.OpSCSICommand:
			send(c, req, iscsi.OpSCSIResponse, 0x80, nil)
		case iscsi.OpNOPOut:
			send(c, req, iscsi.OpNOPIn, 0x80, nil)
		case iscsi.OpLogoutReq:
			send(c, req, iscsi.OpLogoutResp, 0x80, nil)
			return
		}
	}
}

// A target that accepts a wrong secret, and a portal that discovery lists
// but that never answers, are both errors.
func TestProbePromiscuousTarget(t *testing.T) {
	f := newPromiscuous(t)
	cfg := probe.Config{
		Portals: []string{f.ln.Addr().String()},
		CHAP:    &iscsi.CHAP{User: "u", Secret: "lbprb-secret-00"},
		Pings:   3, Timeout: 300 * time.Millisecond,
	}
	r, err := probe.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	r.WriteText(&b, false)
	t.Log(b.String())
	found := map[string]string{}
	for _, f := range r.Findings {
		if f.Severity == preflight.Error {
			found[f.Check] = f.Where
		}
	}
	for _, c := range []string{"probe.no-chap", "probe.wrong-secret"} {
		if _, ok := found[c]; !ok {
			t.Errorf("no %s error in %v", c, found)
		}
	}
	if w := found["probe.portal"]; !strings.HasPrefix(w, f.silent.Addr().String()) {
		t.Errorf("probe.portal at %q, expected the silent portal %s", w, f.silent.Addr())
	}
	if !strings.Contains(b.String(), "no answer: "+f.silent.Addr().String()+": timed out after 300ms") {
		t.Error("the login at the silent portal is not shown as a timeout")
	}
	if strings.Contains(b.String(), "lbprb-secret-00") {
		t.Error("the output shows the secret")
	}
}

// Discovery that demands CHAP is followed with the credentials, and is not
// warned about.
func TestProbeDiscoveryCHAP(t *testing.T) {
	f := newFakeTarget(t, true)
	cfg := probe.Config{
		Portals: []string{f.ln.Addr().String()},
		CHAP:    &iscsi.CHAP{User: "u", Secret: "lbprb-secret-00"},
		Pings:   1, Timeout: 300 * time.Millisecond,
	}
	r, err := probe.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Discovery[0]; !d.NeedsAuth || d.Error != "" || len(d.Targets) != 1 {
		t.Errorf("discovery %+v: expected CHAP needed and one target", d)
	}
	for _, f := range r.Findings {
		if f.Check == "probe.discovery-auth" {
			t.Errorf("warned about open discovery: %+v", f)
		}
	}
}
