package main

import (
	"reflect"
	"testing"
)

func TestParseExecRequest(t *testing.T) {
	r, err := ParseExecRequest([]byte(`{"argv":["sh","-c","id"],"env":["A=1"],"user":"nobody","tty":true,"open_stdin":true}`))
	if err != nil {
		t.Fatal(err)
	}
	want := ExecRequest{Argv: []string{"sh", "-c", "id"}, Env: []string{"A=1"}, User: "nobody", Tty: true, OpenStdin: true}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("ParseExecRequest = %+v, want %+v", r, want)
	}
	for _, bad := range []string{`{"argv":[]}`, `{"argv":[""]}`, `not json`} {
		if _, err := ParseExecRequest([]byte(bad)); err == nil {
			t.Errorf("ParseExecRequest(%s) took it", bad)
		}
	}
}

// The exec's process runs with the container's env, its own added after it (a later key wins), and
// the container's user and working directory unless it names its own.
func TestExecConfig(t *testing.T) {
	cfg := Config{Env: []string{"PATH=/bin", "MODE=prod"}, User: "app", WorkingDir: "/srv", Tty: true, OpenStdin: true}
	got := ExecConfig(cfg, ExecRequest{Argv: []string{"env"}, Env: []string{"MODE=debug"}})
	if got.User != "app" || got.WorkingDir != "/srv" || got.Tty || got.OpenStdin {
		t.Errorf("ExecConfig kept %+v", got)
	}
	env := ContainerEnv(got, "/root")
	if v, _ := envValue(env, "MODE"); v != "debug" {
		t.Errorf("MODE = %q in %v, want debug", v, env)
	}
	if len(cfg.Env) != 2 {
		t.Errorf("the container's env changed: %v", cfg.Env)
	}
	got = ExecConfig(cfg, ExecRequest{Argv: []string{"id"}, User: "root", WorkingDir: "/tmp", Tty: true})
	if got.User != "root" || got.WorkingDir != "/tmp" || !got.Tty {
		t.Errorf("ExecConfig = %+v", got)
	}
	if execFrame("0a1b", "stdout") != "vic-exec-0a1b-stdout" {
		t.Errorf("execFrame = %q", execFrame("0a1b", "stdout"))
	}
}
