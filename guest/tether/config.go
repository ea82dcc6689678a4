package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
)

// ConfigVersion is the only config format version this tether reads (docs/guest-config.md).
const ConfigVersion = 1

// DefaultRootfsLabel is the ext4 volume label the image pipeline gives every image disk.
const DefaultRootfsLabel = "vic-rootfs"

// Config is the container VM's config, format v1. It arrives as one JSON document, over fw_cfg
// under QEMU or over guestinfo under vSphere; both carry the same bytes.
type Config struct {
	Version    int
	Name       string
	Hostname   string
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	Rootfs     RootfsRef
	Restart    RestartPolicy
	Networks   []NetworkConfig
	Mounts     []MountConfig
	// NICs is how many NICs the VM has, -1 when the config does not say (a writer before the field).
	NICs int
	// Tty gives the process a terminal (docker's -t): a pseudo-terminal as its stdin, stdout and
	// stderr and as its controlling terminal; what it writes there is its stdout.
	Tty bool
	// OpenStdin keeps the process's stdin open (docker's -i) instead of at end of file: a pipe, or
	// the terminal with Tty, to which the tether writes the hypervisor's input (input.go), so a
	// shell waits for a command rather than exit at once.
	OpenStdin bool
	// Maintenance asks for a maintenance boot (docker cp of a stopped container): the disks are
	// mounted, the process does not run, and only archive requests are served (maintenance_linux.go).
	// The simulator's runner sets it in the config it hands over fw_cfg; under vSphere the tether
	// learns it from guestinfo.vic.maintenance instead, since the config there is the resource's own.
	Maintenance bool
	// Hosts are the /etc/hosts lines after the container's own ("hosts"; absent: none).
	Hosts []HostsLine
}

// NetworkConfig is how one NIC (in PCI order: eth0, eth1, ...) gets its address: DHCP when
// Address is empty, else the static CIDR address, with an optional gateway and name servers.
type NetworkConfig struct {
	Address string
	Gateway string
	DNS     []string
}

// RestartPolicy says when the tether runs the process again, inside the VM and without a power
// cycle: never ("no", the default), after a non-zero exit ("on-failure") or after every exit
// ("always"). MaxRestarts bounds the restarts; 0 means no bound.
type RestartPolicy struct {
	Policy      string
	MaxRestarts int
}

// ShouldRestart says whether a process that ended with code, after restarts restarts so far,
// runs again.
func (p RestartPolicy) ShouldRestart(code, restarts int) bool {
	if p.MaxRestarts > 0 && restarts >= p.MaxRestarts {
		return false
	}
	switch p.Policy {
	case "always":
		return true
	case "on-failure":
		return code != 0
	}
	return false
}

// RootfsRef says which disk holds the container filesystem: by filesystem UUID first, by label
// when no disk carries the UUID.
type RootfsRef struct {
	UUID  string
	Label string
}

// Argv is what runs: the entrypoint followed by the command, as Docker joins them.
func (c Config) Argv() []string {
	return append(append([]string{}, c.Entrypoint...), c.Cmd...)
}

// configDocument mirrors the JSON. Pointers tell "missing" from "empty".
type configDocument struct {
	Version    *int              `json:"version"`
	Name       *string           `json:"name"`
	Hostname   *string           `json:"hostname"`
	Entrypoint []string          `json:"entrypoint"`
	Cmd        []string          `json:"cmd"`
	Env        []string          `json:"env"`
	WorkingDir *string           `json:"working_dir"`
	User       *string           `json:"user"`
	Rootfs     *rootfsDocument   `json:"rootfs"`
	Restart    *restartDocument  `json:"restart"`
	Networks   []networkDocument `json:"networks"`
	Mounts     []mountDocument   `json:"mounts"`
	NICs       *int              `json:"nics"`
	Tty        bool              `json:"tty"`
	OpenStdin  bool              `json:"open_stdin"`
	// Maintenance is never written by the container_vm resource, only added by the runner.
	Maintenance bool        `json:"maintenance"`
	Hosts       []HostsLine `json:"hosts"`
}

// HostsLine is a line the container's /etc/hosts gets after its own (docker's --add-host, and
// under the Docker endpoint the containers beside it when it started): an address and its names.
type HostsLine struct {
	Address string   `json:"address"`
	Names   []string `json:"names"`
}

type networkDocument struct {
	Address string   `json:"address"`
	Gateway string   `json:"gateway"`
	DNS     []string `json:"dns"`
}

