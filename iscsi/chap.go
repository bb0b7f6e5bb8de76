package iscsi

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// CHAP holds the credentials for CHAP. Secrets are never printed: String
// and %v show the user names only.
type CHAP struct {
	// User and Secret authenticate the initiator to the target.
	User, Secret string
	// TargetUser and TargetSecret, when TargetSecret is set, make the CHAP
	// mutual: the target must prove it knows TargetSecret, and TargetUser
	// (when set) must be the name it answers with.
	TargetUser, TargetSecret string
}

// Mutual reports whether the target is asked to authenticate itself.
func (c *CHAP) Mutual() bool { return c != nil && c.TargetSecret != "" }

func (c *CHAP) String() string {
	if c == nil {
		return "none"
	}
	if c.Mutual() {
		return fmt.Sprintf("mutual CHAP user %q, target user %q", c.User, c.TargetUser)
	}
	return fmt.Sprintf("CHAP user %q", c.User)
}

// GoString keeps %#v from printing the secrets.
func (c *CHAP) GoString() string { return c.String() }

// chapMaxChallenge is the longest CHAP_C accepted or sent, in bytes
// (RFC 7143 section 12.1.3 bounds binary values of CHAP keys to 1024 bytes).
const chapMaxChallenge = 1024

// chapChallengeLen is the length of the challenge we send in mutual CHAP.
const chapChallengeLen = 16

// chapResponse is MD5(identifier || secret || challenge) (RFC 1994).
func chapResponse(id byte, secret string, challenge []byte) []byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write([]byte(secret))
	h.Write(challenge)
	return h.Sum(nil)
}

// decodeBinary decodes an iSCSI binary value: 0x hex or 0b base64
// (RFC 7143 section 6.1).
func decodeBinary(v string) ([]byte, error) {
	if len(v) < 3 {
		return nil, fmt.Errorf("binary value %q too short", clip(v))
	}
	switch strings.ToLower(v[:2]) {
	case "0x":
		h := v[2:]
		if len(h)%2 == 1 {
			h = "0" + h
		}
		return hex.DecodeString(h)
	case "0b":
		return base64.StdEncoding.DecodeString(v[2:])
	}
	return nil, fmt.Errorf("binary value %q: expected 0x (hex) or 0b (base64)", clip(v))
}

func encodeHex(b []byte) string { return "0x" + hex.EncodeToString(b) }

// chapState carries one CHAP exchange through the login.
type chapState struct {
	c      *CHAP
	portal string
	// ours is the challenge we sent for mutual CHAP, and ourID its identifier.
	ours  []byte
	ourID byte
}

// answer checks the target's CHAP_A/CHAP_I/CHAP_C and returns our
// CHAP_N/CHAP_R and, for mutual CHAP, our own CHAP_I/CHAP_C. It refuses what
// RFC 7143 section 12.1.3 forbids: an algorithm other than MD5, an
// identifier outside 0..255, a challenge that is empty or longer than 1024
// bytes, and, for mutual CHAP, the same secret in both directions.
func (st *chapState) answer(ks Keys) (Keys, error) {
	refuse := func(f string, a ...any) (Keys, error) {
		return nil, &AuthError{Portal: st.portal, Reason: fmt.Sprintf(f, a...)}
	}
	if a, _ := ks.Get("CHAP_A"); a != "5" {
		return refuse("the target chose CHAP_A=%q; only 5 (MD5) was offered", clip(a))
	}
	is, ok := ks.Get("CHAP_I")
	if !ok {
		return refuse("no CHAP_I in the challenge")
	}
	id, err := strconv.ParseUint(is, 0, 8)
	if err != nil {
		return refuse("CHAP_I=%q is not an identifier 0..255", clip(is))
	}
	cs, ok := ks.Get("CHAP_C")
	if !ok {
		return refuse("no CHAP_C in the challenge")
	}
	chal, err := decodeBinary(cs)
	if err != nil {
		return refuse("CHAP_C: %v", err)
	}
	if len(chal) == 0 || len(chal) > chapMaxChallenge {
		return refuse("a CHAP_C of %d bytes (1..%d allowed)", len(chal), chapMaxChallenge)
	}
	out := Keys{{"CHAP_N", st.c.User}, {"CHAP_R", encodeHex(chapResponse(byte(id), st.c.Secret, chal))}}
	if !st.c.Mutual() {
		return out, nil
	}
	if st.c.TargetSecret == st.c.Secret {
		return refuse("the target secret equals the initiator secret; RFC 7143 forbids one secret for both directions")
	}
	st.ours = make([]byte, chapChallengeLen)
	var idb [1]byte
	if _, err := rand.Read(st.ours); err != nil {
		return nil, err
	}
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, err
	}
	st.ourID = idb[0]
	if bytes.Equal(st.ours, chal) {
		// A reflected challenge would let the target use us as its oracle.
		return refuse("our random challenge equals the target's")
	}
	return append(out, KV{"CHAP_I", strconv.Itoa(int(st.ourID))}, KV{"CHAP_C", encodeHex(st.ours)}), nil
}

// verify checks the target's CHAP_N/CHAP_R in mutual CHAP.
func (st *chapState) verify(ks Keys) error {
	refuse := func(f string, a ...any) error {
		return &AuthError{Portal: st.portal, Reason: fmt.Sprintf(f, a...)}
	}
	n, okN := ks.Get("CHAP_N")
	r, okR := ks.Get("CHAP_R")
	if !okN || !okR {
		return refuse("mutual CHAP asked, but the target sent no CHAP_N/CHAP_R: it did not prove itself")
	}
	if st.c.TargetUser != "" && n != st.c.TargetUser {
		return refuse("the target answered as %q, expected %q", clip(n), st.c.TargetUser)
	}
	got, err := decodeBinary(r)
	if err != nil {
		return refuse("CHAP_R: %v", err)
	}
	want := chapResponse(st.ourID, st.c.TargetSecret, st.ours)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return refuse("the target's CHAP_R does not match the target secret: it is not the target it claims to be, or the target secret differs")
	}
	return nil
}
