package iscsi

import (
	"fmt"
	"strconv"
	"strings"
)

// Login stages (CSG/NSG, RFC 7143 section 11.12.3).
const (
	stageSecurity    = 0
	stageOperational = 1
	stageFullFeature = 3
)

// maxLoginRounds bounds the login exchange, so a target that keeps
// answering without ever transiting cannot keep us in the login forever.
const maxLoginRounds = 16

// redirect is a login answered with status class 1.
type redirect struct{ to string }

func (r *redirect) Error() string { return "redirected to " + r.to }

// loginPDU builds a Login Request for the current stage.
func (s *Session) loginPDU(csg, nsg byte, transit bool, ks Keys) *PDU {
	p := &PDU{Data: ks.Encode()}
	p.BHS[0] = OpLoginReq | 0x40
	p.BHS[1] = csg<<2 | nsg
	if transit {
		p.BHS[1] |= 0x80
	}
	copy(p.BHS[8:14], s.isid[:])
	p.BHS[14], p.BHS[15] = byte(s.tsih>>8), byte(s.tsih)
	p.put32(16, s.itt)
	p.put32(24, s.cmdSN)
	p.put32(28, s.expStatSN)
	return p
}

// loginExchange sends one Login Request and returns the response's keys.
func (s *Session) loginExchange(csg, nsg byte, transit bool, ks Keys) (Keys, *PDU, error) {
	if err := s.send(s.loginPDU(csg, nsg, transit, ks), "Login Request"); err != nil {
		return nil, nil, err
	}
	p, err := s.recv("Login Response")
	if err != nil {
		return nil, nil, err
	}
	if p.Opcode() != OpLoginResp {
		return nil, nil, fmt.Errorf("%s: got opcode 0x%02x during login, expected a Login Response", s.portal, p.Opcode())
	}
	if p.ITT() != s.itt {
		return nil, nil, fmt.Errorf("%s: Login Response for task 0x%08x, expected 0x%08x", s.portal, p.ITT(), s.itt)
	}
	s.tsih = uint16(p.BHS[14])<<8 | uint16(p.BHS[15])
	if p.BHS[1]&0x40 != 0 {
		return nil, nil, fmt.Errorf("%s: the target continued a login response over several PDUs, which this client does not support", s.portal)
	}
	class, detail := p.BHS[36], p.BHS[37]
	rks, err := ParseKeys(p.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: login response: %w", s.portal, err)
	}
	switch class {
	case 0:
	case 1:
		to, ok := rks.Get("TargetAddress")
		if !ok || to == "" {
			return nil, nil, fmt.Errorf("%s: login redirect (0x%02x%02x) without a TargetAddress", s.portal, class, detail)
		}
		return nil, nil, &redirect{to: portalAddr(to)}
	default:
		return nil, nil, &LoginError{Portal: s.portal, Class: class, Detail: detail}
	}
	return rks, p, nil
}

// portalAddr turns a TargetAddress value (host[:port][,tpgt]) into host:port.
func portalAddr(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return withPort(v)
}

func (s *Session) sessionKeys() Keys {
	ks := Keys{{"InitiatorName", s.opts.InitiatorName}}
	if s.opts.TargetName == "" {
		ks = append(ks, KV{"SessionType", "Discovery"})
	} else {
		ks = append(ks, KV{"SessionType", "Normal"}, KV{"TargetName", s.opts.TargetName})
	}
	return ks
}

// login runs the security stage, then the operational stage.
func (s *Session) login() error {
	s.itt = 0
	if err := s.security(); err != nil {
		return err
	}
	return s.operational()
}

