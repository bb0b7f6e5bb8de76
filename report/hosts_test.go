package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lunbench/workload"
	"lunbench/workload/verify"
)

// TestHostsSection: a run over several hosts gets a Hosts section with the
// hosts table, the all-hosts aggregates and each drill host by host (who
// stalled, for how long, who lost writes); a run on one host gets none.
func TestHostsSection(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	r := &RunJSON{Start: t0, Extra: map[string]json.RawMessage{
		"hosts": json.RawMessage(`[{"name":"web1","ssh":"root@198.18.0.21","status":"finished","clock":{"offset_ns":5000000000,"uncertainty_ns":11000},"data_end":"2026-11-27T10:01:00Z","targets":["a"],"preflight_errors":1,"preflight_warnings":2},
			{"name":"web2","status":"lost","clock":{},"data_end":"2026-11-27T10:00:30Z","error":"the agent's channel closed","targets":["b"]}]`),
		"aggregate": json.RawMessage(`[{"phase":"p","op":"read","hosts":["web1","web2"],"iops":3000,"bytes_per_sec":12288000,"latency":{"p50_ns":1000000,"p99_ns":20000000,"p99_9_ns":30000000,"max_ns":40000000}}]`),
	},
		Drills: []workload.DrillResult{{Phase: "p", Name: "vip", Targets: []workload.DrillTarget{
			{Target: "a", Stalled: true, Stall: 2 * time.Second, Resumed: true, Resume: 2100 * time.Millisecond},
			{Target: "b", Errors: 3}}}},
		Verify: []verify.Summary{{Target: "a", When: "drill vip", Counts: map[string]uint64{"lost": 0}}, {Target: "b", When: "drill vip", Counts: map[string]uint64{"lost": 7}}},
	}
	h := hostsSection(r, t0)
	var b strings.Builder
	(&doc{Hosts: h}).markdownHosts(&b)
	md := b.String()
	for _, want := range []string{
		"| web1 | root@198.18.0.21 | finished | a | 5s ± 11µs | 01:00 | 1 / 2 | - |",
		"| web2 | - | lost | b | - | 00:30 | 0 / 0 | the agent's channel closed |",
		"| p | read | web1, web2 | 3000 | 11.7 | 1ms | 20ms | 30ms | 40ms | 0 |",
		"| p | vip | web1 | a | 2s | 2.1s | 0 | 0 |",
		"| p | vip | web2 | b | no | - | 3 | 7 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("section lacks %q:\n%s", want, md)
		}
	}
	if hostsSection(&RunJSON{}, t0) != nil {
		t.Error("a run on one host got a Hosts section")
	}
}
