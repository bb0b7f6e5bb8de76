package probe

import (
	"errors"
	"fmt"
	"strings"

	"lunbench/collect/preflight"
	"lunbench/iscsi"
)

// Auth names of the login attempts.
const (
	authNone       = "none"
	authCHAP       = "chap"
	authWrong      = "wrong-secret"
	authMutual     = "mutual-chap"
	authWrongTgt   = "wrong-target-secret"
	expectAccepted = "accepted"
	expectRefused  = "refused"
	expectEither   = "either"
)

// controllerType is the SCSI device type of a RAID controller LUN (tgtd's
// LUN 0), which carries no data and is not counted as a LUN seen.
const controllerType = 0x0c

// wrongSuffix turns the real secret into a wrong one that is just as long.
const wrongSuffix = "-lunbench-wrong"

func (p *prober) chapExpected() bool {
	if p.cfg.ExpectCHAP != nil {
		return *p.cfg.ExpectCHAP
	}
	return p.cfg.CHAP != nil
}

// attempt logs in once and records the outcome; it returns the session
// when the login was accepted.
func (p *prober) attempt(pr *PortalResult, iqn, initiator, auth string, c *iscsi.CHAP, expect string) (*iscsi.Session, *Login, error) {
	s, err := iscsi.Login(p.ctx, pr.Portal, p.opts(initiator, iqn, c))
	l := Login{Initiator: initiator, Auth: auth, Accepted: err == nil, Expected: expect}
	if err != nil {
		l.Error, l.NoAnswer = err.Error(), unreachable(err)
		var le *iscsi.LoginError
		if errors.As(err, &le) {
			l.Status = fmt.Sprintf("0x%04x", le.Code())
		}
	} else if len(s.Redirects) > 0 {
		pr.Redirected = s.Redirects
	}
	pr.Logins = append(pr.Logins, l)
	return s, &pr.Logins[len(pr.Logins)-1], err
}

// target probes one target at each of its portals.
func (p *prober) target(t iscsi.DiscoveredTarget) {
	tr := TargetResult{IQN: t.Name}
	for _, pt := range t.Portals {
		pr := PortalResult{Portal: pt.Addr, TPGT: pt.TPGT}
		p.portal(&pr, t.Name)
		tr.Portals = append(tr.Portals, pr)
	}
	p.res.Targets = append(p.res.Targets, tr)
}

func (p *prober) where(pr *PortalResult, iqn string) string { return pr.Portal + " " + iqn }

// portal runs the login matrix at one portal of one target.
func (p *prober) portal(pr *PortalResult, iqn string) {
	where := p.where(pr, iqn)
	for i, init := range p.cfg.Allowed {
		var best *iscsi.Session
		noneExp := expectEither
		if p.chapExpected() {
			noneExp = expectRefused
		}
		s, l, err := p.attempt(pr, iqn, init, authNone, nil, noneExp)
		if err != nil && unreachable(err) {
			p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.portal", Where: where, Found: err.Error(),
				Why: "a portal listed for the target does not answer: initiators configured with it wait for it at every login, and a path through it is down",
				Fix: "check the target daemon and the network at this portal, or remove the portal from the target portal group"})
			return
		}
		if err == nil {
			p.noCHAP(where, init)
			if p.cfg.CHAP == nil {
				best = s
			} else {
				s.Close()
			}
		}
		if p.cfg.CHAP != nil {
			best = p.chapLogins(pr, iqn, init, where, best)
		} else if err != nil && !l.Accepted && p.cfg.ExpectCHAP == nil {
			p.allowedRefused(where, init, err)
		}
		if best == nil {
			continue
		}
		lus := p.listLUs(best, iqn, pr, where)
		p.lastLogin(pr, init).LUNs = lunNumbers(lus)
		if i == 0 {
			pr.LUs = lus
			pr.Latency = p.ping(best, where)
		}
		best.Logout()
	}
	for _, init := range p.cfg.Refused {
		p.refused(pr, iqn, init, where)
	}
}

// lastLogin returns the last accepted login of an initiator at a portal.
func (p *prober) lastLogin(pr *PortalResult, init string) *Login {
	for i := len(pr.Logins) - 1; i >= 0; i-- {
		if pr.Logins[i].Initiator == init && pr.Logins[i].Accepted {
			return &pr.Logins[i]
		}
	}
	return &Login{}
}

func lunNumbers(lus []LU) []uint16 {
	var out []uint16
	for _, l := range lus {
		if l.DeviceType != controllerType {
			out = append(out, l.LUN)
		}
	}
	return out
}

func (p *prober) noCHAP(where, init string) {
	sev := preflight.Warn
	if p.chapExpected() {
		sev = preflight.Error
	}
	p.add(preflight.Finding{Severity: sev, Check: "probe.no-chap", Where: where,
		Found: "login as " + init + " with AuthMethod=None was accepted",
		Why:   "anyone who knows or guesses an allowed initiator name gets the LUNs; initiator names are sent in clear",
		Fix:   "require CHAP on the target (COMSTAR: itadm modify-target -a chap; tgtd: tgtadm --mode account --op bind)"})
}

func (p *prober) allowedRefused(where, init string, err error) {
	p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.allowed", Where: where,
		Found: "login as " + init + " refused: " + err.Error(),
		Why:   "an initiator that must reach the target cannot log in: its host will have no path",
		Fix:   "add the initiator to the target's ACL or host group, or check its CHAP credentials"})
}