type restartDocument struct {
	Policy      *string `json:"policy"`
	MaxRestarts *int    `json:"max_restarts"`
}

type rootfsDocument struct {
	UUID  *string `json:"uuid"`
	Label *string `json:"label"`
}

// ConfigError lists every problem found in a config, each naming its field, so that one boot
// shows them all instead of one per power cycle.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "invalid container config (format v1, see docs/guest-config.md): " + strings.Join(e.Problems, "; ")
}

var (
	uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// Looser than RFC 1123 on purpose: the kernel takes any 64 bytes, and names derived from
	// container names may end in '-'.
	hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// A name in /etc/hosts may be longer than a host name (a fully qualified one).
	hostsNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	envKeyPattern    = regexp.MustCompile(`^[^=\x00]+$`)
	userPattern      = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(:[A-Za-z0-9_.][A-Za-z0-9_.-]*)?$`)
)

// ParseConfig decodes and validates a v1 config. Unknown fields are ignored so that newer
// writers can add fields without breaking older ISOs.
func ParseConfig(raw []byte) (Config, error) {
	var doc configDocument
	if len(strings.TrimSpace(string(raw))) == 0 {
		return Config{}, &ConfigError{Problems: []string{"the config is empty"}}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Config{}, &ConfigError{Problems: []string{describeJSONError(err)}}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	cfg := Config{Entrypoint: doc.Entrypoint, Cmd: doc.Cmd, Env: doc.Env, WorkingDir: "/", Tty: doc.Tty, OpenStdin: doc.OpenStdin, Maintenance: doc.Maintenance}
	switch {
	case doc.Version == nil:
		add(`field "version" is missing (want %d)`, ConfigVersion)
	case *doc.Version != ConfigVersion:
		add(`field "version": %d is not supported (this tether reads version %d)`, *doc.Version, ConfigVersion)
	default:
		cfg.Version = *doc.Version
	}
	if doc.Name != nil {
		cfg.Name = *doc.Name
	}
	if doc.Hostname != nil && *doc.Hostname != "" {
		cfg.Hostname = *doc.Hostname
		if !hostnamePattern.MatchString(cfg.Hostname) {
			add(`field "hostname": %q is not a valid host name (letters, digits, '.', '_' and '-', at most 64)`, cfg.Hostname)
		}
	} else {
		cfg.Hostname = hostnameFromName(cfg.Name)
	}
	if len(cfg.Argv()) == 0 {
		add(`fields "entrypoint" and "cmd" are both empty or missing: nothing to run`)
	} else if cfg.Argv()[0] == "" {
		if len(cfg.Entrypoint) > 0 {
			add(`field "entrypoint[0]" is empty: it must name the program to run`)
		} else {
			add(`field "cmd[0]" is empty: it must name the program to run`)
		}
	}
	// Problems name the variable, never its value: values may be secrets, and problems reach the console.
	for i, kv := range cfg.Env {
		key, _, found := strings.Cut(kv, "=")
		switch {
		case !found:
			add(`field "env[%d]": %q is not KEY=VALUE`, i, kv)
		case !envKeyPattern.MatchString(key):
			add(`field "env[%d]": name %q is not a variable name (value not shown)`, i, key)
		}
	}
	if doc.WorkingDir != nil && *doc.WorkingDir != "" {
		cfg.WorkingDir = *doc.WorkingDir
		if !strings.HasPrefix(cfg.WorkingDir, "/") {
			add(`field "working_dir": %q is not an absolute path`, cfg.WorkingDir)
		}
	}
	if doc.User != nil && *doc.User != "" {
		cfg.User = *doc.User
		if !userPattern.MatchString(cfg.User) {
			add(`field "user": %q is not "uid[:gid]" or "name[:group]"`, cfg.User)
		}
	}
	switch {
	case doc.Rootfs == nil:
		add(`field "rootfs" is missing (want {"uuid": "...", "label": %q})`, DefaultRootfsLabel)
	default:
		if doc.Rootfs.UUID != nil && *doc.Rootfs.UUID != "" {
			cfg.Rootfs.UUID = strings.ToLower(*doc.Rootfs.UUID)
			if !uuidPattern.MatchString(cfg.Rootfs.UUID) {
				add(`field "rootfs.uuid": %q is not a UUID (8-4-4-4-12 hex digits)`, *doc.Rootfs.UUID)
			}
		}
		if doc.Rootfs.Label != nil && *doc.Rootfs.Label != "" {
			cfg.Rootfs.Label = *doc.Rootfs.Label
			if len(cfg.Rootfs.Label) > ext4LabelSize {
				add(`field "rootfs.label": %q is longer than ext4's %d bytes`, cfg.Rootfs.Label, ext4LabelSize)
			}
		}
		if cfg.Rootfs.UUID == "" && cfg.Rootfs.Label == "" {
			add(`field "rootfs" names no disk: give "uuid", "label" or both`)
		}
	}
	cfg.Restart.Policy = "no"
	if doc.Restart != nil {
		if doc.Restart.Policy != nil {
			switch *doc.Restart.Policy {
			case "no", "on-failure", "always":
				cfg.Restart.Policy = *doc.Restart.Policy
			default:
				add(`field "restart.policy": %q is not "no", "on-failure" or "always"`, *doc.Restart.Policy)
			}
		}
		if doc.Restart.MaxRestarts != nil {
			cfg.Restart.MaxRestarts = *doc.Restart.MaxRestarts
			if cfg.Restart.MaxRestarts < 0 {
				add(`field "restart.max_restarts": %d is negative (0 means no bound)`, cfg.Restart.MaxRestarts)
			}
		}
	}
	for i, n := range doc.Networks {
		if n.Address != "" {
			if _, _, err := net.ParseCIDR(n.Address); err != nil {
				add(`field "networks[%d].address": %q is not an address with a prefix length (e.g. 10.0.0.5/24)`, i, n.Address)
			}
		}
		if n.Gateway != "" && net.ParseIP(n.Gateway) == nil {
			add(`field "networks[%d].gateway": %q is not an IP address`, i, n.Gateway)
		}
		for j, d := range n.DNS {
			if net.ParseIP(d) == nil {
				add(`field "networks[%d].dns[%d]": %q is not an IP address`, i, j, d)
			}
		}
		cfg.Networks = append(cfg.Networks, NetworkConfig(n))
	}
	cfg.Mounts = parseMounts(doc.Mounts, add)
	for i, h := range doc.Hosts {
		if net.ParseIP(h.Address) == nil {
			add(`field "hosts[%d].address": %q is not an IP address`, i, h.Address)
		}
		if len(h.Names) == 0 {
			add(`field "hosts[%d].names" is empty: a line names one host at least`, i)
		}
		for j, n := range h.Names {
			if !hostnamePattern.MatchString(n) && !(len(n) <= 253 && hostsNamePattern.MatchString(n)) {
				add(`field "hosts[%d].names[%d]": %q is not a host name`, i, j, n)
			}
		}
	}
	cfg.Hosts = doc.Hosts
	cfg.NICs = -1
	if doc.NICs != nil {
		cfg.NICs = *doc.NICs
		if cfg.NICs < 0 {
			add(`field "nics": %d is negative`, cfg.NICs)
		}
	}
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// RequestsMaintenance reads only the "maintenance" field of a config, so that a maintenance boot is
// known even when the rest of the config is invalid: its failure then reports nothing.
func RequestsMaintenance(raw []byte) bool {
	var doc struct {
		Maintenance bool `json:"maintenance"`
	}
	return json.Unmarshal(raw, &doc) == nil && doc.Maintenance
}

