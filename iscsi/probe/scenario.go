package probe

import (
	"context"
	"fmt"

	"lunbench/scenarios"
)

// RunJSONKey is the key of the probes in run.json's extra, and
// LoginWatchKey that of the login watches during drills (probe_login).
const (
	RunJSONKey    = "probe"
	LoginWatchKey = "probe_logins"
)

// Recorded is one target's probe as run.json keeps it.
type Recorded struct {
	// Target is the scenario's target name and Path its device; findings
	// carry Path as their Target, the key criteria use.
	Target string  `json:"target"`
	Path   string  `json:"path"`
	Result *Result `json:"result"`
}

// ConfigFor turns a target's probe: block into a Config, reading the CHAP
// secrets through lookup. The error names a variable, never a secret.
func ConfigFor(t scenarios.Target, lookup func(string) (string, bool)) (Config, error) {
	p := t.Probe
	cred := Credentials{User: p.CHAPUser, SecretEnv: p.CHAPSecretEnv}
	if p.MutualCHAP {
		cred.TargetUser, cred.TargetSecretEnv = p.TargetUser, p.TargetSecretEnv
	}
	c, err := cred.CHAP(lookup)
	if err != nil {
		return Config{}, fmt.Errorf("probe of target %q: %w", t.Name, err)
	}
	return Config{
		Portals: p.Portals, Target: p.Target, Allowed: p.Allowed, Refused: p.Refused,
		CHAP: c, ExpectCHAP: p.CHAP, LUNs: p.LUNs, WWIDs: p.WWIDs,
		Pings: p.Pings, Timeout: p.Timeout, Key: t.Path,
	}, nil
}

// Scenario probes every target with a probe: block, in order. It returns
// an error before probing anything when a secret's variable is missing;
// what the targets do is in the results.
func Scenario(ctx context.Context, targets []scenarios.Target, lookup func(string) (string, bool)) ([]Recorded, error) {
	var cfgs []Config
	var out []Recorded
	for _, t := range targets {
		if t.Probe == nil {
			continue
		}
		cfg, err := ConfigFor(t, lookup)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, cfg)
		out = append(out, Recorded{Target: t.Name, Path: t.Path})
	}
	for i, cfg := range cfgs {
		r, err := Run(ctx, cfg)
		if err != nil {
			return out[:i], err
		}
		out[i].Result = r
	}
	return out, nil
}
