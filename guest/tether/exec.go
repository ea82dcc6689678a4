package main

import (
	"encoding/json"
	"fmt"
)

// ExecRequest is a process to run beside the container's own (docker exec), as the hypervisor
// sends it: what is not given comes from the container's config.
type ExecRequest struct {
	Argv       []string `json:"argv"`
	Env        []string `json:"env,omitempty"`
	User       string   `json:"user,omitempty"`
	WorkingDir string   `json:"working_dir,omitempty"`
	Tty        bool     `json:"tty,omitempty"`
	OpenStdin  bool     `json:"open_stdin,omitempty"`
	// Archive, instead of a process: docker cp's reads and writes of the container's files.
	Archive *ArchiveRequest `json:"archive,omitempty"`
	// Processes, instead of a process: docker top's list of the container's (ProcessList, as JSON).
	Processes bool `json:"processes,omitempty"`
	// Files, instead of a process: docker diff's listing of the container's root filesystem
	// (gzip-compressed lines, see listFiles).
	Files bool `json:"files,omitempty"`
}

// ParseExecRequest reads an exec request's JSON.
func ParseExecRequest(data []byte) (ExecRequest, error) {
	var r ExecRequest
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("exec request: %v", err)
	}
	if r.Processes || r.Files {
		return r, nil
	}
	if r.Archive != nil {
		switch r.Archive.Op {
		case "stat", "get", "put":
		default:
			return r, fmt.Errorf("exec request: archive operation %q: expected stat, get or put", r.Archive.Op)
		}
		if r.Archive.Path == "" {
			return r, fmt.Errorf("exec request: archive %s: no path", r.Archive.Op)
		}
		return r, nil
	}
	if len(r.Argv) == 0 || r.Argv[0] == "" {
		return r, fmt.Errorf("exec request: no command")
	}
	return r, nil
}

// maintenanceRefusal is the stderr of an exec request a maintenance boot does not serve: a process
// (docker exec) or docker top, which need the container running.
const maintenanceRefusal = "the container is not running: a maintenance boot serves docker cp and docker diff only"

// ServedInMaintenance says whether a maintenance boot carries the request out: docker cp's archive
// operations and docker diff's listing (a stopped container's diff is served by a maintenance
// boot), which read or write the disk only. Others end with 126 (maintenanceRefusal), as docker
// exec's "cannot run".
func (r ExecRequest) ServedInMaintenance() bool {
	return (r.Archive != nil || r.Files) && !r.Processes
}

// ExecConfig is the container's config as the exec's process gets it: its own env added after the
// container's (a later key wins), its user and working directory where it names them.
func ExecConfig(cfg Config, r ExecRequest) Config {
	c := cfg
	c.Env = append(append([]string{}, cfg.Env...), r.Env...)
	if r.User != "" {
		c.User = r.User
	}
	if r.WorkingDir != "" {
		c.WorkingDir = r.WorkingDir
	}
	c.Tty, c.OpenStdin = r.Tty, r.OpenStdin
	return c
}

// execFrame is the console prefix of an exec's lines: "vic-exec-<id>-stdout", "-stderr" (with
// exactSuffix for exact frames, as the container's own) and "-exit", whose text is its exit code.
// Readers of the container's output (docker logs) leave them out.
func execFrame(id, what string) string {
	return "vic-exec-" + id + "-" + what
}
