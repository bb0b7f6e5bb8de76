package probe

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"lunbench/collect/preflight"
	"lunbench/iscsi"
)

// listLUs lists the LUNs of a session with their identity and capacity,
// and records each WWID for the split-brain check.
func (p *prober) listLUs(s *iscsi.Session, iqn string, pr *PortalResult, where string) []LU {
	luns, err := s.ReportLUNs()
	if err != nil {
		p.scsiWarn(where, err)
		return nil
	}
	var out []LU
	for _, lun := range luns {
		lu := LU{LUN: lun.Number()}
		inq, err := s.Inquiry(lun)
		if err != nil {
			lu.Error = err.Error()
			p.scsiWarn(where, err)
			out = append(out, lu)
			continue
		}
		lu.DeviceType, lu.Vendor, lu.Product, lu.Revision = inq.DeviceType, inq.Vendor, inq.Product, inq.Revision
		if inq.DeviceType != controllerType {
			p.identify(s, lun, &lu, where)
		}
		out = append(out, lu)
		if lu.WWID != "" || lu.Serial != "" {
			m := p.ids[iqn]
			if m == nil {
				m = map[uint16]map[string][2]string{}
				p.ids[iqn] = m
			}
			if m[lu.LUN] == nil {
				m[lu.LUN] = map[string][2]string{}
			}
			m[lu.LUN][pr.Portal] = [2]string{lu.WWID, lu.Serial}
		}
	}
	return out
}

// identify fills in serial, WWID and capacity; failures are warnings.
func (p *prober) identify(s *iscsi.Session, lun iscsi.LUN, lu *LU, where string) {
	var errs []string
	if sn, err := s.UnitSerial(lun); err == nil {
		lu.Serial = sn
	} else {
		errs = append(errs, err.Error())
	}
	if ids, err := s.DeviceIDs(lun); err == nil {
		lu.WWID = iscsi.WWID(ids)
	} else {
		errs = append(errs, err.Error())
	}
	if c, err := s.ReadCapacity16(lun); err == nil {
		lu.Bytes, lu.BlockSize = c.Bytes(), c.BlockSize
	} else {
		errs = append(errs, err.Error())
	}
	if err := s.TestUnitReady(lun); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		lu.Error = strings.Join(errs, "; ")
		p.scsiWarn(fmt.Sprintf("%s LUN %d", where, lu.LUN), fmt.Errorf("%s", lu.Error))
	}
}

func (p *prober) scsiWarn(where string, err error) {
	p.add(preflight.Finding{Severity: preflight.Warn, Check: "probe.scsi", Where: where, Found: err.Error(),
		Why: "the LUN does not answer a basic SCSI command: the host's scan or multipath may fail on it",
		Fix: "check the LU's backing store and the target's log"})
}

// ping measures the NOP-Out round trip.
func (p *prober) ping(s *iscsi.Session, where string) *Latency {
	var rtts []time.Duration
	for range p.cfg.Pings {
		rtt, err := s.Ping()
		if err != nil {
			p.add(preflight.Finding{Severity: preflight.Warn, Check: "probe.scsi", Where: where, Found: "NOP-Out: " + err.Error(),
				Why: "the target does not answer NOP-Out: the host's iscsid will drop the session after noop_out_timeout",
				Fix: "check the target's log"})
			break
		}
		rtts = append(rtts, rtt)
	}
	return summarize(rtts)
}

// splitBrain reports a LUN whose WWID or serial differs between portals
// of one target: two heads exporting different data under one name.
func (p *prober) splitBrain() {
	for _, iqn := range sortedKeys(p.ids) {
		byLUN := p.ids[iqn]
		luns := make([]int, 0, len(byLUN))
		for l := range byLUN {
			luns = append(luns, int(l))
		}
		sort.Ints(luns)
		for _, l := range luns {
			seen := byLUN[uint16(l)]
			portals := sortedKeys(seen)
			var parts []string
			differ := false
			for _, pt := range portals {
				id := seen[pt]
				parts = append(parts, fmt.Sprintf("%s: WWID %s serial %q", pt, id[0], id[1]))
				if id != seen[portals[0]] {
					differ = true
				}
			}
			if !differ {
				continue
			}
			p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.split-brain", Where: fmt.Sprintf("%s LUN %d", iqn, l),
				Found: strings.Join(parts, "; "),
				Why:   "dm-multipath groups paths by WWID: the host sees two different LUNs, or worse, one head's data under the other's name after a failover (split brain)",
				Fix:   "export the same LU (same GUID / scsi_id and serial) from every head of the portal group, and fence the passive head"})
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// expectations checks the LUN count and WWIDs the first allowed initiator
// saw on some portal.
func (p *prober) expectations() {
	if p.cfg.LUNs == 0 && len(p.cfg.WWIDs) == 0 {
		return
	}
	most, wwids := 0, map[string]bool{}
	where := strings.Join(p.cfg.Portals, ", ")
	for _, t := range p.res.Targets {
		for _, pr := range t.Portals {
			most = max(most, len(lunNumbers(pr.LUs)))
			for _, lu := range pr.LUs {
				wwids[lu.WWID] = true
			}
		}
	}
	if most < p.cfg.LUNs {
		p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.luns", Where: where,
			Found: fmt.Sprintf("%s sees %d LUN(s), expected %d", p.cfg.Allowed[0], most, p.cfg.LUNs),
			Why:   "a LUN the host needs is not mapped to it", Fix: "add a view for the LU to the host group"})
	}
	for _, w := range p.cfg.WWIDs {
		if !wwids[w] {
			p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.wwid", Where: where,
				Found: fmt.Sprintf("no LUN with WWID %s among those %s sees", w, p.cfg.Allowed[0]),
				Why:   "the LUN the scenario expects is not exported to this initiator, or it changed identity",
				Fix:   "check the LU's GUID and the views on the target"})
		}
	}
}
