package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"lunbench/collect/preflight"
	"lunbench/remote"
	"lunbench/scenarios"
)

func newCheckCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	var root, scenario, hostsNote string
	cmd := &cobra.Command{
		Use:   "check [--scenario FILE]",
		Short: "Preflight: check the iSCSI initiator and dm-multipath set-up of this host",
		Long: `check reads open-iscsi's configuration and node records, /etc/multipath.conf,
the live iSCSI sessions and multipath maps in sysfs, and rp_filter, and reports
each finding with where it was found, why it matters and how to fix it.
With --scenario, each target's expect: block (paths, portals, chap,
recovery_tmo) is checked too, and each drill's failover budget (the
worst-case stall the live settings predict) is printed per target, term by
term, with the likely causes a drill would list for a stall above max_stall.
Exit code 0: no errors; 1: errors; 2: usage.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			exp := map[string]preflight.Expect{}
			var sc *scenarios.Scenario
			if scenario != "" {
				var err error
				if sc, err = scenarios.Resolve(scenario, os.LookupEnv); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				sc, hostsNote = localShare(sc)
				if sc != nil {
					exp = expectations(sc)
				}
			}
			r := preflight.Run(root, exp, time.Now())
			if sc != nil {
				r.Budgets = preflight.DrillBudgets(preflight.NewHost(root), sc)
				r.Causes = preflight.TargetsCauses(preflight.NewHost(root), sc)
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
			} else {
				fmt.Fprint(stdout, hostsNote)
				color := false
				if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" {
					color = true
				}
				if err := r.WriteText(stdout, color); err != nil {
					return &exitError{code: exitRuntime, err: err}
				}
			}
			if code := r.ExitCode(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&scenario, "scenario", "", "also check the targets' expect: blocks of this scenario")
	cmd.Flags().StringVar(&root, "root", "/", "check the host tree under this directory (for fixture trees)")
	cmd.Flags().MarkHidden("root")
	return cmd
}

// expectations maps each target's expect: block to the device it names.
func expectations(sc *scenarios.Scenario) map[string]preflight.Expect {
	exp := map[string]preflight.Expect{}
	for _, t := range sc.Targets {
		if t.Expect != nil {
			exp[t.Path] = preflight.Expect(*t.Expect)
		}
	}
	return exp
}

// localShare is the part of a scenario with hosts: that runs on this
// machine (nil when none does), and a note saying the other hosts are
// checked by their agents when the run starts.
func localShare(sc *scenarios.Scenario) (*scenarios.Scenario, string) {
	if !sc.MultiHost() {
		return sc, ""
	}
	var others []string
	for _, h := range sc.HostNames() {
		if h != scenarios.LocalHost {
			others = append(others, h)
		}
	}
	note := fmt.Sprintf("note: the targets of hosts %s are checked on those hosts by their agents when `lunbench run` starts (hosts/NAME/run.json); this checks this machine only\n\n",
		strings.Join(others, ", "))
	return remote.Split(sc)[scenarios.LocalHost], note
}
