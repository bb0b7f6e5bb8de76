package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"lunbench/collect/preflight"
	"lunbench/iscsi"
)

// DefaultInitiator is the initiator name used when none is given.
const DefaultInitiator = "iqn.2026-01.io.lunbench:probe"

// Config says what to probe and what to expect.
type Config struct {
	// Portals are the discovery portals (host[:port]).
	Portals []string
	// Target limits the probe to one target IQN; empty probes them all.
	Target string
	// Allowed initiator names must log in; the first one also lists the
	// LUNs and measures latency. Empty means DefaultInitiator.
	Allowed []string
	// Refused initiator names must not log in or must see no LUN.
	Refused []string
	// CHAP holds the credentials; nil probes without CHAP. A TargetSecret
	// adds the mutual CHAP checks.
	CHAP *iscsi.CHAP
	// ExpectCHAP, when set, says whether the target must demand CHAP.
	ExpectCHAP *bool
	// LUNs is the least number of LUNs (not counting a controller LUN)
	// the first allowed initiator must see; 0 checks nothing.
	LUNs int
	// WWIDs must all be among the LUNs the first allowed initiator sees.
	WWIDs []string
	// Pings is the number of NOP-Out pings per portal (default 20).
	Pings int
	// Timeout bounds each network wait (default 3 s).
	Timeout time.Duration
	// Dialer and Now are passed to the iscsi client (nil: the defaults).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	Now    func() time.Time
	// Key goes into each finding's Target, so a scenario can tie the
	// findings to one of its targets.
	Key string
}

// Login is one login attempt and what came of it.
type Login struct {
	Initiator string `json:"initiator"`
	// Auth is none, chap, wrong-secret, mutual-chap or wrong-target-secret.
	Auth     string `json:"auth"`
	Accepted bool   `json:"accepted"`
	// Status is the target's login status (e.g. 0x0201) when it refused.
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// Expected is what the probe wanted: accepted, refused or either.
	Expected string `json:"expected"`
	// NoAnswer is set when the portal did not answer at all.
	NoAnswer bool `json:"no_answer,omitempty"`
	// LUNs are the LUNs the session saw, for logins that listed them.
	LUNs []uint16 `json:"luns,omitempty"`
}

