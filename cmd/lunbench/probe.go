package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"lunbench/iscsi"
	"lunbench/iscsi/probe"
	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// probeArgs checks the flags a probe cannot start without.
func probeArgs(cfg probe.Config) error {
	if cfg.Pings < 1 {
		return fmt.Errorf("--pings %d: give 1 or more", cfg.Pings)
	}
	if cfg.Timeout <= 0 {
		return fmt.Errorf("--timeout %s: give a positive duration", cfg.Timeout)
	}
	names := append(append([]string{}, cfg.Allowed...), cfg.Refused...)
	if cfg.Target != "" {
		names = append(names, cfg.Target)
	}
	for _, n := range names {
		if err := iscsi.ValidName(n); err != nil {
			return err
		}
	}
	return nil
}

// runProbe is `lunbench probe` once its flags are read.
func runProbe(cfg probe.Config, asJSON bool, stdout io.Writer, sig <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := probe.Run(ctx, cfg)
	if err != nil {
		return &exitError{code: exitInterrupted, err: err}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = res.WriteText(stdout, isTerminal(stdout) && os.Getenv("NO_COLOR") == "")
	}
	if err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	if code := res.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// recordProbes runs the targets' probe: blocks before the first phase and
// records them in run.json. A missing secret variable is a scenario error
// (exit 2); what the targets do is judged by the criteria.
func recordProbes(sc *scenarios.Scenario, lookup func(string) (string, bool), run *report.RunJSON, stdout, stderr io.Writer) ([]probe.Recorded, int, error) {
	recs, err := probe.Scenario(context.Background(), sc.Targets, lookup)
	if err != nil {
		return nil, exitUsage, err
	}
	if len(recs) == 0 {
		return nil, exitPass, nil
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return nil, exitRuntime, err
	}
	if run.Extra == nil {
		run.Extra = map[string]json.RawMessage{}
	}
	run.Extra[probe.RunJSONKey] = b
	for _, r := range recs {
		fmt.Fprintf(stdout, "probe %s: %s\n", r.Target, r.Result.Summary.Text)
		if r.Result.Summary.Errors > 0 {
			fmt.Fprintf(stderr, "lunbench: the probe of %s found %d error(s) in the target's access control; see 'lunbench probe'\n", r.Target, r.Result.Summary.Errors)
		}
	}
	return recs, exitPass, nil
}

// loginWatches passes events on and, when a drill with probe_login: true
// is injected, watches logins through the probe: block of each of the
// phase's targets that has one (probe.WatchLogins).
type loginWatches struct {
	next  workload.EventSink
	sc    *scenarios.Scenario
	cfgs  map[string]probe.Config
	iqns  map[string]string
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	mu    sync.Mutex
	found []probe.LoginWatch
}

// newLoginWatches returns nil when no drill asks for a login watch.
func newLoginWatches(sc *scenarios.Scenario, recs []probe.Recorded, lookup func(string) (string, bool), next workload.EventSink) *loginWatches {
	l := &loginWatches{next: next, sc: sc, cfgs: map[string]probe.Config{}, iqns: map[string]string{}}
	for _, r := range recs {
		for _, t := range sc.Targets {
			if t.Name != r.Target {
				continue
			}
			cfg, err := probe.ConfigFor(t, lookup)
			if err != nil {
				continue // recordProbes read the same variables already
			}
			l.cfgs[t.Name], l.iqns[t.Name] = cfg, cfg.Target
			if cfg.Target == "" && r.Result != nil && len(r.Result.Targets) > 0 {
				l.iqns[t.Name] = r.Result.Targets[0].IQN
			}
		}
	}
	want := false
	for _, p := range sc.Phases {
		for _, d := range p.Drills {
			want = want || d.ProbeLogin
		}
	}
	if !want || len(l.cfgs) == 0 {
		return nil
	}
	l.ctx, l.stop = context.WithCancel(context.Background())
	return l
}

// Event implements workload.EventSink.
func (l *loginWatches) Event(e workload.Event) {
	l.next.Event(e)
	if e.Kind != workload.EvDrillInject {
		return
	}
	for _, p := range l.sc.Phases {
		if p.Name != e.Phase {
			continue
		}
		for _, d := range p.Drills {
			if d.Name != e.Path || !d.ProbeLogin {
				continue
			}
			for _, tn := range p.Targets {
				if cfg, ok := l.cfgs[tn]; ok && l.iqns[tn] != "" {
					l.watch(e, tn, cfg)
				}
			}
		}
	}
}

func (l *loginWatches) watch(e workload.Event, target string, cfg probe.Config) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		w := probe.WatchLogins(l.ctx, cfg, l.iqns[target], e.Time, probe.WatchOptions{})
		w.Phase, w.Drill, w.Target = e.Phase, e.Path, target
		l.next.Event(workload.Event{Time: time.Now(), Kind: workload.EvNote, Phase: e.Phase, Target: target, Path: e.Path,
			Detail: "login watch: " + w.Summary(), Dur: w.Back})
		l.mu.Lock()
		l.found = append(l.found, w)
		l.mu.Unlock()
	}()
}

