package iscsi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// The CRC32C examples of RFC 3720 appendix B.4, as the bytes sent on the wire.
func TestCRC32CVectors(t *testing.T) {
	inc, dec := make([]byte, 32), make([]byte, 32)
	for i := range inc {
		inc[i], dec[i] = byte(i), byte(31-i)
	}
	tests := []struct {
		name string
		in   []byte
		wire []byte
	}{
		// 32 bytes of zeros.
		{"zeros", make([]byte, 32), []byte{0xaa, 0x36, 0x91, 0x8a}},
		// 32 bytes of 0xff.
		{"ones", bytes.Repeat([]byte{0xff}, 32), []byte{0x43, 0xab, 0xa8, 0x62}},
		// 0x00, 0x01 ... 0x1f.
		{"incrementing", inc, []byte{0x4e, 0x79, 0xdd, 0x46}},
		// 0x1f ... 0x00.
		{"decrementing", dec, []byte{0x5c, 0xdb, 0x3f, 0x11}},
	}
	for _, tc := range tests {
		got := binary.LittleEndian.AppendUint32(nil, crc32c(tc.in))
		if !bytes.Equal(got, tc.wire) {
			t.Errorf("%s: % x, RFC says % x", tc.name, got, tc.wire)
		}
	}
}

func TestPDURoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    Digests
		ahs  []byte
		data []byte
	}{
		// No digests, no data.
		{"bare", Digests{}, nil, nil},
		// Data that needs 3 bytes of padding, both digests.
		{"padded data with digests", Digests{true, true}, nil, []byte("hello")},
		// An AHS and a header digest only.
		{"ahs", Digests{Header: true}, []byte{0, 1, 2, 3}, []byte("abcd")},
	}
	for _, tc := range tests {
		p := &PDU{AHS: tc.ahs, Data: tc.data}
		p.BHS[0] = OpNOPIn
		p.put32(16, 42)
		b, err := p.Marshal(tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if len(b)%4 != 0 {
			t.Errorf("%s: %d bytes on the wire, not a multiple of 4", tc.name, len(b))
		}
		q, err := ReadPDU(bytes.NewReader(b), tc.d, 1024)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if q.ITT() != 42 || !bytes.Equal(q.Data, tc.data) || !bytes.Equal(q.AHS, tc.ahs) {
			t.Errorf("%s: decoded %+v", tc.name, q)
		}
	}
}

func TestReadPDUErrors(t *testing.T) {
	good := func(d Digests) []byte {
		p := &PDU{Data: []byte("payload!")}
		p.BHS[0] = OpTextResp
		b, _ := p.Marshal(d)
		return b
	}
	both := Digests{true, true}
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	tests := []struct {
		name string
		in   []byte
		d    Digests
		max  int
		want error // nil: any error will do
	}{
		// A flipped header bit fails the header digest.
		{"header digest", flip(good(both), 3), both, 1024, ErrDigest},
		// A flipped data bit fails the data digest.
		{"data digest", flip(good(both), BHSLen+4+1), both, 1024, ErrDigest},
		// A connection closed mid-BHS is a short read.
		{"short BHS", good(both)[:20], both, 1024, io.ErrUnexpectedEOF},
		// Closed mid-data.
		{"short data", good(Digests{})[:BHSLen+3], Digests{}, 1024, io.ErrUnexpectedEOF},
		// A data segment longer than declared is refused before allocation.
		{"too long", good(Digests{}), Digests{}, 4, nil},
	}
	for _, tc := range tests {
		_, err := ReadPDU(bytes.NewReader(tc.in), tc.d, tc.max)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, expected %v", tc.name, err, tc.want)
		}
	}
}

func TestParseKeys(t *testing.T) {
	tests := []struct {
		in   string
		want Keys
		bad  bool
	}{
		// Two pairs, NUL-terminated.
		{"A=1\x00B=x=y\x00", Keys{{"A", "1"}, {"B", "x=y"}}, false},
		// No final NUL.
		{"A=1", Keys{{"A", "1"}}, false},
		// Empty segment.
		{"", nil, false},
		// A pair without '='.
		{"A\x00", nil, true},
		// An empty key.
		{"=v\x00", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseKeys([]byte(tc.in))
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if !tc.bad && len(got) != len(tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
		for i := range tc.want {
			if !tc.bad && got[i] != tc.want[i] {
				t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func FuzzReadPDU(f *testing.F) {
	p := &PDU{Data: []byte("TargetName=iqn.x\x00")}
	p.BHS[0] = OpTextResp
	b, _ := p.Marshal(Digests{true, true})
	f.Add(b, true, true)
	b, _ = p.Marshal(Digests{})
	f.Add(b, false, false)
	f.Fuzz(func(t *testing.T, in []byte, hd, dd bool) {
		p, err := ReadPDU(bytes.NewReader(in), Digests{hd, dd}, 4096)
		if err != nil {
			return
		}
		if len(p.Data) > 4096 {
			t.Fatalf("accepted %d bytes of data", len(p.Data))
		}
		parseAsync(p)
		ParseKeys(p.Data)
		senseError("X", 2, p.Data)
	})
}

func FuzzParsers(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x00, 0x83, 0x00, 0x08, 0x01, 0x03, 0x00, 0x04, 0x60, 0x01, 0x02, 0x03})
	f.Fuzz(func(t *testing.T, in []byte) {
		parseReportLUNs(in)
		parseInquiry(in)
		ds := parseDesignators(in)
		WWID(ds)
		ks, _ := ParseKeys(in)
		parseSendTargets(ks, "p:3260")
		st := &chapState{c: &CHAP{User: "u", Secret: "s", TargetSecret: "t"}}
		st.answer(ks)
		st.verify(ks)
		decodeBinary(string(in))
	})
}

// The codec's cost per 8 KiB Data-In PDU with both digests, the figure to
// watch if the client ever carries I/O rather than probes.
func BenchmarkPDUDigests(b *testing.B) {
	p := &PDU{Data: make([]byte, 8192)}
	p.BHS[0] = OpDataIn
	d := Digests{true, true}
	wire, _ := p.Marshal(d)
	r := bytes.NewReader(wire)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		r.Reset(wire)
		if _, err := ReadPDU(r, d, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}