// chapLogins tries the right secret, a wrong one, and mutual CHAP right and
// wrong. It returns the session to list LUNs with: the mutual one if
// accepted, else the CHAP one, else best.
func (p *prober) chapLogins(pr *PortalResult, iqn, init, where string, best *iscsi.Session) *iscsi.Session {
	c := *p.cfg.CHAP
	one := c
	one.TargetUser, one.TargetSecret = "", ""
	s, _, err := p.attempt(pr, iqn, init, authCHAP, &one, expectAccepted)
	if iscsi.IsLoginStatus(err, iscsi.StatusNotFound) || iscsi.IsLoginStatus(err, iscsi.StatusAuthzFailure) {
		p.allowedRefused(where, init, err)
	} else if err != nil {
		p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.chap", Where: where,
			Found: fmt.Sprintf("CHAP login as %s (user %q) refused: %v", init, c.User, err),
			Why:   "the host will not log in with these credentials",
			Fix:   "check the CHAP user and secret on both sides, and that the initiator is in the target's ACL"})
	} else {
		best = s
	}
	wrong := one
	wrong.Secret += wrongSuffix
	if ws, _, err := p.attempt(pr, iqn, init, authWrong, &wrong, expectRefused); err == nil {
		ws.Close()
		p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.wrong-secret", Where: where,
			Found: fmt.Sprintf("CHAP login as %s (user %q) with a wrong secret was accepted", init, c.User),
			Why:   "the target does not check CHAP responses: the secret protects nothing",
			Fix:   "bind the CHAP account to the target and require CHAP; check the target software for CHAP bugs"})
	} else if !iscsi.IsLoginStatus(err, iscsi.StatusAuthFailure) && !unreachable(err) {
		pr.Logins[len(pr.Logins)-1].Error += " (refused, though not with 0x0201 authentication failure)"
	}
	if !c.Mutual() {
		return best
	}
	ms, _, err := p.attempt(pr, iqn, init, authMutual, &c, expectAccepted)
	if err != nil {
		p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.mutual-chap", Where: where,
			Found: fmt.Sprintf("mutual CHAP as %s: %v", init, err),
			Why:   "with mutual CHAP configured on the host, it will not log in: the target does not prove itself with the target secret",
			Fix:   "set the target's outgoing CHAP account (COMSTAR: itadm modify-target -s; tgtd: --outgoing) to the target user and secret the host uses"})
	} else {
		if best != nil {
			best.Close()
		}
		best = ms
	}
	bad := c
	bad.TargetSecret += wrongSuffix
	if bs, l, err := p.attempt(pr, iqn, init, authWrongTgt, &bad, expectRefused); err == nil {
		bs.Close()
		p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.mutual-chap", Where: where,
			Found: "mutual CHAP accepted a target that answered for a wrong target secret",
			Why:   "mutual CHAP does not authenticate the target", Fix: "report this: the probe's verification failed"})
	} else {
		var ae *iscsi.AuthError
		if !errors.As(err, &ae) {
			l.Error += " (refused by the target, not detected by the initiator)"
		}
	}
	return best
}

// refused checks that an initiator outside the ACL gets in nowhere: not
// without CHAP, and not with the CHAP credentials the allowed ones use
// (an ACL must hold even for a host that learnt the secret).
func (p *prober) refused(pr *PortalResult, iqn, init, where string) {
	s, l, err := p.attempt(pr, iqn, init, authNone, nil, expectRefused)
	if err != nil && p.cfg.CHAP != nil && !unreachable(err) {
		s, l, err = p.attempt(pr, iqn, init, p.bestAuth(), p.cfg.CHAP, expectRefused)
	}
	if err != nil {
		return
	}
	defer s.Logout()
	var seen []uint16
	if luns, err := s.ReportLUNs(); err == nil {
		for _, lun := range luns {
			if inq, err := s.Inquiry(lun); err == nil && inq.DeviceType != controllerType && inq.Qualifier == 0 {
				seen = append(seen, lun.Number())
			}
		}
	}
	l.LUNs = seen
	if len(seen) == 0 {
		p.add(preflight.Finding{Severity: preflight.Warn, Check: "probe.refused", Where: where,
			Found: "login as " + init + " was accepted; it sees no LUN",
			Why:   "the initiator should not be let in at all; no LUN is exposed to it, but a view added later would be",
			Fix:   "restrict the target to its host group (COMSTAR: stmfadm add-tg / target group; tgtd: --initiator-name ACL)"})
		return
	}
	p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.refused", Where: where,
		Found: fmt.Sprintf("login as %s was accepted and sees LUN %s", init, joinLUNs(seen)),
		Why:   "an initiator outside the host group can read and write the LUNs; two hosts writing one LUN without a cluster filesystem corrupt it",
		Fix:   "add views only for the host group (COMSTAR: stmfadm add-view -h HOSTGROUP), and restrict the target's ACL"})
}

func (p *prober) bestAuth() string {
	if p.cfg.CHAP.Mutual() {
		return authMutual
	}
	if p.cfg.CHAP != nil {
		return authCHAP
	}
	return authNone
}

func joinLUNs(l []uint16) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
