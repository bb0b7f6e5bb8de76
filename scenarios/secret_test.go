package scenarios

import (
	"strings"
	"testing"
)

// TestMarshalKeepsSecretsOut checks that a secret handed to a drill command
// through the environment is used to run it but never written back out.
func TestMarshalKeepsSecretsOut(t *testing.T) {
	src := `
name: s
targets: [{name: t, path: /dev/null, allow_write: true}]
phases:
  - name: p
    rw: randrw
    bs: 4k
    duration: 10s
    drills:
      - name: d
        at: 2s
        inject: "iscsiadm -m node -o update -n node.session.auth.password -v ${CHAP_SECRET}"
        recover: {command: "restore --token=${TOKEN}", at: 1s}
`
	env := map[string]string{"CHAP_SECRET": "hunter2-chap", "TOKEN": "tok-s3cr3t"}
	sc, err := Parse("s.yaml", []byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	d := sc.Phases[0].Drills[0]
	if !strings.Contains(d.Inject, "hunter2-chap") || !strings.Contains(d.Recover.Command, "tok-s3cr3t") {
		t.Fatalf("commands not expanded for running: %q %q", d.Inject, d.Recover.Command)
	}
	out, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2-chap") || strings.Contains(string(out), "tok-s3cr3t") {
		t.Fatalf("a secret reached the marshalled scenario:\n%s", out)
	}
	if !strings.Contains(string(out), "${CHAP_SECRET}") {
		t.Fatalf("the command's source form is missing:\n%s", out)
	}
}
