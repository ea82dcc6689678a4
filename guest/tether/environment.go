package main

import "strings"

// defaultPath is Docker's PATH for a container whose image sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ContainerEnv is the process environment: HOSTNAME first (as Docker sets it), then the config's
// env in order, then PATH and HOME when the config set neither. A later duplicate key wins.
func ContainerEnv(cfg Config, home string) []string {
	var keys []string
	values := map[string]string{}
	set := func(kv string) {
		key, _, _ := strings.Cut(kv, "=")
		if _, seen := values[key]; !seen {
			keys = append(keys, key)
		}
		values[key] = kv
	}
	set("HOSTNAME=" + cfg.Hostname)
	for _, kv := range cfg.Env {
		set(kv)
	}
	if _, ok := values["PATH"]; !ok {
		set("PATH=" + defaultPath)
	}
	if _, ok := values["HOME"]; !ok {
		set("HOME=" + home)
	}
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, values[k])
	}
	return env
}

// envValue returns the value of key in a KEY=VALUE list.
func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// ExitStatus maps how a process ended to the number Docker reports: its exit code, or 128 plus
// the signal that killed it.
func ExitStatus(exited bool, code int, signaled bool, signal int) int {
	switch {
	case exited:
		return code
	case signaled:
		return 128 + signal
	default:
		return 255
	}
}
