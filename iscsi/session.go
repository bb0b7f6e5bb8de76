package iscsi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Options configure a session. The zero value is not usable: InitiatorName
// is required, and Timeout defaults to 5 s.
type Options struct {
	// InitiatorName is the IQN the initiator logs in as.
	InitiatorName string
	// TargetName is the target to log in to; empty makes a discovery session.
	TargetName string
	// CHAP, when not nil, makes the login offer AuthMethod=CHAP and nothing
	// else, so that a target cannot fall back to no authentication.
	CHAP *CHAP
	// HeaderDigest and DataDigest offer CRC32C first (and None as fallback).
	HeaderDigest, DataDigest bool
	// Timeout bounds every network wait: the TCP connect and each PDU read
	// and write.
	Timeout time.Duration
	// MaxRedirects bounds how many login redirects are followed (default 4).
	MaxRedirects int
	// Dialer connects to a portal; nil uses net.Dialer.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock for round-trip times; nil uses time.Now.
	Now func() time.Time
}

// ourMaxRecv is the MaxRecvDataSegmentLength we declare.
const ourMaxRecv = 262144

// Session is one logged-in iSCSI session over one TCP connection. It is
// not safe for concurrent use: one command is outstanding at a time.
type Session struct {
	opts   Options
	conn   net.Conn
	portal string

	// Redirects lists the portals the login was redirected to, in order.
	Redirects []string
	// Params holds what the target answered in the login, for display.
	Params Keys
	// TPGT is the target portal group tag the target announced.
	TPGT string
	// Async lists the async messages received so far.
	Async []AsyncEvent

	dig       Digests
	peerMax   int
	tsih      uint16
	isid      [6]byte
	itt       uint32
	cmdSN     uint32
	expStatSN uint32
	maxCmdSN  uint32
}

// Portal returns the address the session is connected to, after redirects.
func (s *Session) Portal() string { return s.portal }

// Digests returns the digests negotiated for the full feature phase.
func (s *Session) Digests() Digests { return s.dig }

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dialer == nil {
		d := &net.Dialer{}
		o.Dialer = d.DialContext
	}
}

// Login connects to portal (host:port; port 3260 when missing) and logs in.
// A redirect (status class 1) is followed to the TargetAddress it names.
func Login(ctx context.Context, portal string, opts Options) (*Session, error) {
	opts.defaults()
	if opts.InitiatorName == "" {
		return nil, errors.New("login: no initiator name")
	}
	addr := withPort(portal)
	var redirects []string
	for {
		s, err := loginOnce(ctx, addr, opts)
		var rd *redirect
		if !errors.As(err, &rd) {
			if s != nil {
				s.Redirects = redirects
			}
			return s, err
		}
		if len(redirects) >= opts.MaxRedirects {
			return nil, fmt.Errorf("login to %s: more than %d redirects (last to %s)", portal, opts.MaxRedirects, rd.to)
		}
		redirects = append(redirects, rd.to)
		addr = rd.to
	}
}

// withPort adds the iSCSI port 3260 to an address without one.
func withPort(p string) string {
	if _, _, err := net.SplitHostPort(p); err == nil {
		return p
	}
	return net.JoinHostPort(trimBrackets(p), "3260")
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

func loginOnce(ctx context.Context, addr string, opts Options) (*Session, error) {
	dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	c, err := opts.Dialer(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	s := &Session{opts: opts, conn: c, portal: addr, peerMax: 8192, cmdSN: 1}
	if _, err := rand.Read(s.isid[1:4]); err != nil {
		c.Close()
		return nil, err
	}
	s.isid[0] = 0x80 // type 10b: random qualifier (RFC 7143 section 10.12.5)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := s.login(); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// Close drops the connection without a logout.
func (s *Session) Close() error { return s.conn.Close() }

// send writes one PDU within the timeout.
func (s *Session) send(p *PDU, what string) error {
	b, err := p.Marshal(s.dig)
	if err != nil {
		return err
	}
	s.conn.SetWriteDeadline(s.opts.Now().Add(s.opts.Timeout))
	if _, err := s.conn.Write(b); err != nil {
		return s.netErr(err, "sending "+what)
	}
	return nil
}

func (s *Session) netErr(err error, what string) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &TimeoutError{Portal: s.portal, What: what, After: s.opts.Timeout}
	}
	return fmt.Errorf("%s: %s: %w", s.portal, what, err)
}

// recv reads the next PDU meant for the caller. It answers the target's
// own NOP-In pings, records Async messages and turns a Reject into an
// error, so no caller can hang on a PDU that will never come.
func (s *Session) recv(what string) (*PDU, error) {
	for {
		s.conn.SetReadDeadline(s.opts.Now().Add(s.opts.Timeout))
		p, err := ReadPDU(s.conn, s.dig, ourMaxRecv)
		if err != nil {
			return nil, s.netErr(err, "waiting for "+what)
		}
		s.window(p)
		switch p.Opcode() {
		case OpNOPIn:
			if p.ITT() == noTag {
				if p.TTT() != noTag {
					if err := s.pingReply(p); err != nil {
						return nil, err
					}
				}
				continue
			}
		case OpAsync:
			ev := parseAsync(p)
			s.Async = append(s.Async, ev)
			if ev.Fatal() {
				return nil, &AsyncError{Event: ev}
			}
			continue
		case OpReject:
			e := &RejectError{Reason: p.BHS[2]}
			if len(p.Data) >= 1 {
				e.Opcode = p.Data[0] & 0x3f
			}
			return nil, e
		}
		return p, nil
	}
}

// window follows StatSN and the command window from a target PDU.
func (s *Session) window(p *PDU) {
	switch p.Opcode() {
	case OpDataIn:
		if p.BHS[1]&0x01 == 0 {
			return
		}
	case OpR2T:
		return
	}
	if p.Opcode() != OpNOPIn || p.ITT() != noTag {
		s.expStatSN = p.StatSN() + 1
	}
	if p.Opcode() != OpLoginResp {
		if m := p.MaxCmdSN(); int32(m-p.ExpCmdSN()) >= -1 {
			s.maxCmdSN = m
			if int32(p.ExpCmdSN()-s.cmdSN) > 0 {
				s.cmdSN = p.ExpCmdSN()
			}
		}
	}
}

// pingReply answers a target's NOP-In that asks for one (TTT set).
func (s *Session) pingReply(in *PDU) error {
	p := &PDU{}
	p.BHS[0] = OpNOPOut | 0x40
	p.BHS[1] = 0x80
	copy(p.BHS[8:16], in.BHS[8:16])
	p.put32(16, noTag)
	p.put32(20, in.TTT())
	p.put32(24, s.cmdSN)
	p.put32(28, s.expStatSN)
	return s.send(p, "NOP-Out reply")
}

// nextITT returns a fresh initiator task tag (never the reserved one).
func (s *Session) nextITT() uint32 {
	s.itt++
	if s.itt == noTag {
		s.itt = 1
	}
	return s.itt
}

// windowOpen reports whether a non-immediate command may be sent now.
func (s *Session) windowOpen() bool { return int32(s.maxCmdSN-s.cmdSN) >= 0 }