// finish ends the watches still running and returns them all.
func (l *loginWatches) finish() []probe.LoginWatch {
	l.stop()
	l.wg.Wait()
	return l.found
}

func newProbeCmd(stdout io.Writer, sig <-chan os.Signal) *cobra.Command {
	var cfg probe.Config
	var cred probe.Credentials
	var asJSON, requireCHAP bool
	cmd := &cobra.Command{
		Use:   "probe PORTAL... [--target IQN] [--initiator IQN]... [--chap-user U --chap-secret-env VAR]",
		Short: "Check a target's access control over the wire: CHAP, mutual CHAP, initiator ACLs, LUN masking",
		Long: `probe speaks iSCSI itself, without touching this host's iSCSI configuration
(no node records, sessions or block devices). It discovers the targets at each
PORTAL and, for each target, portal and initiator name, tries a login without
CHAP, with CHAP, with a deliberately wrong secret, and with mutual CHAP right
and wrong; lists the LUNs each allowed initiator sees (vendor, product, serial,
WWID, capacity); checks that every portal shows the same WWIDs; and measures
the NOP-Out round trip. Findings have the form of lunbench check's.

Secrets are read only from the environment variables named by
--chap-secret-env and --target-secret-env, and are never printed.
Exit code 0: no errors; 1: errors; 2: usage; 130: interrupted.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := cred.CHAP(os.LookupEnv)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			cfg.Portals, cfg.CHAP = args, c
			if requireCHAP {
				cfg.ExpectCHAP = &requireCHAP
			}
			if err := probeArgs(cfg); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return runProbe(cfg, asJSON, stdout, sig)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Target, "target", "", "probe only this target IQN")
	f.StringArrayVar(&cfg.Allowed, "initiator", nil, "an initiator name that must be allowed (repeat; default "+probe.DefaultInitiator+")")
	f.StringArrayVar(&cfg.Refused, "refused-initiator", nil, "an initiator name that must be refused or see no LUN (repeat)")
	f.StringVar(&cred.User, "chap-user", "", "CHAP user name of the initiator")
	f.StringVar(&cred.SecretEnv, "chap-secret-env", "", "name of the environment variable holding the CHAP secret")
	f.StringVar(&cred.TargetUser, "target-user", "", "mutual CHAP: the name the target must answer with")
	f.StringVar(&cred.TargetSecretEnv, "target-secret-env", "", "mutual CHAP: name of the environment variable holding the target's secret")
	f.BoolVar(&requireCHAP, "require-chap", false, "a login without CHAP is an error even without CHAP credentials (default: an error only with --chap-user)")
	f.IntVar(&cfg.LUNs, "luns", 0, "the first initiator must see at least this many LUNs")
	f.StringArrayVar(&cfg.WWIDs, "wwid", nil, "a WWID the first initiator must see (repeat)")
	f.IntVar(&cfg.Pings, "pings", 20, "NOP-Out pings per portal")
	f.DurationVar(&cfg.Timeout, "timeout", 3*time.Second, "bound on each network wait")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
