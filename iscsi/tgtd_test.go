package iscsi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"lunbench/iscsi"
	"lunbench/iscsi/iscsitest"
)

const (
	testIQN  = "iqn.2026-11.test.lunbench:lbprb.disk1"
	initGood = "iqn.2026-11.test.lunbench:lbprb.host-a"
	initBad  = "iqn.2026-11.test.lunbench:lbprb.intruder"
	// Test secrets, 12+ characters as RFC 7143 asks of CHAP secrets.
	secretIn  = "lbprb-in-secret-1"
	secretOut = "lbprb-out-secret-2"
)

// chapTarget starts tgtd with one target that demands CHAP, allows only
// initGood, and answers mutual CHAP as user "tgt-out".
func chapTarget(t *testing.T) (*iscsitest.Lab, *iscsitest.Tgtd) {
	lab := iscsitest.NewLab(t)
	d := lab.StartTgtd()
	d.AddTarget(iscsitest.Target{
		IQN:        testIQN,
		LUs:        []iscsitest.LU{{Size: 64 << 20, SCSIID: "lbprb-id-0001", SCSISN: "LBPRBSN0001"}},
		Initiators: []string{initGood},
		User:       "host-a", Secret: secretIn,
		OutUser: "tgt-out", OutSecret: secretOut,
		Digests: true,
	})
	return lab, d
}

func opts(lab *iscsitest.Lab, init string, c *iscsi.CHAP) iscsi.Options {
	return iscsi.Options{InitiatorName: init, TargetName: testIQN, CHAP: c, Timeout: 3 * time.Second, Dialer: lab.Dialer(),
		HeaderDigest: true, DataDigest: true}
}

// Case 1: the right CHAP secret logs in and the LUN shows the scsi_id and
// scsi_sn configured in tgtd.
func TestTgtdCHAPLogin(t *testing.T) {
	lab, d := chapTarget(t)
	s, err := iscsi.Login(context.Background(), d.Portal, opts(lab, initGood, &iscsi.CHAP{User: "host-a", Secret: secretIn}))
	if err != nil {
		t.Fatalf("login: %v\ntgtd log:\n%s", err, d.Log())
	}
	defer s.Logout()
	if dg := s.Digests(); !dg.Header || !dg.Data {
		t.Errorf("digests %+v: tgtd supports CRC32C, expected both negotiated", dg)
	}
	luns, err := s.ReportLUNs()
	if err != nil {
		t.Fatal(err)
	}
	var lun1 *iscsi.LUN
	for i := range luns {
		if luns[i].Number() == 1 {
			lun1 = &luns[i]
		}
	}
	if lun1 == nil {
		t.Fatalf("REPORT LUNS %v: no LUN 1", luns)
	}
	if err := s.TestUnitReady(*lun1); err != nil {
		t.Fatal(err)
	}
	inq, err := s.Inquiry(*lun1)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := s.UnitSerial(*lun1)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.DeviceIDs(*lun1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.ReadCapacity16(*lun1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LUN 1: %+v serial %q wwid %q ids %+v capacity %+v", inq, sn, iscsi.WWID(ids), ids, c)
	if sn != "LBPRBSN0001" {
		t.Errorf("serial %q, configured LBPRBSN0001", sn)
	}
	if c.Bytes() != 64<<20 {
		t.Errorf("capacity %d bytes, configured %d", c.Bytes(), 64<<20)
	}
	rtt, err := s.Ping()
	if err != nil || rtt <= 0 {
		t.Errorf("ping: %v %v", rtt, err)
	}
}

// Case 2: a wrong secret is refused with status 0x0201.
func TestTgtdWrongSecret(t *testing.T) {
	lab, d := chapTarget(t)
	_, err := iscsi.Login(context.Background(), d.Portal, opts(lab, initGood, &iscsi.CHAP{User: "host-a", Secret: "lbprb-wrong-secret"}))
	if !iscsi.IsLoginStatus(err, iscsi.StatusAuthFailure) {
		t.Fatalf("login with a wrong secret: %v, expected status 0x0201", err)
	}
	t.Log(err)
}

// Case 3: no CHAP against a CHAP target is refused.
func TestTgtdNoCHAPRefused(t *testing.T) {
	lab, d := chapTarget(t)
	_, err := iscsi.Login(context.Background(), d.Portal, opts(lab, initGood, nil))
	var le *iscsi.LoginError
	if !errors.As(err, &le) || le.Class != 2 {
		t.Fatalf("login without CHAP: %v, expected an initiator-error status", err)
	}
	t.Log(err)
}

// Case 4: mutual CHAP with the right target secret verifies the target;
// with a wrong one the initiator refuses the target.
func TestTgtdMutualCHAP(t *testing.T) {
	lab, d := chapTarget(t)
	good := &iscsi.CHAP{User: "host-a", Secret: secretIn, TargetUser: "tgt-out", TargetSecret: secretOut}
	s, err := iscsi.Login(context.Background(), d.Portal, opts(lab, initGood, good))
	if err != nil {
		t.Fatalf("mutual CHAP: %v\n%s", err, d.Log())
	}
	s.Logout()
	bad := *good
	bad.TargetSecret = "lbprb-not-the-target"
	_, err = iscsi.Login(context.Background(), d.Portal, opts(lab, initGood, &bad))
	var ae *iscsi.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("mutual CHAP with a wrong target secret: %v, expected the target refused", err)
	}
	t.Log(err)
}

// Case 5: an initiator name outside the ACL is refused ("target not found"
// or authorization failure) and sees no target in discovery.
func TestTgtdInitiatorACL(t *testing.T) {
	lab, d := chapTarget(t)
	_, err := iscsi.Login(context.Background(), d.Portal, opts(lab, initBad, &iscsi.CHAP{User: "host-a", Secret: secretIn}))
	if !iscsi.IsLoginStatus(err, iscsi.StatusNotFound) && !iscsi.IsLoginStatus(err, iscsi.StatusAuthzFailure) {
		t.Fatalf("login as %s: %v, expected 0x0203 or 0x0202", initBad, err)
	}
	t.Log(err)
	for _, tc := range []struct {
		init string
		want int
	}{{initGood, 1}, {initBad, 0}} {
		s, err := iscsi.Login(context.Background(), d.Portal, iscsi.Options{InitiatorName: tc.init, Timeout: 3 * time.Second, Dialer: lab.Dialer()})
		if err != nil {
			t.Fatalf("discovery as %s: %v", tc.init, err)
		}
		ts, err := s.SendTargets()
		s.Logout()
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != tc.want {
			t.Errorf("discovery as %s: %+v, expected %d targets", tc.init, ts, tc.want)
		}
		if len(ts) == 1 && (ts[0].Name != testIQN || ts[0].Portals[0].Addr != d.Portal || ts[0].Portals[0].TPGT != "1") {
			t.Errorf("discovery as %s: %+v", tc.init, ts)
		}
	}
}

// Case 7: a portal that accepts TCP and then says nothing ends in a
// timeout, not a hang.
func TestTgtdSilentPortal(t *testing.T) {
	lab, d := chapTarget(t)
	d.Stop()
	o := opts(lab, initGood, nil)
	o.Timeout = 500 * time.Millisecond
	start := time.Now()
	_, err := iscsi.Login(context.Background(), d.Portal, o)
	var te *iscsi.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("login to a stopped tgtd: %v, expected a timeout", err)
	}
	if el := time.Since(start); el > 10*o.Timeout {
		t.Errorf("gave up after %s, timeout %s", el, o.Timeout)
	}
	t.Log(err)
}