// OwnNames are the names besides its host name that the container's own /etc/hosts line gives it:
// its name, when the host name is another (docker's, its short id), as its peers reach it by that.
func (c Config) OwnNames() []string {
	if c.Name == "" || c.Name == c.Hostname || !hostnamePattern.MatchString(c.Name) {
		return nil
	}
	return []string{c.Name}
}

// hostnameFromName turns a container name into a host name the kernel accepts.
func hostnameFromName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		case r == '_' || r == ' ':
			b.WriteRune('-')
		}
	}
	host := strings.Trim(b.String(), "-.")
	if len(host) > 63 {
		host = strings.Trim(host[:63], "-.")
	}
	if host == "" {
		return "container"
	}
	return host
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf(`field %q: expected %s, got a JSON %s`, typeErr.Field, jsonTypeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf(`the config must be a JSON object, got a JSON %s`, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("the config is not valid JSON: %v (at byte %d)", syntaxErr, syntaxErr.Offset)
	default:
		return "the config is not valid JSON: " + err.Error()
	}
}

func jsonTypeName(goType string) string {
	switch goType {
	case "[]string":
		return "an array of strings"
	case "string", "*string":
		return "a string"
	case "int", "*int":
		return "an integer"
	case "bool":
		return "a boolean"
	case "main.rootfsDocument", "*main.rootfsDocument", "main.restartDocument", "*main.restartDocument":
		return "an object"
	default:
		return goType
	}
}
