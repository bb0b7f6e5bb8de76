package preflight

import (
	"fmt"
	"sort"
	"strings"
)

// chapMixed finds targets some of whose sessions log in with CHAP and some
// without: whatever the scenario expects, that is always a finding. The
// target accepted a login without CHAP on some portal or for some node
// record, so CHAP protects nothing there (reference 003).
func (c *checker) chapMixed() {
	byTarget := map[string][]*session{}
	for i := range c.sessions {
		s := &c.sessions[i]
		byTarget[s.Target] = append(byTarget[s.Target], s)
	}
	for _, tg := range sortedKeys(byTarget) {
		ss := byTarget[tg]
		var with, without []*session
		for _, s := range ss {
			if s.CHAP {
				with = append(with, s)
			} else {
				without = append(without, s)
			}
		}
		if len(with) == 0 || len(without) == 0 || allIn(without, c.noCHAPReported) {
			continue
		}
		var places, portals []string
		for _, s := range without {
			places = append(places, s.Path+"/username")
			portals = append(portals, fmt.Sprintf("session%d %s via %s", s.ID, s.Conn.Portal(), s.Iface))
			if r := c.recordFor(s); r != nil {
				if au := get(r.Conf, keyAuth); !strings.EqualFold(au.Value, "CHAP") {
					places = append(places, au.Where)
				}
			}
		}
		c.add(Finding{Severity: Error, Check: "iscsi.chap-mixed", Where: places[0], Others: places[1:],
			Found: fmt.Sprintf("%d of %d sessions to %s log in without CHAP (%s), the others with it", len(without), len(ss), tg, strings.Join(portals, ", ")),
			Why:   "the target accepts logins without CHAP on these paths, so any host that presents an allowed initiator name gets the LUN there; CHAP on the other paths protects nothing (reference 003)",
			Fix:   "set node.session.auth.authmethod = CHAP with username and password in every node record of the target, require CHAP on every portal of the target, then log out and in"})
	}
}

// expectCHAP checks a target's chap: expectation against its sessions and
// their node records. One cause, one finding: a session logging in without
// CHAP and the node record that made it so are listed as places of the same
// finding, not as two errors.
func (c *checker) expectCHAP(key string, want bool, sess []*session) {
	var places []string
	n := 0
	recs := map[string]bool{}
	for _, s := range sess {
		r := c.recordFor(s)
		recCHAP := true
		var au iscsiValue
		if r != nil {
			au = get(r.Conf, keyAuth)
			recCHAP = strings.EqualFold(au.Value, "CHAP")
		}
		if s.CHAP == want && (!want || recCHAP) {
			continue
		}
		n++
		if s.CHAP != want {
			places = append(places, s.Path+"/username")
			if want {
				if c.noCHAPReported == nil {
					c.noCHAPReported = map[int]bool{}
				}
				c.noCHAPReported[s.ID] = true
			}
		}
		if want && !recCHAP {
			places = append(places, au.Where)
			recs[au.found()] = true
		}
	}
	if n == 0 {
		return
	}
	if !want {
		c.add(Finding{Severity: Warn, Check: "expect.chap", Target: key, Where: places[0], Others: places[1:],
			Found: fmt.Sprintf("%d of %d sessions log in with CHAP, but the scenario says chap: false", n, len(sess)),
			Why:   "the scenario's expectation does not match the host; check which is meant",
			Fix:   "set chap: true in the target's expect:, or remove CHAP from the node records and the target"})
		return
	}
	found := fmt.Sprintf("%d of %d sessions log in without CHAP (sysfs username is empty)", n, len(sess))
	if len(recs) > 0 {
		rs := make([]string, 0, len(recs))
		for r := range recs {
			rs = append(rs, r)
		}
		sort.Strings(rs)
		found += "; their node records: " + strings.Join(rs, ", ")
	}
	c.add(Finding{Severity: Error, Check: "expect.chap", Target: key, Where: places[0], Others: places[1:], Found: found,
		Why: "the scenario expects CHAP in place: without it any host that presents an allowed initiator name gets the LUN (reference 003)",
		Fix: "iscsiadm -m node -T <target> -p <portal> -o update -n node.session.auth.authmethod -v CHAP (and username, password) in each record listed, CHAP on the target, then log out and in"})
}

// allIn reports whether every session is in set.
func allIn(ss []*session, set map[int]bool) bool {
	for _, s := range ss {
		if !set[s.ID] {
			return false
		}
	}
	return true
}
