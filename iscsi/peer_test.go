package iscsi_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lunbench/iscsi"
	"lunbench/iscsi/iscsitest"
)

// peer runs one of libiscsi's tools inside the lab, with the CHAP secret in
// LIBISCSI_CHAP_PASSWORD rather than in the URL.
func peer(t *testing.T, lab *iscsitest.Lab, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("needs %s (Debian package libiscsi-bin): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := lab.Command(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LIBISCSI_CHAP_PASSWORD="+secretIn)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The LUN list and the INQUIRY fields agree with libiscsi's iscsi-ls and
// iscsi-inq on the same tgtd target.
func TestPeerCrossCheck(t *testing.T) {
	lab, d := chapTarget(t)
	d.AddTarget(iscsitest.Target{IQN: testIQN + "2", LUs: []iscsitest.LU{
		{Size: 8 << 20, SCSIID: "lbprb-x1", SCSISN: "LBPRBX1", Vendor: "LBPRB", Product: "PEERCHECK", Revision: "42"},
		{Size: 16 << 20, SCSISN: "LBPRBX2"},
	}})
	for _, tgt := range []string{testIQN, testIQN + "2"} {
		o := opts(lab, initGood, &iscsi.CHAP{User: "host-a", Secret: secretIn})
		o.TargetName = tgt
		if tgt != testIQN {
			o.CHAP = nil
		}
		s, err := iscsi.Login(context.Background(), d.Portal, o)
		if err != nil {
			t.Fatal(err)
		}
		luns, err := s.ReportLUNs()
		if err != nil {
			t.Fatal(err)
		}
		// libiscsi offers CHAP,None: tgtd picks None where no account is bound.
		user := "host-a@"
		base := "iscsi://" + user + d.Portal + "/" + tgt
		ls := peer(t, lab, 20*time.Second, "iscsi-ls", "-s", "-i", initGood, "iscsi://"+user+d.Portal)
		var ours, theirs []string
		for _, m := range regexp.MustCompile(`(?m)^Lun:(\d+)\s+Type:(\S+)`).FindAllStringSubmatch(sectionOf(ls, tgt), -1) {
			theirs = append(theirs, m[1]+" "+m[2])
		}
		for _, l := range luns {
			inq, err := s.Inquiry(l)
			if err != nil {
				t.Fatal(err)
			}
			ours = append(ours, fmt.Sprintf("%d %s", l.Number(), typeName(inq.DeviceType)))
			out := peer(t, lab, 20*time.Second, "iscsi-inq", "-i", initGood, fmt.Sprintf("%s/%d", base, l.Number()))
			for field, want := range map[string]string{"Vendor": inq.Vendor, "Product": inq.Product, "Revision": inq.Revision} {
				if got := strings.TrimSpace(field1(out, field+":")); got != want {
					t.Errorf("%s LUN %d %s: iscsi-inq %q, ours %q", tgt, l.Number(), field, got, want)
				}
			}
			if inq.DeviceType != 0 {
				continue
			}
			sn, err := s.UnitSerial(l)
			if err != nil {
				t.Fatal(err)
			}
			out = peer(t, lab, 20*time.Second, "iscsi-inq", "-i", initGood, "-e", "1", "-c", "128", fmt.Sprintf("%s/%d", base, l.Number()))
			if got := strings.TrimSpace(strings.Trim(field1(out, "Unit Serial Number:"), "[]")); got != sn {
				t.Errorf("%s LUN %d serial: iscsi-inq %q, ours %q", tgt, l.Number(), got, sn)
			}
			ids, err := s.DeviceIDs(l)
			if err != nil {
				t.Fatal(err)
			}
			out = peer(t, lab, 20*time.Second, "iscsi-inq", "-i", initGood, "-e", "1", "-c", "131", fmt.Sprintf("%s/%d", base, l.Number()))
			var theirTypes, ourTypes []string
			for _, m := range regexp.MustCompile(`Designator Type:\((\d+)\)`).FindAllStringSubmatch(out, -1) {
				theirTypes = append(theirTypes, m[1])
			}
			for _, id := range ids {
				ourTypes = append(ourTypes, strconv.Itoa(int(id.Type)))
			}
			slices.Sort(theirTypes)
			slices.Sort(ourTypes)
			if !slices.Equal(theirTypes, ourTypes) {
				t.Errorf("%s LUN %d designator types: iscsi-inq %v, ours %v", tgt, l.Number(), theirTypes, ourTypes)
			}
			t.Logf("%s LUN %d: %+v serial %q WWID %s", tgt, l.Number(), inq, sn, iscsi.WWID(ids))
		}
		s.Logout()
		if !slices.Equal(ours, theirs) {
			t.Errorf("%s LUNs: iscsi-ls %v, ours %v", tgt, theirs, ours)
		}
	}
}

// sectionOf returns the lines iscsi-ls prints under one target.
func sectionOf(out, tgt string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Target:") {
			in = strings.HasPrefix(line, "Target:"+tgt+" ")
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func field1(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			return strings.TrimPrefix(line, prefix)
		}
	}
	return ""
}

