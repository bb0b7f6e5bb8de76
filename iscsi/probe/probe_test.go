package probe_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"lunbench/collect/preflight"
	"lunbench/iscsi"
	"lunbench/iscsi/iscsitest"
	"lunbench/iscsi/probe"
)

const (
	iqn       = "iqn.2026-11.test.lunbench:lbprb.ha"
	hostA     = "iqn.2026-11.test.lunbench:lbprb.host-a"
	intruder  = "iqn.2026-11.test.lunbench:lbprb.intruder"
	secretIn  = "lbprb-in-secret-1"
	secretOut = "lbprb-out-secret-2"
)

// secure is a target locked down the way reference 003 teaches: CHAP,
// mutual CHAP, one initiator in the ACL.
func secure(scsiID, sn string) iscsitest.Target {
	return iscsitest.Target{
		IQN:        iqn,
		LUs:        []iscsitest.LU{{Size: 64 << 20, SCSIID: scsiID, SCSISN: sn}},
		Initiators: []string{hostA},
		User:       "host-a", Secret: secretIn,
		OutUser: "tgt-out", OutSecret: secretOut,
	}
}

func config(lab *iscsitest.Lab, portals ...string) probe.Config {
	return probe.Config{
		Portals: portals, Allowed: []string{hostA}, Refused: []string{intruder},
		CHAP:  &iscsi.CHAP{User: "host-a", Secret: secretIn, TargetUser: "tgt-out", TargetSecret: secretOut},
		Pings: 10, Timeout: 2 * time.Second, Dialer: lab.Dialer(),
	}
}

// checks returns the check names of the findings of one severity.
func checks(r *probe.Result, sev preflight.Severity) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == sev {
			out = append(out, f.Check)
		}
	}
	return out
}