// security runs the security negotiation stage: AuthMethod=None, or CHAP
// with the target's challenge answered and, for mutual CHAP, the target's
// answer verified before going on.
func (s *Session) security() error {
	ks := s.sessionKeys()
	if s.opts.CHAP == nil {
		ks = append(ks, KV{"AuthMethod", "None"})
		rks, p, err := s.loginExchange(stageSecurity, stageOperational, true, ks)
		if err != nil {
			return err
		}
		s.record(rks)
		if m, _ := rks.Get("AuthMethod"); m != "" && m != "None" {
			return fmt.Errorf("%s: the target chose AuthMethod=%q when only None was offered", s.portal, clip(m))
		}
		return s.untilTransit(p, stageOperational)
	}
	st := &chapState{c: s.opts.CHAP, portal: s.portal}
	rks, _, err := s.loginExchange(stageSecurity, stageOperational, false, append(ks, KV{"AuthMethod", "CHAP"}))
	if err != nil {
		return err
	}
	s.record(rks)
	if m, _ := rks.Get("AuthMethod"); m != "CHAP" {
		return &AuthError{Portal: s.portal, Reason: fmt.Sprintf("the target answered AuthMethod=%q to an offer of CHAP only", clip(m))}
	}
	rks, _, err = s.loginExchange(stageSecurity, stageOperational, false, Keys{{"CHAP_A", "5"}})
	if err != nil {
		return err
	}
	ans, err := st.answer(rks)
	if err != nil {
		return err
	}
	rks, p, err := s.loginExchange(stageSecurity, stageOperational, true, ans)
	if err != nil {
		return err
	}
	if s.opts.CHAP.Mutual() {
		if err := st.verify(rks); err != nil {
			return err
		}
	}
	return s.untilTransit(p, stageOperational)
}

// untilTransit keeps sending empty requests in the current stage until the
// target sets T and moves to nsg.
func (s *Session) untilTransit(p *PDU, nsg byte) error {
	for range maxLoginRounds {
		if p.BHS[1]&0x80 != 0 {
			if got := p.BHS[1] & 0x03; got != nsg {
				return fmt.Errorf("%s: the target moved to login stage %d, expected %d", s.portal, got, nsg)
			}
			return nil
		}
		csg := (p.BHS[1] >> 2) & 0x03
		var err error
		if _, p, err = s.loginExchange(csg, nsg, true, nil); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: the target did not end the login stage in %d rounds", s.portal, maxLoginRounds)
}

func yesNo(b bool) string {
	if b {
		return "CRC32C,None"
	}
	return "None"
}

// operational negotiates the session parameters and enters full feature
// phase.
func (s *Session) operational() error {
	ks := Keys{
		{"HeaderDigest", yesNo(s.opts.HeaderDigest)},
		{"DataDigest", yesNo(s.opts.DataDigest)},
		{"MaxRecvDataSegmentLength", strconv.Itoa(ourMaxRecv)},
		{"DefaultTime2Wait", "0"},
		{"DefaultTime2Retain", "0"},
	}
	if s.opts.TargetName != "" {
		ks = append(ks, Keys{
			{"InitialR2T", "Yes"}, {"ImmediateData", "No"},
			{"MaxBurstLength", "262144"}, {"FirstBurstLength", "65536"},
			{"MaxOutstandingR2T", "1"}, {"MaxConnections", "1"},
			{"DataPDUInOrder", "Yes"}, {"DataSequenceInOrder", "Yes"},
			{"ErrorRecoveryLevel", "0"},
		}...)
	}
	var hd, dd string
	for round := range maxLoginRounds {
		rks, p, err := s.loginExchange(stageOperational, stageFullFeature, true, ks)
		if err != nil {
			return err
		}
		s.record(rks)
		ks = nil
		for _, kv := range rks {
			switch kv.Key {
			case "HeaderDigest":
				hd = kv.Value
			case "DataDigest":
				dd = kv.Value
			case "MaxRecvDataSegmentLength":
				if n, err := strconv.Atoi(kv.Value); err == nil && n >= 512 {
					s.peerMax = n
				}
			}
		}
		if p.BHS[1]&0x80 != 0 && p.BHS[1]&0x03 == stageFullFeature {
			s.dig = Digests{Header: hd == "CRC32C", Data: dd == "CRC32C"}
			s.cmdSN = p.ExpCmdSN()
			s.maxCmdSN = p.MaxCmdSN()
			return nil
		}
		_ = round
	}
	return fmt.Errorf("%s: the target did not enter full feature phase in %d rounds", s.portal, maxLoginRounds)
}

// record keeps the target's answers (TargetPortalGroupTag, TargetAlias...)
// for display. CHAP keys are not kept.
func (s *Session) record(ks Keys) {
	for _, kv := range ks {
		if strings.HasPrefix(kv.Key, "CHAP_") {
			continue
		}
		if kv.Key == "TargetPortalGroupTag" {
			s.TPGT = kv.Value
		}
		s.Params = append(s.Params, kv)
	}
}
