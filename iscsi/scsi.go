package iscsi

import (
	"encoding/binary"
	"fmt"
)

// LUN is a logical unit number as REPORT LUNS gives it: the 8-byte SAM
// encoding, sent back as is in commands.
type LUN [8]byte

// Number decodes peripheral (00b) and flat (01b) single-level LUNs; other
// forms are returned as their first two bytes.
func (l LUN) Number() uint16 {
	switch l[0] >> 6 {
	case 0, 1:
		return uint16(l[0]&0x3f)<<8 | uint16(l[1])
	}
	return binary.BigEndian.Uint16(l[:2])
}

// LUNFromNumber encodes n the way Linux does: peripheral up to 255, flat
// above.
func LUNFromNumber(n uint16) LUN {
	var l LUN
	if n < 256 {
		l[1] = byte(n)
	} else {
		l[0] = 0x40 | byte(n>>8)&0x3f
		l[1] = byte(n)
	}
	return l
}

// Command runs one SCSI command that reads at most alloc bytes (or none)
// and returns the data the target sent. A status other than GOOD is a
// *SenseError.
func (s *Session) Command(lun LUN, cdb []byte, alloc int, name string) ([]byte, error) {
	if len(cdb) > 16 {
		return nil, fmt.Errorf("%s: CDB of %d bytes (16 at most)", name, len(cdb))
	}
	if !s.windowOpen() {
		return nil, fmt.Errorf("%s: %s: the target's command window is closed (CmdSN %d > MaxCmdSN %d)", s.portal, name, s.cmdSN, s.maxCmdSN)
	}
	itt := s.nextITT()
	p := &PDU{}
	p.BHS[0] = OpSCSICommand
	p.BHS[1] = 0x80 | 0x01 // F, simple task attribute
	if alloc > 0 {
		p.BHS[1] |= 0x40 // R
	}
	copy(p.BHS[8:16], lun[:])
	p.put32(16, itt)
	p.put32(20, uint32(alloc))
	p.put32(24, s.cmdSN)
	p.put32(28, s.expStatSN)
	copy(p.BHS[32:48], cdb)
	if err := s.send(p, name); err != nil {
		return nil, err
	}
	s.cmdSN++
	return s.dataIn(itt, alloc, name)
}

// dataIn gathers a command's Data-In PDUs at their offsets until the status
// arrives, in the last Data-In (S bit) or in a SCSI Response.
func (s *Session) dataIn(itt uint32, alloc int, name string) ([]byte, error) {
	buf := make([]byte, alloc)
	got := 0
	for {
		r, err := s.recvFor(itt, name+" response")
		if err != nil {
			return nil, err
		}
		switch r.Opcode() {
		case OpDataIn:
			off := int(r.u32(40))
			if off < 0 || off+len(r.Data) > alloc {
				return nil, fmt.Errorf("%s: %s: Data-In at offset %d, %d bytes, beyond the %d asked", s.portal, name, off, len(r.Data), alloc)
			}
			copy(buf[off:], r.Data)
			got = max(got, off+len(r.Data))
			if r.BHS[1]&0x01 != 0 { // S: status in this PDU
				if st := r.BHS[3]; st != 0 {
					return nil, &SenseError{Op: name, Status: st}
				}
				return buf[:got], nil
			}
		case OpSCSIResponse:
			if r.BHS[2] != 0 {
				return nil, fmt.Errorf("%s: %s: target failure (response 0x%02x)", s.portal, name, r.BHS[2])
			}
			if st := r.BHS[3]; st != 0 {
				return nil, senseError(name, st, r.Data)
			}
			return buf[:got], nil
		default:
			return nil, fmt.Errorf("%s: %s: got opcode 0x%02x, expected Data-In or a SCSI Response", s.portal, name, r.Opcode())
		}
	}
}

// senseError decodes the sense data of a SCSI Response (a 2-byte length,
// then fixed or descriptor format sense).
func senseError(op string, status byte, data []byte) *SenseError {
	e := &SenseError{Op: op, Status: status}
	if len(data) < 2 {
		return e
	}
	n := int(binary.BigEndian.Uint16(data))
	sense := data[2:min(len(data), 2+n)]
	if len(sense) < 1 {
		return e
	}
	switch sense[0] & 0x7f {
	case 0x70, 0x71:
		if len(sense) >= 14 {
			e.Key, e.ASC, e.ASCQ = sense[2]&0x0f, sense[12], sense[13]
		}
	case 0x72, 0x73:
		if len(sense) >= 4 {
			e.Key, e.ASC, e.ASCQ = sense[1]&0x0f, sense[2], sense[3]
		}
	}
	return e
}

// retryUA runs a command again while it fails with UNIT ATTENTION, which
// a new session's first commands may get (power on, LUNs changed).
func (s *Session) retryUA(lun LUN, cdb []byte, alloc int, name string) ([]byte, error) {
	var err error
	for range 4 {
		var b []byte
		b, err = s.Command(lun, cdb, alloc, name)
		if se, ok := err.(*SenseError); ok && se.Key == 0x6 {
			continue
		}
		return b, err
	}
	return nil, err
}

// ReportLUNs lists the logical units the session may see.
func (s *Session) ReportLUNs() ([]LUN, error) {
	const alloc = 16 + 8*1024
	cdb := make([]byte, 12)
	cdb[0] = 0xa0
	binary.BigEndian.PutUint32(cdb[6:], alloc)
	b, err := s.retryUA(LUN{}, cdb, alloc, "REPORT LUNS")
	if err != nil {
		return nil, err
	}
	return parseReportLUNs(b)
}

func parseReportLUNs(b []byte) ([]LUN, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("REPORT LUNS: %d bytes of data, expected a header of 8", len(b))
	}
	n := int(binary.BigEndian.Uint32(b)) / 8
	var out []LUN
	for i := 0; i < n && 8+8*i+8 <= len(b); i++ {
		var l LUN
		copy(l[:], b[8+8*i:])
		out = append(out, l)
	}
	return out, nil
}

// TestUnitReady sends TEST UNIT READY.
func (s *Session) TestUnitReady(lun LUN) error {
	_, err := s.retryUA(lun, make([]byte, 6), 0, "TEST UNIT READY")
	return err
}

// Capacity is what READ CAPACITY(16) returns.
type Capacity struct {
	Blocks    uint64 `json:"blocks"`
	BlockSize uint32 `json:"block_size"`
}

// Bytes returns the capacity in bytes.
func (c Capacity) Bytes() uint64 { return c.Blocks * uint64(c.BlockSize) }

// ReadCapacity16 sends READ CAPACITY(16).
func (s *Session) ReadCapacity16(lun LUN) (Capacity, error) {
	const alloc = 32
	cdb := make([]byte, 16)
	cdb[0], cdb[1] = 0x9e, 0x10
	binary.BigEndian.PutUint32(cdb[10:], alloc)
	b, err := s.retryUA(lun, cdb, alloc, "READ CAPACITY(16)")
	if err != nil {
		return Capacity{}, err
	}
	if len(b) < 12 {
		return Capacity{}, fmt.Errorf("READ CAPACITY(16): %d bytes, expected 12 at least", len(b))
	}
	return Capacity{Blocks: binary.BigEndian.Uint64(b) + 1, BlockSize: binary.BigEndian.Uint32(b[8:])}, nil
}
