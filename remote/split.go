package remote

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lunbench/scenarios"
)

// drillTokenPrefix starts the command an agent's runner is given for a
// drill command: the agent hands it back to the coordinator, which runs
// the real command once for all hosts (or has the drill's on: host run
// it). Real commands, and any secret ${VAR} put in them, never reach an
// agent that does not run them.
const drillTokenPrefix = "lunbench-drill "

// drillToken names one command of one drill: phase index, drill index,
// inject or recover.
func drillToken(phase, drill int, what string) string {
	return fmt.Sprintf("%s%d %d %s", drillTokenPrefix, phase, drill, what)
}

// parseDrillToken reverses drillToken.
func parseDrillToken(tok string) (phase, drill int, what string, err error) {
	f := strings.Fields(strings.TrimPrefix(tok, drillTokenPrefix))
	if !strings.HasPrefix(tok, drillTokenPrefix) || len(f) != 3 || (f[2] != "inject" && f[2] != "recover") {
		return 0, 0, "", fmt.Errorf("not a drill command token: %q", tok)
	}
	if phase, err = strconv.Atoi(f[0]); err == nil {
		drill, err = strconv.Atoi(f[1])
	}
	return phase, drill, f[2], err
}

// Split gives each host its share of the scenario: its own targets, and
// the phases that run on them (with only those targets). Phases keep their
// names, which the barrier uses; drill commands become tokens. Criteria
// stay with the coordinator, which judges the merged run. Hosts with no
// target get nothing.
func Split(sc *scenarios.Scenario) map[string]*scenarios.Scenario {
	out := map[string]*scenarios.Scenario{}
	for _, host := range sc.HostNames() {
		sub := *sc
		sub.Hosts, sub.Criteria, sub.OnHostLoss = nil, nil, ""
		sub.Targets = nil
		mine := map[string]bool{}
		for _, t := range sc.Targets {
			if t.HostOf() == host {
				t.Host = ""
				sub.Targets = append(sub.Targets, t)
				mine[t.Name] = true
			}
		}
		sub.Phases = nil
		for pi, p := range sc.Phases {
			ts := slices.DeleteFunc(slices.Clone(p.Targets), func(n string) bool { return !mine[n] })
			if len(ts) == 0 {
				continue
			}
			p.Targets = ts
			p.Drills = slices.Clone(p.Drills)
			for di := range p.Drills {
				dr := &p.Drills[di]
				dr.Expect = nil
				if dr.Inject != "" {
					dr.Inject = drillToken(pi, di, "inject")
				}
				if dr.Recover != nil {
					r := *dr.Recover
					r.Command = drillToken(pi, di, "recover")
					dr.Recover = &r
				}
				dr.On = ""
			}
			sub.Phases = append(sub.Phases, p)
		}
		out[host] = &sub
	}
	return out
}

// phaseHosts lists, for each phase of sc, the hosts it runs on.
func phaseHosts(sc *scenarios.Scenario) [][]string {
	hostOf := map[string]string{}
	for _, t := range sc.Targets {
		hostOf[t.Name] = t.HostOf()
	}
	out := make([][]string, len(sc.Phases))
	for i, p := range sc.Phases {
		for _, t := range p.Targets {
			if h := hostOf[t]; !slices.Contains(out[i], h) {
				out[i] = append(out[i], h)
			}
		}
	}
	return out
}
