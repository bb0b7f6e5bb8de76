package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lunbench/iscsi/iscsitest"
)

const (
	probeIQN   = "iqn.2026-11.test.lunbench:lbprb.cli"
	probeHost  = "iqn.2026-11.test.lunbench:lbprb.host-a"
	probeOther = "iqn.2026-11.test.lunbench:lbprb.intruder"
	probeIn    = "lbprb-cli-secret-in"
	probeOut   = "lbprb-cli-secret-out"
)

// probeLab starts tgtd with a CHAP, mutual-CHAP, one-initiator target, and
// builds lunbench; commands run inside the lab's namespace.
func probeLab(t *testing.T) (*iscsitest.Lab, *iscsitest.Tgtd, string) {
	lab := iscsitest.NewLab(t)
	d := lab.StartTgtd()
	d.AddTarget(iscsitest.Target{
		IQN: probeIQN, LUs: []iscsitest.LU{{Size: 32 << 20, SCSIID: "lbprb-cli", SCSISN: "LBPRBCLI1"}},
		Initiators: []string{probeHost},
		User:       "host-a", Secret: probeIn, OutUser: "tgt-out", OutSecret: probeOut,
	})
	return lab, d, buildBinary(t, t.TempDir())
}

// runIn runs lunbench in the lab with the secrets in the environment.
func runIn(t *testing.T, lab *iscsitest.Lab, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := lab.Command(context.Background(), bin, args...)
	cmd.Env = append(os.Environ(), "LBPRB_IN="+probeIn, "LBPRB_OUT="+probeOut)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

// `lunbench probe` end to end: text and JSON, exit codes, and no secret
// in any output.
func TestProbeCommand(t *testing.T) {
	lab, d, bin := probeLab(t)
	common := []string{"probe", d.Portal, "--initiator", probeHost, "--refused-initiator", probeOther,
		"--chap-user", "host-a", "--chap-secret-env", "LBPRB_IN", "--target-user", "tgt-out", "--target-secret-env", "LBPRB_OUT", "--pings", "5"}
	out, code := runIn(t, lab, bin, common...)
	t.Log(out)
	if code != 0 || !strings.Contains(out, "LBPRBCLI1") || !strings.Contains(out, "0 errors, 1 warning") {
		t.Errorf("exit %d, expected 0 with LUN serial LBPRBCLI1 and only the discovery warning", code)
	}
	js, code := runIn(t, lab, bin, append(common, "--json")...)
	var res struct {
		Summary struct{ Errors, Warnings int }
		Targets []struct{ IQN string }
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil || code != 0 || len(res.Targets) != 1 || res.Targets[0].IQN != probeIQN {
		t.Errorf("--json: exit %d, %v: %s", code, err, js)
	}
	// The intruder named as allowed: discovery shows it nothing, an error
	// and exit 1.
	bad, code := runIn(t, lab, bin, "probe", d.Portal, "--initiator", probeOther, "--chap-user", "host-a", "--chap-secret-env", "LBPRB_IN")
	if code != 1 || !strings.Contains(bad, "probe.allowed") {
		t.Errorf("intruder as allowed: exit %d\n%s", code, bad)
	}
	// A secret variable that is not set: a usage error naming it.
	miss, code := runIn(t, lab, bin, "probe", d.Portal, "--chap-user", "host-a", "--chap-secret-env", "LBPRB_NOT_SET")
	if code != 2 || !strings.Contains(miss, "LBPRB_NOT_SET") {
		t.Errorf("missing variable: exit %d: %s", code, miss)
	}
	// An open target: a login without CHAP is a warning, or with
	// --require-chap an error.
	d.AddTarget(iscsitest.Target{IQN: probeIQN + "-open", LUs: []iscsitest.LU{{Size: 8 << 20}}})
	for _, tc := range []struct {
		extra []string
		code  int
		want  string
	}{{nil, 0, "WARN  probe.no-chap"}, {[]string{"--require-chap"}, 1, "ERROR probe.no-chap"}} {
		o, code := runIn(t, lab, bin, append([]string{"probe", d.Portal, "--target", probeIQN + "-open", "--pings", "2"}, tc.extra...)...)
		if code != tc.code || !strings.Contains(o, tc.want) {
			t.Errorf("open target %v: exit %d, expected %d and %q\n%s", tc.extra, code, tc.code, tc.want, o)
		}
	}
	for _, o := range []string{out, js, bad, miss} {
		if strings.Contains(o, probeIn) || strings.Contains(o, probeOut) {
			t.Fatal("a secret reached the output")
		}
	}
}

// `lunbench run` probes before the first phase: run.json, report.md and
// the criteria see it, and no result file holds a secret.
func TestRunWithProbe(t *testing.T) {
	lab, d, bin := probeLab(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, refused string
		code          int
	}{
		// The ACL holds: the criterion passes.
		{"acl-holds", probeOther, 0},
		// The host itself listed as refused: it gets in and sees LUN 1.
		{"acl-broken", probeHost, 1},
	} {
		sc := filepath.Join(dir, tc.name+".yaml")
		src := `name: ` + tc.name + `
targets:
  - name: data
    path: ` + filepath.Join(dir, tc.name+".img") + `
    size: 8MiB
    probe:
      portals: [` + d.Portal + `]
      allowed: [` + probeHost + `]
      refused: [` + tc.refused + `]
      chap: true
      mutual_chap: true
      chap_user: host-a
      chap_secret_env: LBPRB_IN
      target_user: tgt-out
      target_secret_env: LBPRB_OUT
      luns: 1
      pings: 5
    criteria:
      probe_errors: "== 0"
phases: [{name: p, rw: randread, bs: 4k, duration: 1s}]
`
		if err := os.WriteFile(sc, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		res := filepath.Join(dir, tc.name)
		out, code := runIn(t, lab, bin, "run", sc, "--no-tui", "--out", res)
		if code != tc.code {
			t.Errorf("%s: exit %d, expected %d\n%s", tc.name, code, tc.code, out)
		}
		var run struct {
			Extra struct {
				Probe []struct {
					Target string
					Result struct{ Summary struct{ Errors int } }
				}
			}
		}
		b, err := os.ReadFile(filepath.Join(res, "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &run); err != nil || len(run.Extra.Probe) != 1 || run.Extra.Probe[0].Target != "data" {
			t.Errorf("%s: run.json extra.probe: %v %+v", tc.name, err, run.Extra)
		}
		md, _ := os.ReadFile(filepath.Join(res, "report.md"))
		if !strings.Contains(string(md), "## Target probe") || !strings.Contains(string(md), "LBPRBCLI1") {
			t.Errorf("%s: report.md has no probe section with the LUN", tc.name)
		}
		html, _ := os.ReadFile(filepath.Join(res, "report.html"))
		if !strings.Contains(string(html), "<h2>Target probe</h2>") || !strings.Contains(string(html), "<td>LBPRBCLI1</td>") {
			t.Errorf("%s: report.html has no probe section with the LUN", tc.name)
		}
		filepath.WalkDir(res, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				if c, _ := os.ReadFile(p); bytes.Contains(c, []byte(probeIn)) || bytes.Contains(c, []byte(probeOut)) {
					t.Errorf("%s holds a secret", p)
				}
			}
			return nil
		})
	}
}

// An interrupt while a portal keeps the probe waiting ends it with 130.
func TestProbeInterrupted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent: accepts and says nothing
		}
	}()
	sig := make(chan os.Signal, 1)
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- execute([]string{"probe", ln.Addr().String(), "--timeout", "30s"}, nil, &out, &errOut, sig)
	}()
	time.Sleep(200 * time.Millisecond)
	sig <- os.Interrupt
	select {
	case code := <-done:
		if code != exitInterrupted {
			t.Errorf("exit %d, expected %d: %s", code, exitInterrupted, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the probe did not stop on the interrupt")
	}
}

// A drill with probe_login: true that freezes tgtd for 1.5 s: the login
// watch sees logins fail and records when the portal answers again.
func TestRunLoginWatch(t *testing.T) {
	lab, d, bin := probeLab(t)
	dir := t.TempDir()
	pid := strconv.Itoa(d.Cmd.Process.Pid)
	src := `name: login-watch
targets:
  - name: data
    path: ` + filepath.Join(dir, "data.img") + `
    size: 8MiB
    probe:
      portals: [` + d.Portal + `]
      target: ` + probeIQN + `
      allowed: [` + probeHost + `]
      chap_user: host-a
      chap_secret_env: LBPRB_IN
      pings: 3
phases:
  - name: p
    rw: randread
    bs: 4k
    duration: 6s
    drills:
      - name: freeze
        at: 1s
        inject: "kill -STOP ` + pid + `"
        probe_login: true
        recover: {command: "kill -CONT ` + pid + `", at: 1500ms}
        expect: {login_back: "<= 4s"}
`
	sc := filepath.Join(dir, "watch.yaml")
	if err := os.WriteFile(sc, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(dir, "res")
	out, code := runIn(t, lab, bin, "run", sc, "--no-tui", "--out", res)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(res, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		Criteria []struct {
			Metric   string
			Pass     bool
			Measured float64
		}
		Extra struct {
			Logins []struct {
				Drill     string
				Failures  int
				Recovered bool
				Back      time.Duration `json:"back_ns"`
			} `json:"probe_logins"`
		}
	}
	if err := json.Unmarshal(b, &run); err != nil || len(run.Extra.Logins) != 1 {
		t.Fatalf("probe_logins: %v %+v", err, run.Extra.Logins)
	}
	w := run.Extra.Logins[0]
	t.Logf("login watch: %+v", w)
	// The recover command runs 1.5 s after the inject; a login attempt
	// takes up to its 1 s timeout, then 200 ms to the next.
	if !w.Recovered || w.Failures == 0 || w.Back < 1500*time.Millisecond || w.Back > 4*time.Second {
		t.Errorf("login watch %+v: expected failures and a recovery between 1.5 s and 4 s", w)
	}
	if len(run.Criteria) != 1 || run.Criteria[0].Metric != "login_back" || !run.Criteria[0].Pass || run.Criteria[0].Measured != w.Back.Seconds() {
		t.Errorf("criteria %+v: expected login_back measured as the watch's %s", run.Criteria, w.Back)
	}
	md, _ := os.ReadFile(filepath.Join(res, "report.md"))
	if !strings.Contains(string(md), "Logins during drills") {
		t.Error("report.md has no login-watch table")
	}
}

// Bad arguments are usage errors (exit 2) with a clear message, before any
// connection is made.
func TestProbeBadArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		// An initiator name that is no iSCSI name.
		{[]string{"probe", "192.0.2.1", "--initiator", "host-a"}, `"host-a" is not an iSCSI name`},
		// No pings.
		{[]string{"probe", "192.0.2.1", "--pings", "0"}, "--pings 0: give 1 or more"},
		// A CHAP user without the variable of its secret.
		{[]string{"probe", "192.0.2.1", "--chap-user", "u"}, `CHAP user "u" without a secret`},
		// No portal.
		{[]string{"probe"}, "requires at least 1 arg"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		code := execute(tc.args, nil, &out, &errOut, nil)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; expected 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}

// An HA takeover as a login watch sees it: head A holds the portal address
// and dies; a second later head B, exporting the same target, listens on
// that address. Logins are refused while nobody listens, then B accepts
// them: login_back is the takeover time, about 1 s here.
func TestRunLoginWatchTakeover(t *testing.T) {
	lab, a, bin := probeLab(t)
	b := lab.StartTgtd()
	b.AddTarget(iscsitest.Target{
		IQN: probeIQN, LUs: []iscsitest.LU{{Size: 32 << 20, SCSIID: "lbprb-cli", SCSISN: "LBPRBCLI1"}},
		Initiators: []string{probeHost}, User: "host-a", Secret: probeIn,
	})
	dir := t.TempDir()
	takeover := "kill -KILL " + strconv.Itoa(a.Cmd.Process.Pid) + " && sleep 1 && tgtadm -C " + strconv.Itoa(b.Ctl) +
		" --lld iscsi --op new --mode portal --param portal=" + a.Portal
	src := `name: takeover
targets:
  - name: data
    path: ` + filepath.Join(dir, "data.img") + `
    size: 8MiB
    probe:
      portals: [` + a.Portal + `]
      target: ` + probeIQN + `
      allowed: [` + probeHost + `]
      chap_user: host-a
      chap_secret_env: LBPRB_IN
      pings: 3
phases:
  - name: p
    rw: randread
    bs: 4k
    duration: 5s
    drills:
      - name: takeover
        at: 1s
        inject: "` + takeover + `"
        probe_login: true
        expect: {login_back: "<= 5s"}
`
	sc := filepath.Join(dir, "takeover.yaml")
	if err := os.WriteFile(sc, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(dir, "res")
	out, code := runIn(t, lab, bin, "run", sc, "--no-tui", "--out", res)
	b2, err := os.ReadFile(filepath.Join(res, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		Extra struct {
			Logins []struct {
				Failures  int
				Recovered bool
				Back      time.Duration `json:"back_ns"`
				LastError string        `json:"last_error"`
			} `json:"probe_logins"`
		}
	}
	if err := json.Unmarshal(b2, &run); err != nil || len(run.Extra.Logins) != 1 {
		t.Fatalf("probe_logins: %v\n%s", err, out)
	}
	w := run.Extra.Logins[0]
	t.Logf("takeover: exit %d, %+v", code, w)
	// The inject command itself takes 1 s (its sleep); B listens after it.
	if code != 0 || !w.Recovered || w.Failures == 0 || w.Back < time.Second || w.Back > 5*time.Second {
		t.Errorf("exit %d, watch %+v: expected refused logins, then B's within 1..5 s", code, w)
	}
}
