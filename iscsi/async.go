package iscsi

import (
	"encoding/binary"
	"fmt"
)

// AsyncEvent is an Async message (RFC 7143 section 11.9).
type AsyncEvent struct {
	Code  byte // AsyncEvent
	VCode byte // AsyncVCode
	Param [3]uint16
	// Sense is the sense data of a SCSI async event (code 0).
	Sense []byte
}

// Fatal reports whether the event ends what is going on: the target asks
// for a logout (1), drops the connection (2) or all of them (3).
func (e AsyncEvent) Fatal() bool { return e.Code >= 1 && e.Code <= 3 }

func (e AsyncEvent) String() string {
	switch e.Code {
	case 0:
		return "SCSI async event"
	case 1:
		return fmt.Sprintf("target requests logout within %d s", e.Param[2])
	case 2:
		return fmt.Sprintf("target will drop the connection (Time2Wait %d s, Time2Retain %d s)", e.Param[1], e.Param[2])
	case 3:
		return fmt.Sprintf("target will drop all connections of the session (Time2Wait %d s, Time2Retain %d s)", e.Param[1], e.Param[2])
	case 4:
		return "target requests parameter negotiation"
	case 5:
		return "target requests task termination"
	case 255:
		return fmt.Sprintf("vendor-specific async event (code 0x%02x)", e.VCode)
	}
	return fmt.Sprintf("async event %d", e.Code)
}

func parseAsync(p *PDU) AsyncEvent {
	ev := AsyncEvent{Code: p.BHS[36], VCode: p.BHS[37]}
	for i := range ev.Param {
		ev.Param[i] = binary.BigEndian.Uint16(p.BHS[38+2*i:])
	}
	if len(p.Data) > 2 {
		n := int(binary.BigEndian.Uint16(p.Data))
		ev.Sense = p.Data[2:min(len(p.Data), 2+n)]
	}
	return ev
}