// LU is one logical unit as an initiator sees it through one portal.
type LU struct {
	LUN        uint16 `json:"lun"`
	DeviceType byte   `json:"device_type"`
	Vendor     string `json:"vendor"`
	Product    string `json:"product"`
	Revision   string `json:"revision"`
	Serial     string `json:"serial,omitempty"`
	WWID       string `json:"wwid,omitempty"`
	Bytes      uint64 `json:"bytes,omitempty"`
	BlockSize  uint32 `json:"block_size,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Latency is the NOP-Out round trip over N pings.
type Latency struct {
	N   int           `json:"n"`
	Min time.Duration `json:"min_ns"`
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// PortalResult is what one target showed through one portal.
type PortalResult struct {
	Portal  string   `json:"portal"`
	TPGT    string   `json:"tpgt,omitempty"`
	Logins  []Login  `json:"logins"`
	LUs     []LU     `json:"lus,omitempty"`
	Latency *Latency `json:"latency,omitempty"`
	// Redirected is where a login was redirected to, if it was.
	Redirected []string `json:"redirected,omitempty"`
}

// TargetResult is one target across its portals.
type TargetResult struct {
	IQN     string         `json:"iqn"`
	Portals []PortalResult `json:"portals"`
}

// Discovery is one discovery portal's answer.
type Discovery struct {
	Portal    string                   `json:"portal"`
	NeedsAuth bool                     `json:"needs_auth"`
	Targets   []iscsi.DiscoveredTarget `json:"targets,omitempty"`
	Error     string                   `json:"error,omitempty"`
}

// Result is a probe's outcome; it marshals to JSON as is (--json, run.json).
type Result struct {
	Time      time.Time           `json:"time"`
	Discovery []Discovery         `json:"discovery"`
	Targets   []TargetResult      `json:"targets"`
	Findings  []preflight.Finding `json:"findings"`
	Summary   preflight.Summary   `json:"summary"`
}

// Report returns the findings as a preflight report, for rendering.
func (r *Result) Report() preflight.Report {
	return preflight.Report{Time: r.Time, Findings: r.Findings, Summary: r.Summary}
}

// ExitCode is 1 when any finding is an error, else 0.
func (r *Result) ExitCode() int {
	if r.Summary.Errors > 0 {
		return 1
	}
	return 0
}

type prober struct {
	cfg Config
	ctx context.Context
	res *Result
	// wwids maps target IQN, LUN number and portal to WWID and serial.
	ids map[string]map[uint16]map[string][2]string
}

// Run probes and returns the result. It fails only when the context ends
// (ctx.Err()); everything the target does is a finding.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Pings <= 0 {
		cfg.Pings = 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if len(cfg.Allowed) == 0 {
		cfg.Allowed = []string{DefaultInitiator}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	p := &prober{cfg: cfg, ctx: ctx, res: &Result{Time: now()}, ids: map[string]map[uint16]map[string][2]string{}}
	targets := p.discover()
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.target(t)
	}
	p.splitBrain()
	p.expectations()
	rep := preflight.Report{Findings: p.findings()}
	rep.Finish("the target's access control is not what it should be")
	p.res.Findings, p.res.Summary = rep.Findings, rep.Summary
	return p.res, ctx.Err()
}

func (p *prober) findings() []preflight.Finding { return p.res.Findings }

func (p *prober) add(f preflight.Finding) {
	f.Target = p.cfg.Key
	p.res.Findings = append(p.res.Findings, f)
}

func (p *prober) opts(initiator, target string, c *iscsi.CHAP) iscsi.Options {
	return iscsi.Options{InitiatorName: initiator, TargetName: target, CHAP: c, Timeout: p.cfg.Timeout, Dialer: p.cfg.Dialer, Now: p.cfg.Now}
}

// unreachable reports whether err means the portal did not answer at all.
func unreachable(err error) bool {
	var te *iscsi.TimeoutError
	var oe *net.OpError
	return errors.As(err, &te) || errors.As(err, &oe)
}

// discover asks each discovery portal for its targets and merges them by
// name, keeping every portal each one was listed at.
func (p *prober) discover() []iscsi.DiscoveredTarget {
	byName := map[string]*iscsi.DiscoveredTarget{}
	var order []string
	for _, portal := range p.cfg.Portals {
		d := p.discoverAt(portal, p.cfg.Allowed[0])
		p.res.Discovery = append(p.res.Discovery, d)
		for _, t := range d.Targets {
			if p.cfg.Target != "" && t.Name != p.cfg.Target {
				continue
			}
			m, ok := byName[t.Name]
			if !ok {
				m = &iscsi.DiscoveredTarget{Name: t.Name}
				byName[t.Name] = m
				order = append(order, t.Name)
			}
			for _, pt := range t.Portals {
				if !slices.ContainsFunc(m.Portals, func(x iscsi.Portal) bool { return x.Addr == pt.Addr }) {
					m.Portals = append(m.Portals, pt)
				}
			}
		}
	}
	answered := slices.ContainsFunc(p.res.Discovery, func(d Discovery) bool { return d.Error == "" })
	if p.cfg.Target == "" && len(order) == 0 && answered {
		p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.allowed", Where: strings.Join(p.cfg.Portals, ", "),
			Found: "discovery shows no target to " + p.cfg.Allowed[0],
			Why:   "an initiator that must reach a target finds none: its host will have no path",
			Fix:   "add the initiator to the target's ACL or host group (or name the target with --target / target:)"})
	}
	if p.cfg.Target != "" && len(order) == 0 {
		// Discovery did not show it (ACLs may hide it): try the portals given.
		t := &iscsi.DiscoveredTarget{Name: p.cfg.Target}
		for _, pt := range p.cfg.Portals {
			t.Portals = append(t.Portals, iscsi.Portal{Addr: withPort(pt)})
		}
		byName[t.Name], order = t, []string{t.Name}
	}
	out := make([]iscsi.DiscoveredTarget, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

func withPort(p string) string {
	if _, _, err := net.SplitHostPort(p); err == nil {
		return p
	}
	return net.JoinHostPort(p, "3260")
}

// discoverAt runs SendTargets at one portal, without authentication first
// and with CHAP when that is refused.
func (p *prober) discoverAt(portal, initiator string) Discovery {
	d := Discovery{Portal: withPort(portal)}
	s, err := iscsi.Login(p.ctx, portal, p.opts(initiator, "", nil))
	if err != nil && p.cfg.CHAP != nil && !unreachable(err) {
		d.NeedsAuth = true
		s, err = iscsi.Login(p.ctx, portal, p.opts(initiator, "", p.cfg.CHAP))
	}
	if err != nil {
		d.Error = err.Error()
		check, why := "probe.discovery", "without discovery no target can be found through this portal"
		if unreachable(err) {
			check, why = "probe.portal", "an initiator configured with this portal waits for it at every login and rescan"
		}
		p.add(preflight.Finding{Severity: preflight.Error, Check: check, Where: d.Portal,
			Found: err.Error(), Why: why, Fix: "check the portal address, the target daemon and the firewall"})
		return d
	}
	defer s.Logout()
	ts, err := s.SendTargets()
	if err != nil {
		d.Error = err.Error()
		p.add(preflight.Finding{Severity: preflight.Error, Check: "probe.discovery", Where: d.Portal, Found: "SendTargets: " + err.Error(),
			Why: "without discovery no target can be found through this portal", Fix: "check the target daemon's log"})
		return d
	}
	d.Targets = ts
	if !d.NeedsAuth {
		p.add(preflight.Finding{Severity: preflight.Warn, Check: "probe.discovery-auth", Where: d.Portal,
			Found: fmt.Sprintf("discovery as %s without authentication listed %d target(s)", initiator, len(ts)),
			Why:   "anyone who reaches the portal can list the target names and portals",
			Fix:   "require CHAP for discovery sessions (COMSTAR: itadm modify-defaults -a chap; NexentaStor: discovery auth)"})
	}
	return d
}

// sortedDurations returns the latency summary of samples (nearest rank).
func summarize(samples []time.Duration) *Latency {
	if len(samples) == 0 {
		return nil
	}
	s := slices.Clone(samples)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return &Latency{N: len(s), Min: s[0], P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}
