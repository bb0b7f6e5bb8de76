package scenarios

import (
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"lunbench/iscsi"
)

// targetProbe decodes a target's probe: block.
func (d *decoder) targetProbe(n *yaml.Node, ctx string) *TargetProbe {
	fs := d.object(n, objTargetProbe, ctx)
	if fs == nil {
		return nil
	}
	var p TargetProbe
	if f, ok := fs.okf("portals"); ok {
		p.Portals = f.names
		if len(p.Portals) == 0 {
			d.errf(f.val, "portals in %s is empty; it needs at least one host or host:port", ctx)
		}
	}
	if f, ok := fs.okf("target"); ok {
		p.Target = f.s
		d.checkIQN(f.s, f.val, "target", ctx)
	}
	for _, k := range []struct {
		key string
		to  *[]string
	}{{"allowed", &p.Allowed}, {"refused", &p.Refused}} {
		if f, ok := fs.okf(k.key); ok {
			*k.to = f.names
			for i, name := range f.names {
				if err := iscsi.ValidName(name); err != nil {
					d.errAt(f.pos[i], "%s in %s: %v", k.key, ctx, err)
				}
			}
		}
	}
	if f, ok := fs.okf("chap"); ok {
		p.CHAP = &f.b
	}
	if f, ok := fs.okf("mutual_chap"); ok {
		p.MutualCHAP = f.b
	}
	p.CHAPUser = d.probeString(fs, "chap_user")
	p.CHAPSecretEnv = d.probeEnv(fs, "chap_secret_env", ctx)
	p.TargetUser = d.probeString(fs, "target_user")
	p.TargetSecretEnv = d.probeEnv(fs, "target_secret_env", ctx)
	if f, ok := fs.okf("luns"); ok {
		p.LUNs = int(f.n)
	}
	if f, ok := fs.okf("wwid"); ok {
		p.WWIDs = f.names
	}
	if f, ok := fs.okf("pings"); ok {
		p.Pings = int(f.n)
	}
	if f, ok := fs.okf("timeout"); ok {
		p.Timeout = time.Duration(f.n)
	}
	d.probeConsistent(&p, fs, n, ctx)
	return &p
}

func (d *decoder) checkIQN(s string, at *yaml.Node, key, ctx string) {
	if err := iscsi.ValidName(s); err != nil {
		d.errf(at, "%s in %s: %v", key, ctx, err)
	}
}

func (d *decoder) probeString(fs fields, key string) string {
	if f, ok := fs.okf(key); ok {
		return strings.TrimSpace(f.s)
	}
	return ""
}

// probeEnv returns the name of an environment variable holding a secret.
// A value that does not look like a variable name is most likely the
// secret itself, which must not sit in a scenario file.
func (d *decoder) probeEnv(fs fields, key, ctx string) string {
	f, ok := fs.okf(key)
	if !ok {
		return ""
	}
	if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(f.s) {
		d.errf(f.val, "%s in %s must name an environment variable (letters, digits, '_'), not hold the secret", key, ctx)
		return ""
	}
	return f.s
}

// probeConsistent checks that the credentials hang together.
func (d *decoder) probeConsistent(p *TargetProbe, fs fields, n *yaml.Node, ctx string) {
	at := func(key string) *yaml.Node {
		if f := fs[key]; f != nil {
			return f.key
		}
		return n
	}
	if p.CHAPUser != "" && p.CHAPSecretEnv == "" {
		d.errf(at("chap_user"), "chap_user in %s needs chap_secret_env, the environment variable holding the secret", ctx)
	}
	if p.CHAPSecretEnv != "" && p.CHAPUser == "" {
		d.errf(at("chap_secret_env"), "chap_secret_env in %s needs chap_user", ctx)
	}
	if p.MutualCHAP && (p.TargetSecretEnv == "" || p.CHAPUser == "") {
		d.errf(at("mutual_chap"), "mutual_chap in %s needs chap_user, chap_secret_env and target_secret_env", ctx)
	}
	if p.TargetSecretEnv != "" && !p.MutualCHAP {
		d.errf(at("target_secret_env"), "target_secret_env in %s is only used with mutual_chap: true", ctx)
	}
	if p.CHAP != nil && !*p.CHAP && p.CHAPUser != "" {
		d.errf(at("chap"), "chap: false in %s, but chap_user is set: say chap: true, or drop the CHAP credentials", ctx)
	}
}
