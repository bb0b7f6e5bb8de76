package iscsi

import (
	"fmt"
	"strings"
	"time"
)

// maxTextPDUs bounds a continued text response.
const maxTextPDUs = 64

// DiscoveredTarget is one TargetName of a SendTargets answer with its
// portals (host:port) and their portal group tags.
type DiscoveredTarget struct {
	Name    string   `json:"name"`
	Portals []Portal `json:"portals"`
}

// Portal is one TargetAddress: address and portal group tag.
type Portal struct {
	Addr string `json:"addr"`
	TPGT string `json:"tpgt,omitempty"`
}

// Text sends a Text Request and gathers the whole response, following
// continuations (C bit) with the target transfer tag.
func (s *Session) Text(ks Keys) (Keys, error) {
	itt := s.nextITT()
	ttt := uint32(noTag)
	data := ks.Encode()
	var all []byte
	for range maxTextPDUs {
		p := &PDU{Data: data}
		p.BHS[0] = OpTextReq
		p.BHS[1] = 0x80
		p.put32(16, itt)
		p.put32(20, ttt)
		p.put32(24, s.cmdSN)
		p.put32(28, s.expStatSN)
		if err := s.send(p, "Text Request"); err != nil {
			return nil, err
		}
		s.cmdSN++
		r, err := s.recvFor(itt, "Text Response")
		if err != nil {
			return nil, err
		}
		if r.Opcode() != OpTextResp {
			return nil, fmt.Errorf("%s: got opcode 0x%02x, expected a Text Response", s.portal, r.Opcode())
		}
		all = append(all, r.Data...)
		if r.Final() {
			return ParseKeys(all)
		}
		data, ttt = nil, r.TTT()
	}
	return nil, fmt.Errorf("%s: text response longer than %d PDUs", s.portal, maxTextPDUs)
}

// recvFor reads until a PDU for itt arrives; a PDU for another task is a
// protocol error with one command outstanding.
func (s *Session) recvFor(itt uint32, what string) (*PDU, error) {
	p, err := s.recv(what)
	if err != nil {
		return nil, err
	}
	if p.ITT() != itt {
		return nil, fmt.Errorf("%s: got opcode 0x%02x for task 0x%08x while waiting for %s of task 0x%08x", s.portal, p.Opcode(), p.ITT(), what, itt)
	}
	return p, nil
}

// SendTargets asks a discovery session for every target it may show.
func (s *Session) SendTargets() ([]DiscoveredTarget, error) {
	ks, err := s.Text(Keys{{"SendTargets", "All"}})
	if err != nil {
		return nil, err
	}
	return parseSendTargets(ks, s.portal), nil
}

// parseSendTargets groups TargetAddress keys under the TargetName before
// them. A target with no TargetAddress is reachable at the portal asked.
func parseSendTargets(ks Keys, portal string) []DiscoveredTarget {
	var out []DiscoveredTarget
	for _, kv := range ks {
		switch kv.Key {
		case "TargetName":
			out = append(out, DiscoveredTarget{Name: kv.Value})
		case "TargetAddress":
			if len(out) == 0 {
				continue
			}
			t := &out[len(out)-1]
			addr, tpgt := kv.Value, ""
			if i := strings.LastIndexByte(addr, ','); i >= 0 {
				addr, tpgt = addr[:i], addr[i+1:]
			}
			t.Portals = append(t.Portals, Portal{Addr: withPort(addr), TPGT: tpgt})
		}
	}
	for i := range out {
		if len(out[i].Portals) == 0 {
			out[i].Portals = []Portal{{Addr: portal}}
		}
	}
	return out
}

// Ping sends one NOP-Out with a ping payload and waits for the NOP-In that
// echoes it, returning the round trip.
func (s *Session) Ping() (time.Duration, error) {
	itt := s.nextITT()
	p := &PDU{Data: []byte("lunbench")}
	p.BHS[0] = OpNOPOut | 0x40
	p.BHS[1] = 0x80
	p.put32(16, itt)
	p.put32(20, noTag)
	p.put32(24, s.cmdSN)
	p.put32(28, s.expStatSN)
	start := s.opts.Now()
	if err := s.send(p, "NOP-Out"); err != nil {
		return 0, err
	}
	r, err := s.recvFor(itt, "NOP-In")
	if err != nil {
		return 0, err
	}
	rtt := s.opts.Now().Sub(start)
	if r.Opcode() != OpNOPIn {
		return 0, fmt.Errorf("%s: got opcode 0x%02x, expected a NOP-In", s.portal, r.Opcode())
	}
	if string(r.Data) != "lunbench" {
		return 0, fmt.Errorf("%s: NOP-In echoed %q, expected the ping data", s.portal, clip(string(r.Data)))
	}
	return rtt, nil
}

// Logout closes the session (reason 0) and the connection.
func (s *Session) Logout() error {
	defer s.conn.Close()
	itt := s.nextITT()
	p := &PDU{}
	p.BHS[0] = OpLogoutReq | 0x40
	p.BHS[1] = 0x80
	p.put32(16, itt)
	p.put32(24, s.cmdSN)
	p.put32(28, s.expStatSN)
	if err := s.send(p, "Logout Request"); err != nil {
		return err
	}
	r, err := s.recvFor(itt, "Logout Response")
	if err != nil {
		return err
	}
	if r.Opcode() != OpLogoutResp {
		return fmt.Errorf("%s: got opcode 0x%02x, expected a Logout Response", s.portal, r.Opcode())
	}
	if r.BHS[2] != 0 {
		return fmt.Errorf("%s: logout refused with response %d", s.portal, r.BHS[2])
	}
	return nil
}
