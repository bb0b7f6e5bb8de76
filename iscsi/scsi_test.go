package iscsi

import "testing"

func TestWWID(t *testing.T) {
	naa6 := Designator{CodeSet: 1, Type: desigNAA, Value: []byte{0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb0, 0x0b, 0, 0xd0, 0, 1}}
	naa3 := Designator{CodeSet: 1, Type: desigNAA, Value: []byte{0x30, 0, 0, 1, 0, 0, 0, 1}}
	t10 := Designator{CodeSet: 2, Type: desigT10, Value: []byte("IET     lbprb 01\x00\x00")}
	port := Designator{CodeSet: 1, Association: 1, Type: desigNAA, Value: []byte{0x50, 1, 2, 3, 4, 5, 6, 7}}
	eui := Designator{CodeSet: 1, Type: desigEUI64, Value: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	tests := []struct {
		ds   []Designator
		want string
	}{
		// tgtd's page: T10 vendor, NAA 3 and NAA 6; scsi_id takes NAA 6.
		{[]Designator{t10, naa3, naa6}, "360000000000000000000b00b00d00001"},
		// NAA 3 beats T10 vendor.
		{[]Designator{t10, naa3}, "33000000100000001"},
		// A target port's NAA is not the LU's: EUI-64 wins.
		{[]Designator{port, eui}, "20102030405060708"},
		// T10 vendor only: "1" + the fields joined by '_'.
		{[]Designator{t10}, "1IET_lbprb_01"},
		// Nothing usable.
		{[]Designator{port}, ""},
	}
	for i, tc := range tests {
		if got := WWID(tc.ds); got != tc.want {
			t.Errorf("row %d: %q, want %q", i, got, tc.want)
		}
	}
}

func TestLUNNumber(t *testing.T) {
	tests := []struct {
		n uint16
		b [2]byte
	}{
		// Peripheral addressing up to 255.
		{1, [2]byte{0, 1}},
		// Flat addressing above.
		{300, [2]byte{0x41, 0x2c}},
	}
	for _, tc := range tests {
		l := LUNFromNumber(tc.n)
		if l[0] != tc.b[0] || l[1] != tc.b[1] || l.Number() != tc.n {
			t.Errorf("%d: % x", tc.n, l[:2])
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		// An IQN as open-iscsi makes them.
		{"iqn.1993-08.org.debian:01:db1", true},
		// COMSTAR's form.
		{"iqn.2010-08.org.illumos:02:3a5e5b8c-hydra", true},
		// EUI-64.
		{"eui.02004567A425678D", true},
		// No type prefix.
		{"host-a", false},
		// A date without the month.
		{"iqn.2026.org.x", false},
		// Uppercase in the domain part is not in the normalized form.
		{"iqn.2026-01.Org.x", false},
	}
	for _, tc := range tests {
		if err := ValidName(tc.name); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
