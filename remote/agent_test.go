package remote

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"lunbench/report"
)

// TestAgentExitsWhenStdinCloses: a real agent process says hello, answers
// a ping, and exits as soon as its stdin closes, so a dead coordinator
// leaves no agent behind.
func TestAgentExitsWhenStdinCloses(t *testing.T) {
	tr := &Local{Path: os.Args[0], Env: []string{agentEnv + "=1"}, Stderr: testLog{t, "a"}}
	s, err := tr.Start(context.Background(), Host{Name: "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := s.(*procSession).PID()
	conn := NewConn(s.Stdout(), s.Stdin())
	m, err := conn.Recv()
	if err != nil || m.Type != MsgHello || m.Proto != ProtocolVersion || m.Version != report.Version || m.PID != pid {
		t.Fatalf("hello %+v, %v (agent pid %d)", m, err, pid)
	}
	if err := conn.Send(&Msg{Type: MsgPing, Seq: 7}); err != nil {
		t.Fatal(err)
	}
	if m, err := conn.Recv(); err != nil || m.Type != MsgPong || m.Seq != 7 || m.T == 0 {
		t.Fatalf("pong %+v, %v", m, err)
	}
	closed := time.Now()
	s.Stdin().Close()
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent exit: %v", err)
		}
		t.Logf("agent exited %v after its stdin closed", time.Since(closed))
	case <-time.After(5 * time.Second):
		s.Kill()
		t.Fatal("agent still running 5 s after its stdin closed")
	}
	if err := syscallKill0(pid); err == nil {
		t.Errorf("process %d still exists", pid)
	}
}

// TestProtocolRoundTrip: snapshots and results survive the wire,
// histograms included.
func TestProtocolRoundTrip(t *testing.T) {
	sc := parse(t, "name: x\ntargets: [{name: a, path: /nonexistent/a, size: 1M}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s, drills: [{name: d, at: 500ms, inject: \"true\", recover: {command: \"true\", at: 100ms}}]}]\n")
	b, err := json.Marshal(&Msg{Type: MsgScenario, Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	var back Msg
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Scenario.Phases[0].Drills[0].Recover.At != 100*time.Millisecond || back.Scenario.Targets[0].Size != 1<<20 {
		t.Errorf("scenario changed on the wire: %+v", back.Scenario)
	}
}
