package iscsi

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Inquiry is the standard INQUIRY data probe reports.
type Inquiry struct {
	Qualifier  byte   `json:"qualifier"`
	DeviceType byte   `json:"device_type"`
	Vendor     string `json:"vendor"`
	Product    string `json:"product"`
	Revision   string `json:"revision"`
}

func inquiryCDB(evpd bool, page byte, alloc int) []byte {
	cdb := make([]byte, 6)
	cdb[0] = 0x12
	if evpd {
		cdb[1] = 1
	}
	cdb[2] = page
	binary.BigEndian.PutUint16(cdb[3:], uint16(alloc))
	return cdb
}

// Inquiry sends a standard INQUIRY.
func (s *Session) Inquiry(lun LUN) (Inquiry, error) {
	b, err := s.Command(lun, inquiryCDB(false, 0, 96), 96, "INQUIRY")
	if err != nil {
		return Inquiry{}, err
	}
	return parseInquiry(b)
}

func parseInquiry(b []byte) (Inquiry, error) {
	if len(b) < 36 {
		return Inquiry{}, fmt.Errorf("INQUIRY: %d bytes, expected 36 at least", len(b))
	}
	return Inquiry{
		Qualifier:  b[0] >> 5,
		DeviceType: b[0] & 0x1f,
		Vendor:     strings.TrimSpace(string(b[8:16])),
		Product:    strings.TrimSpace(string(b[16:32])),
		Revision:   strings.TrimSpace(string(b[32:36])),
	}, nil
}

// vpd reads one VPD page and returns its payload (after the 4-byte header).
func (s *Session) vpd(lun LUN, page byte, name string) ([]byte, error) {
	const alloc = 1024
	b, err := s.Command(lun, inquiryCDB(true, page, alloc), alloc, name)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 || b[1] != page {
		return nil, fmt.Errorf("%s: answer of %d bytes is not page 0x%02x", name, len(b), page)
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	return b[4:min(len(b), 4+n)], nil
}

// UnitSerial reads VPD page 0x80, the unit serial number.
func (s *Session) UnitSerial(lun LUN) (string, error) {
	b, err := s.vpd(lun, 0x80, "INQUIRY VPD 0x80")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.TrimRight(string(b), "\x00")), nil
}

// Designator is one identification descriptor of VPD page 0x83.
type Designator struct {
	CodeSet     byte   `json:"code_set"`
	Association byte   `json:"association"`
	Type        byte   `json:"type"`
	Value       []byte `json:"value"`
}

// DeviceIDs reads VPD page 0x83, the device identification.
func (s *Session) DeviceIDs(lun LUN) ([]Designator, error) {
	b, err := s.vpd(lun, 0x83, "INQUIRY VPD 0x83")
	if err != nil {
		return nil, err
	}
	return parseDesignators(b), nil
}

func parseDesignators(b []byte) []Designator {
	var out []Designator
	for len(b) >= 4 {
		n := int(b[3])
		if 4+n > len(b) {
			break
		}
		out = append(out, Designator{
			CodeSet:     b[0] & 0x0f,
			Association: (b[1] >> 4) & 0x03,
			Type:        b[1] & 0x0f,
			Value:       append([]byte(nil), b[4:4+n]...),
		})
		b = b[4+n:]
	}
	return out
}

// Designator types (SPC-4 table 459) that WWID uses.
const (
	desigVendor = 0x0
	desigT10    = 0x1
	desigEUI64  = 0x2
	desigNAA    = 0x3
	desigName   = 0x8
)

// WWID returns the identifier multipath shows for the LU (udev's
// ID_SERIAL), built from VPD 0x83 the way sg3_utils' 55-scsi-sg3_id.rules
// and udev's scsi_id do: the logical unit's NAA designator (IEEE registered
// extended, 6, before 5, 2 and 3) as "3" + hex, else EUI-64 as "2" + hex,
// else a SCSI name string as "8" + name, else the T10 vendor
// identification as "1" + its words joined by '_', else a vendor-specific
// one as "0". Port and target designators are not the LU's and are
// skipped. It returns "" when the page has none of these.
func WWID(ds []Designator) string {
	naaRank := map[byte]int{6: 0, 5: 1, 2: 2, 3: 3}
	best, bestRank := -1, 100
	for i, d := range ds {
		if d.Association != 0 {
			continue // a port or target designator: not the LU's
		}
		rank := 100
		switch d.Type {
		case desigNAA:
			if len(d.Value) > 0 {
				if r, ok := naaRank[d.Value[0]>>4]; ok {
					rank = r
				} else {
					rank = 4
				}
			}
		case desigEUI64:
			rank = 10
		case desigName:
			rank = 11
		case desigT10:
			rank = 12
		case desigVendor:
			rank = 13
		}
		if rank < bestRank {
			best, bestRank = i, rank
		}
	}
	if best < 0 {
		return ""
	}
	d := ds[best]
	switch d.Type {
	case desigNAA:
		return "3" + hex.EncodeToString(d.Value)
	case desigEUI64:
		return "2" + hex.EncodeToString(d.Value)
	case desigName:
		return "8" + strings.TrimRight(string(d.Value), "\x00")
	case desigT10:
		return "1" + strings.Join(strings.Fields(strings.TrimRight(string(d.Value), "\x00")), "_")
	}
	if d.CodeSet == 1 {
		return "0" + hex.EncodeToString(d.Value)
	}
	return "0" + strings.TrimSpace(string(d.Value))
}
