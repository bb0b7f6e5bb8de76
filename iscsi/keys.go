package iscsi

import (
	"fmt"
	"strings"
)

// KV is one key=value pair of a text or login data segment, kept in order:
// SendTargets answers repeat TargetAddress under each TargetName.
type KV struct{ Key, Value string }

// Keys is an ordered list of text keys.
type Keys []KV

// Get returns the first value of key and whether it was there.
func (ks Keys) Get(key string) (string, bool) {
	for _, kv := range ks {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Encode writes the keys as NUL-terminated key=value strings.
func (ks Keys) Encode() []byte {
	var b strings.Builder
	for _, kv := range ks {
		b.WriteString(kv.Key)
		b.WriteByte('=')
		b.WriteString(kv.Value)
		b.WriteByte(0)
	}
	return []byte(b.String())
}

// ParseKeys decodes a text data segment (RFC 7143 section 6.1). A pair
// without '=' or with an empty key is an error; a missing final NUL is
// tolerated, as some targets omit it.
func ParseKeys(data []byte) (Keys, error) {
	var ks Keys
	s := string(data)
	s = strings.TrimRight(s, "\x00")
	if s == "" {
		return nil, nil
	}
	for i, f := range strings.Split(s, "\x00") {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("text pair %d %q: expected key=value", i+1, clip(f))
		}
		ks = append(ks, KV{k, v})
	}
	return ks, nil
}

// clip shortens a peer's string for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
