package report

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Build is what the binary knows of its own build, from the Go toolchain's
// stamp (debug.ReadBuildInfo): the module version and the VCS revision.
type Build struct {
	Version  string `json:"version"`            // lunbench's release (Version)
	Module   string `json:"module,omitempty"`   // module version: v1.2.3, a pseudo-version or (devel)
	Revision string `json:"revision,omitempty"` // VCS commit the binary was built from
	Time     string `json:"time,omitempty"`     // that commit's time
	Modified bool   `json:"modified,omitempty"` // built with uncommitted changes
	Go       string `json:"go,omitempty"`
}

// ThisBuild reads the running binary's build stamp. A binary built without
// VCS information (go test, -buildvcs=false) has no revision.
func ThisBuild() Build {
	b := Build{Version: Version}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Module, b.Go = info.Main.Version, info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one line `lunbench --version` prints:
// "0.1.0 (module (devel), revision 4f52246c1a2b, modified, go1.26.8)".
func (b Build) String() string {
	var parts []string
	if b.Module != "" {
		parts = append(parts, "module "+b.Module)
	}
	if b.Revision != "" {
		parts = append(parts, "revision "+b.Revision[:min(12, len(b.Revision))])
	} else {
		parts = append(parts, "revision unknown")
	}
	if b.Modified {
		parts = append(parts, "modified")
	}
	if b.Go != "" {
		parts = append(parts, b.Go)
	}
	return b.Version + " (" + strings.Join(parts, ", ") + ")"
}

// Chart sizes `lunbench report --width/--height` accept: below the minimum
// axes and labels overlap; above the maximum one chart needs gigabytes.
const (
	MinChartPixels = 320
	MaxChartPixels = 8000
)

// CheckChartSize says which of width and height is outside the range.
func CheckChartSize(width, height int) error {
	for _, d := range []struct {
		flag string
		v    int
	}{{"width", width}, {"height", height}} {
		if d.v < MinChartPixels || d.v > MaxChartPixels {
			return fmt.Errorf("--%s %d is out of range: charts are %d to %d pixels", d.flag, d.v, MinChartPixels, MaxChartPixels)
		}
	}
	return nil
}
