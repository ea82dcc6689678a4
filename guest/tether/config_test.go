package main

import (
	"reflect"
	"strings"
	"testing"
)

const validConfig = `{"version":1,"name":"web_1","entrypoint":["/bin/app"],"cmd":["--serve"],
 "env":["A=1","B=x=y"],"working_dir":"/srv","user":"app","rootfs":{"uuid":"0B7C6D2A-1111-4222-8333-444455556666","label":"vic-rootfs"},
 "future_field":{"ignored":true}}`

func TestParseConfig_GivenAValidDocument_ThenFieldsAndDefaultsAreSet(t *testing.T) {
	cfg, err := ParseConfig([]byte(validConfig))
	if err != nil {
		t.Fatalf("WHEN parsing a valid config THEN no error is expected, got %v", err)
	}
	want := Config{
		Version: 1, Name: "web_1", Hostname: "web-1",
		Entrypoint: []string{"/bin/app"}, Cmd: []string{"--serve"}, Env: []string{"A=1", "B=x=y"},
		WorkingDir: "/srv", User: "app",
		Rootfs:  RootfsRef{UUID: "0b7c6d2a-1111-4222-8333-444455556666", Label: "vic-rootfs"},
		Restart: RestartPolicy{Policy: "no"},
		NICs:    -1,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("THEN the config is\n%+v\nwant\n%+v", cfg, want)
	}
	if got := cfg.Argv(); !reflect.DeepEqual(got, []string{"/bin/app", "--serve"}) {
		t.Fatalf("THEN argv is entrypoint+cmd, got %q", got)
	}
}

