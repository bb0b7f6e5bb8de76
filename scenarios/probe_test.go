package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const probeScenario = `name: acl
targets:
  - name: lun0
    path: /dev/x
    probe:
      portals: [198.18.0.10, "198.18.0.11:3260"]
      target: iqn.2026-11.test:lbprb.ha
      allowed: [iqn.2026-11.test:host-a]
      refused: [iqn.2026-11.test:intruder]
      chap: true
      mutual_chap: true
      chap_user: host-a
      chap_secret_env: LB_CHAP
      target_user: tgt
      target_secret_env: LB_TARGET
      luns: 1
      wwid: [360000000000000000e00000000010001]
      pings: 50
      timeout: 2s
    criteria:
      probe_errors: "== 0"
phases:
  - name: p
    rw: read
    bs: 4k
    duration: 10s
    drills:
      - name: vip-move
        at: 2s
        inject: "true"
        probe_login: true
`

func TestProbeBlock(t *testing.T) {
	sc, err := Parse("s.yaml", []byte(probeScenario), nil)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	want := &TargetProbe{
		Portals: []string{"198.18.0.10", "198.18.0.11:3260"}, Target: "iqn.2026-11.test:lbprb.ha",
		Allowed: []string{"iqn.2026-11.test:host-a"}, Refused: []string{"iqn.2026-11.test:intruder"},
		CHAP: &yes, MutualCHAP: true, CHAPUser: "host-a", CHAPSecretEnv: "LB_CHAP", TargetUser: "tgt", TargetSecretEnv: "LB_TARGET",
		LUNs: 1, WWIDs: []string{"360000000000000000e00000000010001"}, Pings: 50, Timeout: 2 * time.Second,
	}
	if got := sc.Targets[0].Probe; !reflect.DeepEqual(got, want) {
		t.Errorf("probe %+v\nwant %+v", got, want)
	}
	// The resolved scenario keeps the block, and loads back the same.
	out, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("back.yaml", out, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back.Targets[0].Probe, want) {
		t.Errorf("round trip: %+v", back.Targets[0].Probe)
	}
	if !sc.Phases[0].Drills[0].ProbeLogin || !back.Phases[0].Drills[0].ProbeLogin {
		t.Error("probe_login lost")
	}
}

func TestProbeBlockErrors(t *testing.T) {
	base := "name: acl\ntargets:\n  - name: lun0\n    path: /dev/x\n    probe:\n%s\nphases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n"
	tests := []struct {
		name, block, want string
	}{
		// portals is required.
		{"no portals", "      chap: true", `s.yaml:6:7: probe of target "lun0" needs portals`},
		// A secret written where its variable's name belongs.
		{"secret inline", "      portals: [h]\n      chap_user: u\n      chap_secret_env: \"s3cr3t!\"", `s.yaml:8:24: chap_secret_env in probe of target "lun0" must name an environment variable`},
		// A user without the variable of its secret.
		{"user alone", "      portals: [h]\n      chap_user: u", `s.yaml:7:7: chap_user in probe of target "lun0" needs chap_secret_env`},
		// Mutual CHAP without the target's secret.
		{"mutual alone", "      portals: [h]\n      chap_user: u\n      chap_secret_env: V\n      mutual_chap: true", `s.yaml:9:7: mutual_chap in probe of target "lun0" needs`},
		// Not an iSCSI name.
		{"bad iqn", "      portals: [h]\n      refused: [host-b]", `s.yaml:7:17: refused in probe of target "lun0": "host-b" is not an iSCSI name`},
	}
	// probe_login on a drill whose phase has no target with a probe: block.
	src := "name: a\ntargets: [{name: t, path: /dev/x}]\nphases:\n  - name: p\n    rw: read\n    bs: 4k\n    duration: 5s\n    drills: [{name: d, at: 1s, inject: \"true\", probe_login: true}]\n"
	if _, err := Parse("s.yaml", []byte(src), nil); err == nil || !strings.Contains(err.Error(), "s.yaml:8:48: probe_login in drill \"d\" needs a target") {
		t.Errorf("probe_login without probe: %v", err)
	}
	// login_back on a drill without probe_login.
	src = strings.Replace(probeScenario, "        probe_login: true\n", "        expect: {login_back: \"<= 10s\"}\n", 1)
	if _, err := Parse("s.yaml", []byte(src), nil); err == nil || !strings.Contains(err.Error(), "login_back in expect of drill \"vip-move\" is measured by the login watch: add probe_login: true") {
		t.Errorf("login_back without probe_login: %v", err)
	}
	for _, tc := range tests {
		_, err := Parse("s.yaml", []byte(strings.Replace(base, "%s", tc.block, 1)), nil)
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %s", tc.name, err, tc.want)
		}
	}
}
