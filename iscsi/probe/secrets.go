package probe

import (
	"fmt"

	"lunbench/iscsi"
)

// Credentials names where the CHAP secrets come from: environment
// variables, never a command line or a file lunbench writes.
type Credentials struct {
	User            string `yaml:"user" json:"user,omitempty"`
	SecretEnv       string `yaml:"secret_env" json:"secret_env,omitempty"`
	TargetUser      string `yaml:"target_user" json:"target_user,omitempty"`
	TargetSecretEnv string `yaml:"target_secret_env" json:"target_secret_env,omitempty"`
}

// CHAP reads the secrets through lookup (os.LookupEnv) and returns the
// credentials, or nil when no CHAP user is given. An error names the
// variable, never its value.
func (c Credentials) CHAP(lookup func(string) (string, bool)) (*iscsi.CHAP, error) {
	if c.User == "" {
		if c.SecretEnv != "" || c.TargetSecretEnv != "" {
			return nil, fmt.Errorf("a CHAP secret variable without a CHAP user: give the user too")
		}
		return nil, nil
	}
	if c.SecretEnv == "" {
		return nil, fmt.Errorf("CHAP user %q without a secret: name the environment variable that holds it", c.User)
	}
	get := func(name string) (string, error) {
		v, ok := lookup(name)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s (a CHAP secret) is not set or empty", name)
		}
		return v, nil
	}
	secret, err := get(c.SecretEnv)
	if err != nil {
		return nil, err
	}
	out := &iscsi.CHAP{User: c.User, Secret: secret, TargetUser: c.TargetUser}
	if c.TargetSecretEnv != "" {
		if out.TargetSecret, err = get(c.TargetSecretEnv); err != nil {
			return nil, err
		}
	} else if c.TargetUser != "" {
		return nil, fmt.Errorf("target user %q without a target secret: name the environment variable that holds it", c.TargetUser)
	}
	return out, nil
}
