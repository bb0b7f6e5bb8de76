package iscsi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Opcodes (RFC 7143 section 11.2.1.2).
const (
	OpNOPOut       = 0x00
	OpSCSICommand  = 0x01
	OpLoginReq     = 0x03
	OpTextReq      = 0x04
	OpLogoutReq    = 0x06
	OpNOPIn        = 0x20
	OpSCSIResponse = 0x21
	OpTaskResponse = 0x22
	OpLoginResp    = 0x23
	OpTextResp     = 0x24
	OpDataIn       = 0x25
	OpLogoutResp   = 0x26
	OpR2T          = 0x31
	OpAsync        = 0x32
	OpReject       = 0x3f
)

// BHSLen is the length of a Basic Header Segment.
const BHSLen = 48

// noTag is the reserved initiator/target transfer tag 0xffffffff.
const noTag = 0xffffffff

// maxDataSegment bounds what a decoder accepts before it allocates: the
// largest MaxRecvDataSegmentLength the RFC allows (2^24-1).
const maxDataSegment = 1<<24 - 1

// crc32c is the iSCSI digest (RFC 7143 section 13.1: CRC32C, sent with
// the least significant byte first).
func crc32c(parts ...[]byte) uint32 {
	// MakeTable returns the package's own Castagnoli table (built once,
	// hardware-accelerated where the CPU has it): nothing is rebuilt here.
	tab := crc32.MakeTable(crc32.Castagnoli)
	var c uint32
	for _, p := range parts {
		c = crc32.Update(c, tab, p)
	}
	return c
}

// PDU is one iSCSI protocol data unit: the 48-byte BHS, any additional
// header segments, and the data segment without padding.
type PDU struct {
	BHS  [BHSLen]byte
	AHS  []byte
	Data []byte
}

// Opcode returns the PDU's opcode without the immediate bit.
func (p *PDU) Opcode() byte { return p.BHS[0] & 0x3f }

// Final reports the F bit.
func (p *PDU) Final() bool { return p.BHS[1]&0x80 != 0 }

// ITT returns the initiator task tag.
func (p *PDU) ITT() uint32 { return p.u32(16) }

// TTT returns the target transfer tag (bytes 20..23 in the PDUs that have one).
func (p *PDU) TTT() uint32 { return p.u32(20) }

// StatSN returns bytes 24..27, StatSN in target PDUs.
func (p *PDU) StatSN() uint32 { return p.u32(24) }

// ExpCmdSN returns bytes 28..31 of a target PDU.
func (p *PDU) ExpCmdSN() uint32 { return p.u32(28) }

// MaxCmdSN returns bytes 32..35 of a target PDU.
func (p *PDU) MaxCmdSN() uint32 { return p.u32(32) }

func (p *PDU) u32(off int) uint32 { return binary.BigEndian.Uint32(p.BHS[off:]) }

func (p *PDU) put32(off int, v uint32) { binary.BigEndian.PutUint32(p.BHS[off:], v) }

// setLengths writes TotalAHSLength and DataSegmentLength from AHS and Data.
func (p *PDU) setLengths() {
	p.BHS[4] = byte(len(p.AHS) / 4)
	n := len(p.Data)
	p.BHS[5], p.BHS[6], p.BHS[7] = byte(n>>16), byte(n>>8), byte(n)
}

func (p *PDU) dataLen() int {
	return int(p.BHS[5])<<16 | int(p.BHS[6])<<8 | int(p.BHS[7])
}

// Digests says which CRC32C digests are in force on a connection.
type Digests struct{ Header, Data bool }

func pad4(n int) int { return (n + 3) &^ 3 }

// Marshal encodes the PDU with the digests given.
func (p *PDU) Marshal(d Digests) ([]byte, error) {
	if len(p.AHS)%4 != 0 || len(p.AHS) > 255*4 {
		return nil, fmt.Errorf("AHS of %d bytes: must be a multiple of 4 up to 1020", len(p.AHS))
	}
	if len(p.Data) > maxDataSegment {
		return nil, fmt.Errorf("data segment of %d bytes: more than %d", len(p.Data), maxDataSegment)
	}
	p.setLengths()
	out := make([]byte, 0, BHSLen+len(p.AHS)+4+pad4(len(p.Data))+4)
	out = append(out, p.BHS[:]...)
	out = append(out, p.AHS...)
	if d.Header {
		out = binary.LittleEndian.AppendUint32(out, crc32c(out))
	}
	if len(p.Data) > 0 {
		start := len(out)
		out = append(out, p.Data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		if d.Data {
			out = binary.LittleEndian.AppendUint32(out, crc32c(out[start:]))
		}
	}
	return out, nil
}

// ErrDigest is wrapped by the error ReadPDU returns when a header or data
// digest does not match.
var ErrDigest = errors.New("digest mismatch")

// ReadPDU reads one PDU from r. maxData bounds the data segment it accepts
// (the MaxRecvDataSegmentLength declared to the peer); a longer one is a
// protocol error, never an allocation of what the peer claims.
func ReadPDU(r io.Reader, d Digests, maxData int) (*PDU, error) {
	p := &PDU{}
	if _, err := io.ReadFull(r, p.BHS[:]); err != nil {
		return nil, fmt.Errorf("read BHS: %w", err)
	}
	if ahs := int(p.BHS[4]) * 4; ahs > 0 {
		p.AHS = make([]byte, ahs)
		if _, err := io.ReadFull(r, p.AHS); err != nil {
			return nil, fmt.Errorf("read AHS: %w", err)
		}
	}
	if d.Header {
		var dig [4]byte
		if _, err := io.ReadFull(r, dig[:]); err != nil {
			return nil, fmt.Errorf("read header digest: %w", err)
		}
		if got, want := binary.LittleEndian.Uint32(dig[:]), crc32c(p.BHS[:], p.AHS); got != want {
			return nil, fmt.Errorf("header digest 0x%08x, computed 0x%08x: %w", got, want, ErrDigest)
		}
	}
	n := p.dataLen()
	if n == 0 {
		return p, nil
	}
	if n > maxData {
		return nil, fmt.Errorf("data segment of %d bytes exceeds the %d declared (opcode 0x%02x)", n, maxData, p.Opcode())
	}
	buf := make([]byte, pad4(n))
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("read data segment of %d bytes: %w", n, err)
	}
	if d.Data {
		var dig [4]byte
		if _, err := io.ReadFull(r, dig[:]); err != nil {
			return nil, fmt.Errorf("read data digest: %w", err)
		}
		if got, want := binary.LittleEndian.Uint32(dig[:]), crc32c(buf); got != want {
			return nil, fmt.Errorf("data digest 0x%08x, computed 0x%08x: %w", got, want, ErrDigest)
		}
	}
	p.Data = buf[:n]
	return p, nil
}
