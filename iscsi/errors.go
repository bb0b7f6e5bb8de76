package iscsi

import (
	"errors"
	"fmt"
	"time"
)

// LoginError is a login response with a status class other than success
// or redirection (RFC 7143 section 11.13.5).
type LoginError struct {
	Portal string
	Class  byte
	Detail byte
}

// Login status codes (class<<8 | detail) that probe tells apart.
const (
	StatusAuthFailure     = 0x0201
	StatusAuthzFailure    = 0x0202
	StatusNotFound        = 0x0203
	StatusTargetRemoved   = 0x0204
	StatusMissingParam    = 0x0207
	StatusSessionNotFound = 0x020a
)

// Code returns class<<8 | detail, the form the RFC and tgtd's logs use.
func (e *LoginError) Code() int { return int(e.Class)<<8 | int(e.Detail) }

func (e *LoginError) Error() string {
	return fmt.Sprintf("login to %s refused: status 0x%04x (%s)", e.Portal, e.Code(), statusText(e.Code()))
}

// statusText names the login status codes of RFC 7143 section 11.13.5.
func statusText(code int) string {
	switch code {
	case StatusAuthFailure:
		return "authentication failure"
	case StatusAuthzFailure:
		return "authorization failure"
	case StatusNotFound:
		return "target not found"
	case StatusTargetRemoved:
		return "target removed"
	case 0x0205:
		return "unsupported version"
	case 0x0206:
		return "too many connections"
	case StatusMissingParam:
		return "missing parameter"
	case 0x0208:
		return "cannot include in session"
	case 0x0209:
		return "session type not supported"
	case StatusSessionNotFound:
		return "session does not exist"
	case 0x020b:
		return "invalid request during login"
	case 0x0300:
		return "target error"
	case 0x0301:
		return "service unavailable"
	case 0x0302:
		return "out of resources"
	}
	switch code >> 8 {
	case 2:
		return "initiator error"
	case 3:
		return "target error"
	}
	return "unknown status"
}

// IsLoginStatus reports whether err is a LoginError with the given code.
func IsLoginStatus(err error, code int) bool {
	var le *LoginError
	return errors.As(err, &le) && le.Code() == code
}

// RejectError is a Reject PDU the target sent for one of ours
// (RFC 7143 section 11.17).
type RejectError struct {
	Reason byte
	Opcode byte // opcode of the rejected PDU, from the header it returns
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("target rejected a PDU (opcode 0x%02x): reason 0x%02x (%s)", e.Opcode, e.Reason, rejectText(e.Reason))
}

func rejectText(r byte) string {
	switch r {
	case 0x02:
		return "data digest error"
	case 0x03:
		return "SNACK reject"
	case 0x04:
		return "protocol error"
	case 0x05:
		return "command not supported"
	case 0x06:
		return "immediate command reject"
	case 0x07:
		return "task in progress"
	case 0x08:
		return "invalid data ack"
	case 0x09:
		return "invalid PDU field"
	case 0x0a:
		return "long operation reject"
	case 0x0c:
		return "waiting for logout"
	}
	return "reserved"
}

// AsyncError ends an operation when the target announces, by an Async
// message, that it drops the connection or the session or wants a logout.
type AsyncError struct{ Event AsyncEvent }

func (e *AsyncError) Error() string { return "target sent an async message: " + e.Event.String() }

// TimeoutError is a network wait that ran out. What says what was being
// done: "waiting for Login Response", "sending NOP-Out".
type TimeoutError struct {
	Portal string
	What   string
	After  time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: timed out after %s %s", e.Portal, e.After, e.What)
}

// Timeout makes TimeoutError satisfy net.Error's timeout test.
func (e *TimeoutError) Timeout() bool { return true }

// AuthError is a CHAP exchange the initiator refused: a target that did
// not prove itself in mutual CHAP, or a challenge the RFC forbids answering.
type AuthError struct {
	Portal string
	Reason string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("CHAP with %s refused: %s", e.Portal, e.Reason)
}

// SenseError is a SCSI command that ended with CHECK CONDITION.
type SenseError struct {
	Op               string
	Status           byte
	Key, ASC, ASCQ   byte
	Residual, Length int
}

func (e *SenseError) Error() string {
	if e.Status != 0x02 {
		return fmt.Sprintf("%s: SCSI status 0x%02x", e.Op, e.Status)
	}
	return fmt.Sprintf("%s: CHECK CONDITION, sense key 0x%x ASC/ASCQ 0x%02x/0x%02x", e.Op, e.Key, e.ASC, e.ASCQ)
}