func TestParseConfig_GivenDefaults_ThenWorkingDirIsRootAndHostnameComesFromName(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"version":1,"name":"My Box","cmd":["sh"],"rootfs":{"label":"vic-rootfs"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WorkingDir != "/" || cfg.Hostname != "my-box" || cfg.User != "" || cfg.Rootfs.UUID != "" {
		t.Fatalf("THEN defaults apply, got %+v", cfg)
	}
}

// Each malformed config must produce an error that names the offending field.
func TestParseConfig_GivenAMalformedDocument_ThenTheErrorNamesTheField(t *testing.T) {
	const rootfs = `"rootfs":{"uuid":"0b7c6d2a-1111-4222-8333-444455556666"}`
	cases := []struct {
		name, doc, wantInError string
	}{
		{"empty", ``, "the config is empty"},
		{"not json", `{"version":1,`, "not valid JSON"},
		{"not an object", `[1,2]`, "must be a JSON object"},
		{"no version", `{"cmd":["sh"],` + rootfs + `}`, `field "version" is missing`},
		{"future version", `{"version":2,"cmd":["sh"],` + rootfs + `}`, `field "version": 2 is not supported`},
		{"version as string", `{"version":"1","cmd":["sh"],` + rootfs + `}`, `field "version": expected an integer, got a JSON string`},
		{"entrypoint as string", `{"version":1,"entrypoint":"/bin/sh",` + rootfs + `}`, `field "entrypoint": expected an array of strings, got a JSON string`},
		{"cmd with a number", `{"version":1,"cmd":["sh",1],` + rootfs + `}`, `field "cmd`},
		{"nothing to run", `{"version":1,"entrypoint":[],` + rootfs + `}`, `fields "entrypoint" and "cmd" are both empty`},
		{"empty program", `{"version":1,"entrypoint":[""],` + rootfs + `}`, `field "entrypoint[0]" is empty`},
		{"env without =", `{"version":1,"cmd":["sh"],"env":["A=1","JUSTKEY"],` + rootfs + `}`, `field "env[1]": "JUSTKEY" is not KEY=VALUE`},
		{"env with an empty name", `{"version":1,"cmd":["sh"],"env":["=s3cret-value"],` + rootfs + `}`, `field "env[0]": name "" is not a variable name (value not shown)`},
		{"relative working dir", `{"version":1,"cmd":["sh"],"working_dir":"srv",` + rootfs + `}`, `field "working_dir": "srv" is not an absolute path`},
		{"bad user", `{"version":1,"cmd":["sh"],"user":"a b",` + rootfs + `}`, `field "user": "a b"`},
		{"bad hostname", `{"version":1,"cmd":["sh"],"hostname":"a/b",` + rootfs + `}`, `field "hostname": "a/b"`},
		{"no rootfs", `{"version":1,"cmd":["sh"]}`, `field "rootfs" is missing`},
		{"rootfs as string", `{"version":1,"cmd":["sh"],"rootfs":"sda"}`, `field "rootfs": expected an object`},
		{"rootfs names nothing", `{"version":1,"cmd":["sh"],"rootfs":{}}`, `field "rootfs" names no disk`},
		{"bad uuid", `{"version":1,"cmd":["sh"],"rootfs":{"uuid":"xyz"}}`, `field "rootfs.uuid": "xyz" is not a UUID`},
		{"uuid as number", `{"version":1,"cmd":["sh"],"rootfs":{"uuid":7}}`, `field "rootfs.uuid": expected a string`},
		{"long label", `{"version":1,"cmd":["sh"],"rootfs":{"label":"abcdefghijklmnopq"}}`, `field "rootfs.label"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.doc))
			if err == nil {
				t.Fatalf("GIVEN %s WHEN parsing THEN an error is expected", tc.doc)
			}
			if !strings.Contains(err.Error(), tc.wantInError) {
				t.Fatalf("THEN the error mentions %q, got: %v", tc.wantInError, err)
			}
		})
	}
}

func TestParseConfig_GivenSeveralProblems_ThenAllAreReported(t *testing.T) {
	_, err := ParseConfig([]byte(`{"version":3,"working_dir":"x","rootfs":{}}`))
	if err == nil {
		t.Fatal("an error is expected")
	}
	for _, field := range []string{`"version"`, `"entrypoint" and "cmd"`, `"working_dir"`, `"rootfs"`} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("THEN the error names %s, got: %v", field, err)
		}
	}
}

func TestContainerEnv_GivenConfigEnv_ThenDockerDefaultsFillTheGaps(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want []string
	}{
		{"defaults", nil, []string{"HOSTNAME=h", "PATH=" + defaultPath, "HOME=/home/u"}},
		{"config overrides", []string{"PATH=/bin", "HOME=/x", "HOSTNAME=other"}, []string{"HOSTNAME=other", "PATH=/bin", "HOME=/x"}},
		{"later duplicate wins", []string{"A=1", "A=2"}, []string{"HOSTNAME=h", "A=2", "PATH=" + defaultPath, "HOME=/home/u"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ContainerEnv(Config{Hostname: "h", Env: tc.env}, "/home/u")
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestExitStatus_GivenHowAProcessEnded_ThenDockerNumbers(t *testing.T) {
	cases := []struct {
		exited   bool
		code     int
		signaled bool
		signal   int
		want     int
	}{
		{true, 0, false, 0, 0},
		{true, 3, false, 0, 3},
		{false, 0, true, 15, 143},
		{false, 0, true, 9, 137},
	}
	for _, tc := range cases {
		if got := ExitStatus(tc.exited, tc.code, tc.signaled, tc.signal); got != tc.want {
			t.Errorf("ExitStatus(%+v) = %d, want %d", tc, got, tc.want)
		}
	}
}

// GIVEN env entries that are malformed WHEN the config is parsed THEN the problems (printed on the
// serial console) name the entry but never show a value, which may be a secret.
func TestConfigProblemsNeverShowEnvValues(t *testing.T) {
	raw := `{"version":1,"cmd":["sh"],"env":["=s3cret-one","BAD\u0000NAME=s3cret-two","OK=s3cret-three"],"rootfs":{"label":"vic-rootfs"}}`
	_, err := ParseConfig([]byte(raw))
	if err == nil {
		t.Fatal("THEN the config is refused")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("THEN no env value is shown, got %v", err)
	}
	if !strings.Contains(err.Error(), `field "env[1]"`) {
		t.Fatalf("THEN the entry is named, got %v", err)
	}
}

func TestRestartPolicy_GivenEachPolicy_ThenRestartsAsDocker(t *testing.T) {
	cases := []struct {
		policy         RestartPolicy
		code, restarts int
		want           bool
	}{
		{RestartPolicy{Policy: "no"}, 1, 0, false},
		{RestartPolicy{Policy: "on-failure"}, 0, 0, false},
		{RestartPolicy{Policy: "on-failure"}, 3, 0, true},
		{RestartPolicy{Policy: "on-failure", MaxRestarts: 2}, 3, 2, false},
		{RestartPolicy{Policy: "always"}, 0, 50, true},
		{RestartPolicy{Policy: "always", MaxRestarts: 1}, 0, 1, false},
	}
	for _, tc := range cases {
		if got := tc.policy.ShouldRestart(tc.code, tc.restarts); got != tc.want {
			t.Errorf("%+v.ShouldRestart(%d, %d) = %v, want %v", tc.policy, tc.code, tc.restarts, got, tc.want)
		}
	}
}

func TestParseConfig_GivenABadRestartPolicy_ThenBothFieldsAreNamed(t *testing.T) {
	_, err := ParseConfig([]byte(`{"version":1,"cmd":["x"],"rootfs":{"label":"vic-rootfs"},"restart":{"policy":"sometimes","max_restarts":-1}}`))
	if err == nil || !strings.Contains(err.Error(), `field "restart.policy": "sometimes"`) || !strings.Contains(err.Error(), `field "restart.max_restarts": -1`) {
		t.Fatalf("error %v, want both restart fields named", err)
	}
	cfg, err := ParseConfig([]byte(`{"version":1,"cmd":["x"],"rootfs":{"label":"vic-rootfs"}}`))
	if err != nil || cfg.Restart.Policy != "no" {
		t.Fatalf("default restart policy %+v (%v), want no", cfg.Restart, err)
	}
}

func TestParseConfig_GivenNICs_ThenTheTetherKnowsHowManyToWaitFor(t *testing.T) {
	for doc, want := range map[string]int{`"cmd":["sh"]`: -1, `"nics":0`: 0, `"nics":2`: 2} {
		cfg, err := ParseConfig([]byte(`{"version":1,"name":"n","cmd":["sh"],"rootfs":{"label":"vic-rootfs"},` + doc + `}`))
		if err != nil || cfg.NICs != want {
			t.Fatalf("WHEN %s THEN NICs = %d, got %d (%v)", doc, want, cfg.NICs, err)
		}
	}
	_, err := ParseConfig([]byte(`{"version":1,"name":"n","cmd":["sh"],"rootfs":{"label":"vic-rootfs"},"nics":-2}`))
	if err == nil || !strings.Contains(err.Error(), `field "nics": -2 is negative`) {
		t.Fatalf("WHEN nics is negative THEN the field is named, got %v", err)
	}
}

func TestParseConfig_GivenTtyAndOpenStdin_ThenTheyAreRead_AndAbsentMeansNeither(t *testing.T) {
	base := `{"version":1,"name":"c","cmd":["sh"],"rootfs":{"label":"vic-rootfs"}`
	cfg, err := ParseConfig([]byte(base + `,"tty":true,"open_stdin":true}`))
	if err != nil || !cfg.Tty || !cfg.OpenStdin {
		t.Fatalf("THEN both are set, got tty=%v open_stdin=%v err=%v", cfg.Tty, cfg.OpenStdin, err)
	}
	cfg, err = ParseConfig([]byte(base + `}`))
	if err != nil || cfg.Tty || cfg.OpenStdin {
		t.Fatalf("THEN neither is set, got tty=%v open_stdin=%v err=%v", cfg.Tty, cfg.OpenStdin, err)
	}
}

// The runner adds "maintenance" to the config of a maintenance boot; the resource never writes it.
func TestParseConfig_GivenMaintenance_ThenItIsRead_AndAbsentMeansANormalBoot(t *testing.T) {
	base := `{"version":1,"name":"c","cmd":["sh"],"rootfs":{"label":"vic-rootfs"}`
	cfg, err := ParseConfig([]byte(base + `,"maintenance":true}`))
	if err != nil || !cfg.Maintenance {
		t.Fatalf("THEN it is a maintenance boot, got maintenance=%v err=%v", cfg.Maintenance, err)
	}
	cfg, err = ParseConfig([]byte(base + `}`))
	if err != nil || cfg.Maintenance {
		t.Fatalf("THEN it is a normal boot, got maintenance=%v err=%v", cfg.Maintenance, err)
	}
	_, err = ParseConfig([]byte(base + `,"maintenance":"yes"}`))
	if err == nil || !strings.Contains(err.Error(), `field "maintenance"`) {
		t.Fatalf("WHEN maintenance is not a boolean THEN the field is named, got %v", err)
	}
}