func text(t *testing.T, r *probe.Result) string {
	var b strings.Builder
	if err := r.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A locked-down target passes: every login comes out as expected, LUN 1
// shows the configured serial, and only open discovery is warned about.
func TestProbeSecureTarget(t *testing.T) {
	lab := iscsitest.NewLab(t)
	d := lab.StartTgtd()
	d.AddTarget(secure("lbprb-id-0001", "LBPRBSN0001"))
	r, err := probe.Run(context.Background(), config(lab, d.Portal))
	if err != nil {
		t.Fatal(err)
	}
	out := text(t, r)
	t.Log(out)
	if e := checks(r, preflight.Error); len(e) > 0 {
		t.Errorf("errors %v on a locked-down target", e)
	}
	if w := checks(r, preflight.Warn); len(w) != 1 || w[0] != "probe.discovery-auth" {
		t.Errorf("warnings %v, expected only probe.discovery-auth", w)
	}
	if len(r.Targets) != 1 || len(r.Targets[0].Portals) != 1 {
		t.Fatalf("targets %+v", r.Targets)
	}
	pr := r.Targets[0].Portals[0]
	want := map[string]bool{"none": false, "chap": true, "wrong-secret": false, "mutual-chap": true, "wrong-target-secret": false}
	for _, l := range pr.Logins {
		if l.Initiator == intruder {
			if l.Accepted || l.Status != "0x0203" {
				t.Errorf("intruder: %+v", l)
			}
			continue
		}
		if acc, ok := want[l.Auth]; !ok || acc != l.Accepted {
			t.Errorf("login %s accepted=%v (%s)", l.Auth, l.Accepted, l.Error)
		}
		if l.Auth == "wrong-secret" && l.Status != "0x0201" {
			t.Errorf("wrong secret refused with %q, tgtd says 0x0201", l.Status)
		}
	}
	var lu1 *probe.LU
	for i := range pr.LUs {
		if pr.LUs[i].LUN == 1 {
			lu1 = &pr.LUs[i]
		}
	}
	if lu1 == nil || lu1.Serial != "LBPRBSN0001" || lu1.Bytes != 64<<20 || !strings.HasPrefix(lu1.WWID, "36") {
		t.Errorf("LUN 1: %+v", lu1)
	}
	if l := pr.Latency; l == nil || l.N != 10 || l.Min <= 0 || l.Min > l.P50 || l.P50 > l.P99 {
		t.Errorf("latency %+v", l)
	}
	if strings.Contains(out, secretIn) || strings.Contains(out, secretOut) {
		t.Error("the output shows a secret")
	}
}

// An open target, with CHAP credentials given: no-CHAP logins accepted,
// the CHAP login refused, and an initiator outside the intended host group
// sees the LUN.
func TestProbeOpenTarget(t *testing.T) {
	lab := iscsitest.NewLab(t)
	d := lab.StartTgtd()
	d.AddTarget(iscsitest.Target{IQN: iqn, LUs: []iscsitest.LU{{Size: 16 << 20}}})
	r, err := probe.Run(context.Background(), config(lab, d.Portal))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(text(t, r))
	got := strings.Join(checks(r, preflight.Error), " ")
	for _, c := range []string{"probe.no-chap", "probe.chap", "probe.refused"} {
		if !strings.Contains(got, c) {
			t.Errorf("errors %q: no %s", got, c)
		}
	}
}

// A target without CHAP probed without credentials: nothing says CHAP is
// expected, so the open login is a warning, not an error.
func TestProbeNoCredentials(t *testing.T) {
	lab := iscsitest.NewLab(t)
	d := lab.StartTgtd()
	d.AddTarget(iscsitest.Target{IQN: iqn, LUs: []iscsitest.LU{{Size: 16 << 20}}})
	cfg := config(lab, d.Portal)
	cfg.CHAP, cfg.Refused = nil, nil
	r, err := probe.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if e := checks(r, preflight.Error); len(e) > 0 {
		t.Errorf("errors %v", e)
	}
	if w := strings.Join(checks(r, preflight.Warn), " "); !strings.Contains(w, "probe.no-chap") {
		t.Errorf("warnings %q: no probe.no-chap", w)
	}
}

// Case 6: two heads export the same IQN with different WWIDs.
func TestProbeSplitBrain(t *testing.T) {
	lab := iscsitest.NewLab(t)
	a, b := lab.StartTgtd(), lab.StartTgtd()
	a.AddTarget(secure("lbprb-head-a", "LBPRBSNA"))
	b.AddTarget(secure("lbprb-head-b", "LBPRBSNB"))
	r, err := probe.Run(context.Background(), config(lab, a.Portal, b.Portal))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(text(t, r))
	var sb *preflight.Finding
	for i, f := range r.Findings {
		if f.Check == "probe.split-brain" {
			sb = &r.Findings[i]
		}
	}
	if sb == nil || sb.Severity != preflight.Error || !strings.Contains(sb.Found, "LBPRBSNA") || !strings.Contains(sb.Found, "LBPRBSNB") {
		t.Fatalf("split-brain finding %+v", sb)
	}
	// The same LU identity on both heads is no split brain.
	lab2 := iscsitest.NewLab(t)
	c, e := lab2.StartTgtd(), lab2.StartTgtd()
	c.AddTarget(secure("lbprb-same", "LBPRBSNS"))
	e.AddTarget(secure("lbprb-same", "LBPRBSNS"))
	r, err = probe.Run(context.Background(), config(lab2, c.Portal, e.Portal))
	if err != nil {
		t.Fatal(err)
	}
	if errs := checks(r, preflight.Error); len(errs) > 0 {
		t.Errorf("errors %v with one identity on both heads", errs)
	}
}

// Case 7: a head frozen with SIGSTOP (its kernel still accepts TCP, then
// nothing answers) ends in a probe.portal error within the timeout, and
// the other head is still probed.
func TestProbeSilentPortals(t *testing.T) {
	lab := iscsitest.NewLab(t)
	d := lab.StartTgtd()
	d.AddTarget(secure("lbprb-id-0001", "LBPRBSN0001"))
	frozen := lab.StartTgtd()
	frozen.Stop()
	cfg := config(lab, d.Portal, frozen.Portal)
	cfg.Timeout = 500 * time.Millisecond
	start := time.Now()
	r, err := probe.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(text(t, r))
	var where []string
	for _, f := range r.Findings {
		if f.Check == "probe.portal" {
			where = append(where, f.Where)
			where = append(where, f.Others...)
		}
	}
	if all := strings.Join(where, " "); all != frozen.Portal {
		t.Errorf("probe.portal findings at %q; expected %s", all, frozen.Portal)
	}
	if len(r.Targets) != 1 || len(r.Targets[0].Portals[0].LUs) == 0 {
		t.Errorf("the answering head was not probed: %+v", r.Targets)
	}
	// Logins at the good portal go on; the whole probe is bounded by the
	// timeouts (a few waits of 500 ms), not hung.
	if el := time.Since(start); el > 20*cfg.Timeout {
		t.Errorf("took %s with a %s timeout", el, cfg.Timeout)
	}
}

// A head that redirects the target's logins to the other head: the probe
// follows, shows where it was sent, and lists the other head's LUN.
func TestProbeRedirect(t *testing.T) {
	lab := iscsitest.NewLab(t)
	a, b := lab.StartTgtd(), lab.StartTgtd()
	a.AddTarget(secure("lbprb-head-a", "LBPRBSNA"))
	b.AddTarget(secure("lbprb-head-b", "LBPRBSNB"))
	host, port, _ := net.SplitHostPort(b.Portal)
	for k, v := range map[string]string{"RedirectAddress": host, "RedirectPort": port, "RedirectReason": "Temporary"} {
		a.Adm("--op", "update", "--mode", "target", "--tid", "1", "-n", k, "-v", v)
	}
	r, err := probe.Run(context.Background(), config(lab, a.Portal))
	if err != nil {
		t.Fatal(err)
	}
	out := text(t, r)
	t.Log(out)
	pr := r.Targets[0].Portals[0]
	if len(pr.Redirected) != 1 || pr.Redirected[0] != b.Portal || !strings.Contains(out, "redirected to "+b.Portal) {
		t.Errorf("redirects %v", pr.Redirected)
	}
	if len(pr.LUs) < 2 || pr.LUs[1].Serial != "LBPRBSNB" {
		t.Errorf("LUs %+v: expected head B's", pr.LUs)
	}
}
