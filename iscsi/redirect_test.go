package iscsi_test

import (
	"context"
	"net"
	"testing"

	"lunbench/iscsi"
	"lunbench/iscsi/iscsitest"
)

// A real tgtd login redirect, as an HA pair sends one after moving a
// target: head A redirects the target to head B, where it lives. The login
// follows it, and the LUN is B's.
func TestTgtdRedirect(t *testing.T) {
	lab := iscsitest.NewLab(t)
	a, b := lab.StartTgtd(), lab.StartTgtd()
	a.AddTarget(iscsitest.Target{IQN: testIQN, LUs: []iscsitest.LU{{Size: 8 << 20, SCSISN: "LBPRBHEADA"}}})
	b.AddTarget(iscsitest.Target{IQN: testIQN, LUs: []iscsitest.LU{{Size: 8 << 20, SCSISN: "LBPRBHEADB"}}})
	host, port, _ := net.SplitHostPort(b.Portal)
	a.Adm("--op", "update", "--mode", "target", "--tid", "1", "-n", "RedirectAddress", "-v", host)
	a.Adm("--op", "update", "--mode", "target", "--tid", "1", "-n", "RedirectPort", "-v", port)
	a.Adm("--op", "update", "--mode", "target", "--tid", "1", "-n", "RedirectReason", "-v", "Temporary")
	s, err := iscsi.Login(context.Background(), a.Portal, opts(lab, initGood, nil))
	if err != nil {
		t.Fatalf("login: %v\n%s", err, a.Log())
	}
	defer s.Logout()
	if s.Portal() != b.Portal || len(s.Redirects) != 1 {
		t.Fatalf("portal %s after redirects %v; expected %s", s.Portal(), s.Redirects, b.Portal)
	}
	sn, err := s.UnitSerial(iscsi.LUNFromNumber(1))
	if err != nil || sn != "LBPRBHEADB" {
		t.Errorf("serial %q, %v; expected head B's", sn, err)
	}
}