// typeName is libiscsi's name of a SCSI device type.
func typeName(t byte) string {
	switch t {
	case 0x00:
		return "DIRECT_ACCESS"
	case 0x0c:
		return "STORAGE_ARRAY_CONTROLLER"
	}
	return fmt.Sprintf("0x%02x", t)
}

// The NOP-Out round trip against iscsi-perf's queue-depth-1 latency on the
// same target, measured alternately so both see the same load. It asserts
// only that both measured something; the figures go to the log.
func TestPeerNOPLatency(t *testing.T) {
	lab, d := chapTarget(t)
	url := "iscsi://host-a@" + d.Portal + "/" + testIQN + "/1"
	iopsRe := regexp.MustCompile(`iops average (\d+)`)
	var nops, turs []time.Duration
	var perfLat []time.Duration
	for round := range 3 {
		s, err := iscsi.Login(context.Background(), d.Portal, opts(lab, initGood, &iscsi.CHAP{User: "host-a", Secret: secretIn}))
		if err != nil {
			t.Fatal(err)
		}
		for range 500 {
			rtt, err := s.Ping()
			if err != nil {
				t.Fatal(err)
			}
			nops = append(nops, rtt)
		}
		for range 500 {
			start := time.Now()
			if err := s.TestUnitReady(iscsi.LUNFromNumber(1)); err != nil {
				t.Fatal(err)
			}
			turs = append(turs, time.Since(start))
		}
		s.Logout()
		out := peerInterrupted(t, lab, 3*time.Second, "iscsi-perf", "-i", initGood, "-m", "1", "-b", "1", url)
		m := iopsRe.FindAllStringSubmatch(out, -1)
		if len(m) == 0 {
			t.Fatalf("round %d: no iops in iscsi-perf output: %q", round, out)
		}
		iops, _ := strconv.Atoi(m[len(m)-1][1])
		if iops <= 0 {
			t.Fatalf("iscsi-perf: %d iops", iops)
		}
		perfLat = append(perfLat, time.Second/time.Duration(iops))
	}
	slices.Sort(nops)
	p50 := nops[len(nops)/2]
	p99 := nops[len(nops)*99/100]
	slices.Sort(perfLat)
	slices.Sort(turs)
	perf := perfLat[len(perfLat)/2]
	tur := turs[len(turs)/2]
	t.Logf("NOP-Out over %d pings: min %s p50 %s p99 %s; TEST UNIT READY p50 %s; iscsi-perf qd1 512 B reads, median of 3 runs of 3 s: %s per I/O (%.0f IOPS); ratios to NOP p50: TUR %.1f, iscsi-perf %.1f",
		len(nops), nops[0], p50, p99, tur, perf, float64(time.Second)/float64(perf), float64(tur)/float64(p50), float64(perf)/float64(p50))
}

// peerInterrupted runs a tool that runs until interrupted for d, then
// sends SIGINT and returns what it printed.
func peerInterrupted(t *testing.T, lab *iscsitest.Lab, d time.Duration, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("needs %s (Debian package libiscsi-bin): %v", name, err)
	}
	cmd := lab.Command(context.Background(), "timeout", append([]string{"-s", "INT", strconv.Itoa(int(d.Seconds())), name}, args...)...)
	cmd.Env = append(os.Environ(), "LIBISCSI_CHAP_PASSWORD="+secretIn)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run() // timeout exits 124 by design
	return out.String()
}
