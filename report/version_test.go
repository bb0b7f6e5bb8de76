package report

import "testing"

// TestBuildString checks the line `lunbench --version` prints.
func TestBuildString(t *testing.T) {
	tests := []struct {
		name string
		b    Build
		want string
	}{
		// A go build inside a git checkout: revision cut to 12, modified.
		{"vcs", Build{Version: "0.1.0", Module: "v0.0.0-20261127135806-a687a0332539", Revision: "a687a0332539ce12cf6a165dfbe5a7a866b136c8", Modified: true, Go: "go1.26.8"},
			"0.1.0 (module v0.0.0-20261127135806-a687a0332539, revision a687a0332539, modified, go1.26.8)"},
		// -buildvcs=false (as GOFLAGS sets on these machines).
		{"no vcs", Build{Version: "0.1.0", Module: "(devel)", Go: "go1.26.8"}, "0.1.0 (module (devel), revision unknown, go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.String(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// The test binary has a build stamp: at least the Go version.
	if b := ThisBuild(); b.Version != Version || b.Go == "" {
		t.Fatalf("ThisBuild() = %+v", b)
	}
}

// TestCheckChartSize bounds report --width and --height.
func TestCheckChartSize(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		ok            bool
	}{
		{"default", 1600, 900, true},
		{"smallest", MinChartPixels, MinChartPixels, true},
		{"largest", MaxChartPixels, MaxChartPixels, true},
		// Labels overlap below 320.
		{"too narrow", 10, 900, false},
		// 100000 px tall needs gigabytes for one chart.
		{"too tall", 1600, 100000, false},
		{"negative", -1, 900, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckChartSize(tt.width, tt.height); (err == nil) != tt.ok {
				t.Fatalf("CheckChartSize(%d, %d) = %v", tt.width, tt.height, err)
			}
		})
	}
}
