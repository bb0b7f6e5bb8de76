package report

import (
	"io"
	"strings"
	"testing"
)

func TestCSVLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // records joined with |, then the final error
		end  error
	}{
		// Plain lines, as lunbench writes them.
		{"plain", "a,b\n1,2\n3,4\n", []string{"1|2", "3|4"}, io.EOF},
		// A quoted field (a name with a comma) reads as encoding/csv reads it.
		{"quoted", "a,b\n\"x,y\",2\n", []string{"x,y|2"}, io.EOF},
		// CRLF line ends.
		{"crlf", "a,b\r\n1,2\r\n", []string{"1|2"}, io.EOF},
		// A last line without its newline is the torn tail of a killed run.
		{"torn", "a,b\n1,2\n3,", []string{"1|2"}, errTorn},
		// So is a line with too few fields.
		{"short", "a,b\n1,2\n3\n", []string{"1|2"}, errTorn},
		// Empty fields stay.
		{"empty fields", "a,b,c\n,,\n", []string{"||"}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCSVLines(strings.NewReader(tt.in))
			if _, err := c.header(); err != nil {
				t.Fatal(err)
			}
			var got []string
			var err error
			for {
				var rec []string
				if rec, err = c.next(); err != nil {
					break
				}
				got = append(got, strings.Join(rec, "|"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || err != tt.end {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.end)
			}
		})
	}
}
