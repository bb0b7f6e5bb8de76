package iscsi

import (
	"fmt"
	"regexp"
)

// ValidName returns an error saying what is wrong when name is not an
// iSCSI name.
func ValidName(name string) error {
	if len(name) > 223 {
		return fmt.Errorf("%q is longer than the 223 bytes an iSCSI name may have", clip(name))
	}
	// The shape of RFC 7143 section 4.2.7.2: iqn. with a date and a
	// reversed domain, eui. with 16 hex digits, or naa. with 16 or 32.
	re := regexp.MustCompile(`^(iqn\.\d{4}-\d{2}\.[a-z0-9][^\s]*|eui\.[0-9A-Fa-f]{16}|naa\.([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32}))$`)
	if !re.MatchString(name) {
		return fmt.Errorf("%q is not an iSCSI name (iqn.YYYY-MM.reversed.domain[:id], eui. + 16 hex digits, or naa. + 16 or 32)", clip(name))
	}
	return nil
}
