package remote

import (
	"context"
	"path/filepath"
	"testing"

	"lunbench/report"
)

// TestVerifyOnAgents: a verified write phase with a drill on two hosts:
// each agent stamps its writes, keeps its generation map without a results
// directory of its own, and runs the verify pass after the drill and at
// the phase's end; the merged run holds every host's passes, and the
// report's drills table host by host says who lost writes (nobody).
func TestVerifyOnAgents(t *testing.T) {
	d := diskDir(t)
	sc := parse(t, `name: verify
hosts: [{name: h1}, {name: h2}]
targets:
  - {name: a, path: `+filepath.Join(d, "a.dat")+`, size: 4MiB, host: h1, allow_write: true}
  - {name: b, path: `+filepath.Join(d, "b.dat")+`, size: 4MiB, host: h2, allow_write: true}
phases:
  - name: p
    rw: randwrite
    bs: 4k
    qd: 2
    duration: 8s # the pass after the drill waits for I/O to flow again: room for it
    verify: true
    drills:
      - {name: blip, at: 1s, inject: "true", recover: {command: "true", at: 500ms}, expect: {lost_writes: "== 0"}}
`)
	out, dir := run(t, context.Background(), sc, nil, false)
	if out.Run.Status != "finished" || out.Run.Verdict != report.Pass {
		t.Fatalf("status %s verdict %s: %s", out.Run.Status, out.Run.Verdict, out.Run.Error)
	}
	passes := map[string]int{}
	for _, v := range out.Run.Verify {
		passes[v.Target+" "+v.When]++
		if v.Blocks == 0 || v.Counts["lost"] != 0 {
			t.Errorf("verify %s %s: %d blocks, %d lost", v.Target, v.When, v.Blocks, v.Counts["lost"])
		}
	}
	for _, want := range []string{"a drill blip", "b drill blip", "a phase end", "b phase end"} {
		if passes[want] != 1 {
			t.Errorf("verify passes %v lack %q", passes, want)
		}
	}
	doc, err := report.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Criteria) != 2 {
		t.Errorf("criteria %+v: want lost_writes judged on both hosts' targets", doc.Criteria)
	}
}
