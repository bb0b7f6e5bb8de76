package iscsi

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeTarget is a scripted iSCSI target on loopback for the corner cases
// tgtd will not produce on demand: rejects, redirects, digest errors,
// short reads, async messages, odd CHAP challenges.
type fakeTarget struct {
	t  *testing.T
	ln net.Listener
}

// fakeConn is one accepted connection; dig is what the script has
// switched on after login.
type fakeConn struct {
	t   *testing.T
	c   net.Conn
	dig Digests
}

// newFake serves every connection with script until the test ends.
func newFake(t *testing.T, script func(*fakeConn)) *fakeTarget {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeTarget{t: t, ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				script(&fakeConn{t: t, c: c})
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return f
}

func (f *fakeTarget) addr() string { return f.ln.Addr().String() }

func (c *fakeConn) read() *PDU {
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := ReadPDU(c.c, c.dig, 1<<20)
	if err != nil {
		return nil
	}
	return p
}

// reply answers req with a PDU of opcode op, the same ITT, and keys.
func (c *fakeConn) reply(req *PDU, op byte, mod func(*PDU), ks Keys) {
	p := &PDU{Data: ks.Encode()}
	p.BHS[0] = op
	p.BHS[1] = 0x80
	p.put32(16, req.ITT())
	p.put32(28, 1)
	p.put32(32, 16)
	if mod != nil {
		mod(p)
	}
	b, _ := p.Marshal(c.dig)
	c.c.Write(b)
}

// login answers login requests until the initiator transits to full
// feature phase, accepting whatever it offers (digests included).
func (c *fakeConn) login() bool {
	var hd, dd string
	for {
		req := c.read()
		if req == nil || req.Opcode() != OpLoginReq {
			return false
		}
		ks, _ := ParseKeys(req.Data)
		var out Keys
		for _, kv := range ks {
			switch kv.Key {
			case "AuthMethod":
				out = append(out, KV{"AuthMethod", "None"})
			case "HeaderDigest", "DataDigest":
				v, _, _ := strings.Cut(kv.Value, ",")
				out = append(out, KV{kv.Key, v})
				if kv.Key == "HeaderDigest" {
					hd = v
				} else {
					dd = v
				}
			}
		}
		nsg := req.BHS[1] & 3
		c.reply(req, OpLoginResp, func(p *PDU) { p.BHS[1] = req.BHS[1] & 0x8f }, out)
		if nsg == stageFullFeature && req.BHS[1]&0x80 != 0 {
			c.dig = Digests{Header: hd == "CRC32C", Data: dd == "CRC32C"}
			return true
		}
	}
}

func fakeOpts() Options {
	return Options{InitiatorName: "iqn.2026-11.test:lbprb.fake", TargetName: "iqn.2026-11.test:lbprb.t", Timeout: time.Second}
}

func TestFakeTarget(t *testing.T) {
	tests := []struct {
		name   string
		script func(*fakeConn)
		check  func(error) bool
	}{
		// A Reject of the NOP-Out ends Ping with a RejectError.
		{"reject", func(c *fakeConn) {
			if !c.login() {
				return
			}
			req := c.read()
			c.reply(req, OpReject, func(p *PDU) { p.BHS[2] = 0x04; p.put32(16, noTag); p.Data = req.BHS[:] }, nil)
			c.read()
		}, func(err error) bool {
			var re *RejectError
			return errors.As(err, &re) && re.Reason == 4 && re.Opcode == OpNOPOut
		}},
		// A NOP-In with a broken header digest is a digest error.
		{"digest error", func(c *fakeConn) {
			if !c.login() {
				return
			}
			req := c.read()
			p := &PDU{Data: req.Data}
			p.BHS[0], p.BHS[1] = OpNOPIn, 0x80
			p.put32(16, req.ITT())
			b, _ := p.Marshal(c.dig)
			b[BHSLen] ^= 0xff
			c.c.Write(b)
			c.read()
		}, func(err error) bool { return errors.Is(err, ErrDigest) }},
		// Half a BHS, then the connection closes.
		{"short read", func(c *fakeConn) {
			if !c.login() {
				return
			}
			c.read()
			c.c.Write(make([]byte, 20))
		}, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		// The target announces it drops the connection (async event 2).
		{"async drop", func(c *fakeConn) {
			if !c.login() {
				return
			}
			req := c.read()
			c.reply(req, OpAsync, func(p *PDU) { p.put32(16, noTag); p.BHS[36] = 2; p.BHS[41] = 2 }, nil)
			c.read()
		}, func(err error) bool { var ae *AsyncError; return errors.As(err, &ae) && ae.Event.Code == 2 }},
		// The target pings first (NOP-In with a TTT): the client answers,
		// then gets its own echo.
		{"target ping", func(c *fakeConn) {
			if !c.login() {
				return
			}
			req := c.read()
			c.reply(req, OpNOPIn, func(p *PDU) { p.put32(16, noTag); p.put32(20, 77) }, nil)
			if r := c.read(); r == nil || r.TTT() != 77 || r.ITT() != noTag {
				return
			}
			c.reply(req, OpNOPIn, func(p *PDU) { p.put32(20, noTag); p.Data = req.Data }, nil)
			c.read()
		}, func(err error) bool { return err == nil }},
		// Accepts and says nothing: a timeout.
		{"silent", func(c *fakeConn) { c.read(); c.read() }, func(err error) bool { var te *TimeoutError; return errors.As(err, &te) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.script)
			o := fakeOpts()
			o.HeaderDigest, o.DataDigest = true, true
			done := make(chan error, 1)
			go func() {
				s, err := Login(context.Background(), f.addr(), o)
				if err == nil {
					_, err = s.Ping()
					s.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !tc.check(err) {
					t.Errorf("got %v", err)
				}
				t.Log(err)
			case <-time.After(10 * o.Timeout):
				t.Fatal("hung")
			}
		})
	}
}

// A login redirect (status 0x0101) is followed to the TargetAddress.
func TestFakeRedirect(t *testing.T) {
	moved := newFake(t, func(c *fakeConn) {
		if c.login() {
			c.read()
		}
	})
	first := newFake(t, func(c *fakeConn) {
		req := c.read()
		c.reply(req, OpLoginResp, func(p *PDU) { p.BHS[36], p.BHS[37] = 1, 1 }, Keys{{"TargetAddress", moved.addr() + ",2"}})
	})
	s, err := Login(context.Background(), first.addr(), fakeOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Portal() != moved.addr() || len(s.Redirects) != 1 {
		t.Errorf("portal %s, redirects %v; expected %s", s.Portal(), s.Redirects, moved.addr())
	}
	// A redirect loop stops after MaxRedirects.
	var loop *fakeTarget
	loop = newFake(t, func(c *fakeConn) {
		req := c.read()
		c.reply(req, OpLoginResp, func(p *PDU) { p.BHS[36], p.BHS[37] = 1, 2 }, Keys{{"TargetAddress", loop.addr()}})
	})
	if _, err := Login(context.Background(), loop.addr(), fakeOpts()); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop: %v", err)
	}
}

// CHAP challenges RFC 7143 forbids answering are refused.
func TestFakeCHAPRefusals(t *testing.T) {
	tests := []struct {
		name string
		ks   Keys
		want string
	}{
		// SHA1 (CHAP_A=6) was not offered.
		{"algorithm", Keys{{"CHAP_A", "6"}, {"CHAP_I", "1"}, {"CHAP_C", "0x0102"}}, "CHAP_A"},
		// Identifiers are one byte.
		{"identifier", Keys{{"CHAP_A", "5"}, {"CHAP_I", "300"}, {"CHAP_C", "0x0102"}}, "CHAP_I"},
		// A challenge over 1024 bytes.
		{"long challenge", Keys{{"CHAP_A", "5"}, {"CHAP_I", "1"}, {"CHAP_C", "0x" + strings.Repeat("ab", 1025)}}, "1025 bytes"},
		// Not a binary value.
		{"bad encoding", Keys{{"CHAP_A", "5"}, {"CHAP_I", "1"}, {"CHAP_C", "zz"}}, "CHAP_C"},
	}
	for _, tc := range tests {
		f := newFake(t, func(c *fakeConn) {
			req := c.read()
			c.reply(req, OpLoginResp, func(p *PDU) { p.BHS[1] = 0x01 }, Keys{{"AuthMethod", "CHAP"}})
			req = c.read()
			c.reply(req, OpLoginResp, func(p *PDU) { p.BHS[1] = 0x01 }, tc.ks)
			c.read()
		})
		o := fakeOpts()
		o.CHAP = &CHAP{User: "u", Secret: "lbprb-secret-x"}
		_, err := Login(context.Background(), f.addr(), o)
		var ae *AuthError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "lbprb-secret-x") {
			t.Errorf("%s: the error shows the secret", tc.name)
		}
	}
	o := fakeOpts()
	o.CHAP = &CHAP{User: "u", Secret: "same-secret-12", TargetSecret: "same-secret-12"}
	f := newFake(t, func(c *fakeConn) {
		req := c.read()
		c.reply(req, OpLoginResp, func(p *PDU) { p.BHS[1] = 0x01 }, Keys{{"AuthMethod", "CHAP"}})
		req = c.read()
		c.reply(req, OpLoginResp, func(p *PDU) { p.BHS[1] = 0x01 }, Keys{{"CHAP_A", "5"}, {"CHAP_I", "1"}, {"CHAP_C", "0x0102"}})
		c.read()
	})
	if _, err := Login(context.Background(), f.addr(), o); err == nil || !strings.Contains(err.Error(), "both directions") {
		t.Errorf("one secret both ways: %v", err)
	}
}

// A SendTargets answer continued over two PDUs (C bit, then the target
// transfer tag echoed) is gathered whole.
func TestFakeTextContinuation(t *testing.T) {
	f := newFake(t, func(c *fakeConn) {
		if !c.login() {
			return
		}
		req := c.read()
		whole := Keys{{"TargetName", "iqn.2026-11.test:lbprb.a"}, {"TargetAddress", "198.18.0.1:3260,1"},
			{"TargetName", "iqn.2026-11.test:lbprb.b"}, {"TargetAddress", "198.18.0.2,2"}}.Encode()
		c.reply(req, OpTextResp, func(p *PDU) { p.BHS[1] = 0x40; p.put32(20, 9); p.Data = whole[:20] }, nil)
		next := c.read()
		if next == nil || next.TTT() != 9 || len(next.Data) != 0 {
			return
		}
		c.reply(next, OpTextResp, func(p *PDU) { p.put32(20, noTag); p.Data = whole[20:] }, nil)
		c.read()
	})
	o := fakeOpts()
	o.TargetName = ""
	s, err := Login(context.Background(), f.addr(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts, err := s.SendTargets()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[1].Name != "iqn.2026-11.test:lbprb.b" || ts[1].Portals[0] != (Portal{Addr: "198.18.0.2:3260", TPGT: "2"}) {
		t.Errorf("targets %+v", ts)
	}
}

// READ CAPACITY(16) answered first with UNIT ATTENTION (fixed-format
// sense, retried), then with its data split over two Data-In PDUs, the
// last carrying the status.
func TestFakeSCSIDataIn(t *testing.T) {
	f := newFake(t, func(c *fakeConn) {
		if !c.login() {
			return
		}
		req := c.read()
		sense := make([]byte, 2+18)
		sense[1] = 18
		sense[2], sense[4], sense[14], sense[15] = 0x70, 0x06, 0x29, 0x00
		c.reply(req, OpSCSIResponse, func(p *PDU) { p.BHS[3] = 0x02; p.Data = sense }, nil)
		req = c.read()
		data := make([]byte, 32)
		binary.BigEndian.PutUint64(data, 2047)
		binary.BigEndian.PutUint32(data[8:], 4096)
		c.reply(req, OpDataIn, func(p *PDU) { p.BHS[1] = 0; p.Data = data[:10] }, nil)
		c.reply(req, OpDataIn, func(p *PDU) { p.BHS[1] = 0x81; p.put32(40, 10); p.Data = data[10:] }, nil)
		c.read()
	})
	s, err := Login(context.Background(), f.addr(), fakeOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.ReadCapacity16(LUNFromNumber(1))
	if err != nil || c.Blocks != 2048 || c.BlockSize != 4096 {
		t.Errorf("capacity %+v, %v; expected 2048 blocks of 4096", c, err)
	}
}

// CHECK CONDITION with descriptor-format sense is decoded.
func TestSenseDecoding(t *testing.T) {
	tests := []struct {
		data           []byte
		key, asc, ascq byte
	}{
		// Fixed format: ILLEGAL REQUEST, INVALID FIELD IN CDB.
		{append([]byte{0, 18, 0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0x00}, make([]byte, 4)...), 5, 0x24, 0},
		// Descriptor format: NOT READY, LOGICAL UNIT NOT READY.
		{[]byte{0, 8, 0x72, 0x02, 0x04, 0x01, 0, 0, 0, 0}, 2, 0x04, 0x01},
		// No sense data at all.
		{nil, 0, 0, 0},
	}
	for i, tc := range tests {
		e := senseError("X", 2, tc.data)
		if e.Key != tc.key || e.ASC != tc.asc || e.ASCQ != tc.ascq {
			t.Errorf("row %d: %+v", i, e)
		}
	}
}
