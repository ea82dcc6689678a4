#!/usr/bin/env bash
# `npm run demo`: container VMs in a vSphere, from nothing, in one command.
#   1. sets up what is missing for the demo only (scripts/setup.sh --profile demo: its Debian and
#      npm packages, the simulator, the bootstrap ISO; quick when already done);
#   2. starts the embedded vSphere simulator (`vic sim start`; a running one is reused);
#   3. starts a local registry on 127.0.0.1:5000 (a running one is reused) and pushes a demo image
#      the project builds itself from Debian's busybox-static (same bytes, same digest every run);
#   4. applies examples/quickstart (a VCH, the image and three container VMs), showing the plan first;
#   5. shows the output of the run-once hello-1 (vic logs: the simulator runs container VMs in
#      QEMU), reaches web-1's HTTP server, lists the vSphere inventory with each container's process
#      status and exit code, and says how to go on with Terraform and Pulumi.
# Run it again: everything is reused and the plan says "No changes."
# `npm run demo -- stop` stops the simulator, the registry and the endpoint this demo started.
#
# Environment: XDG_DATA_HOME (where the simulator, the registry and the endpoint keep their state),
# VIC_SIM_PORT (simulator port, default 8989; 0 = any free port), VIC_DEMO_STATE (state file),
# VIC_MAX_GUESTS (QEMU guests at once, default 6), VIC_ENDPOINT_PORT (the Docker endpoint's port,
# default 2376; 0 = any free port). The registry is always 127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}/vic-iac"
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_DIR="$DATA/demo-registry"
IMAGE_REPO=vic-demo/busybox
IMAGE_TAG=latest
# QEMU guests the simulator runs at once (see "Starting the embedded vSphere simulator"). The demo's
# three take three; the rest are for the user's docker runs (an idle guest costs its memory, about
# 128-256 MB, and little CPU). VIC_MAX_GUESTS=N sets another number.
MAX_GUESTS="${VIC_MAX_GUESTS:-6}"
case "$MAX_GUESTS" in '' | *[!0-9]* | 0) echo "VIC_MAX_GUESTS=$MAX_GUESTS: expected a whole number, 1 or more" >&2; exit 2 ;; esac
SPEC=examples/quickstart/spec.yaml
STATE="${VIC_DEMO_STATE:-examples/quickstart/.vic/state.json}"

vic() { "$ROOT/bin/vic" "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
[ -t 1 ] && [ -z "${NO_COLOR:-}" ] || step() { printf '\n==> %s\n' "$*"; }

registry_answers() { curl -fsS -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

start_registry() {
  if registry_answers; then
    echo "registry already running on $REGISTRY_ADDR"
    return
  fi
  command -v docker-registry >/dev/null || { echo "docker-registry is missing: run 'npm run setup' or 'apt-get install -y docker-registry'" >&2; exit 1; }
  mkdir -p "$REGISTRY_DIR/data"
  cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
http:
  addr: $REGISTRY_ADDR
  secret: vic-iac-demo
EOF
  # Its own session, so it outlives this script (and Ctrl-C in this terminal).
  setsid docker-registry serve "$REGISTRY_DIR/config.yml" >>"$REGISTRY_DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$REGISTRY_DIR/pid"
  for _ in $(seq 1 100); do
    registry_answers && { echo "registry started on $REGISTRY_ADDR (pid $(cat "$REGISTRY_DIR/pid"), data in $REGISTRY_DIR)"; return; }
    kill -0 "$(cat "$REGISTRY_DIR/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "the registry did not start on $REGISTRY_ADDR; its log ($REGISTRY_DIR/registry.log):" >&2
  tail -n 20 "$REGISTRY_DIR/registry.log" >&2
  exit 1
}

stop_demo() {
  # The Docker endpoint of the last step (its record names its pid).
  endpoint_record="$DATA/endpoint/endpoint.json"
  if [ -f "$endpoint_record" ]; then
    pid="$(node -e 'try { process.stdout.write(String(require(process.argv[1]).pid || "")); } catch {}' "$endpoint_record" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q endpoint "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" && echo "docker endpoint stopped (pid $pid)"
    fi
    rm -f "$endpoint_record"
  fi
  rm -f "$DATA/endpoint/demo-vch"
  if [ -f "$REGISTRY_DIR/pid" ]; then
    pid="$(cat "$REGISTRY_DIR/pid")"
    if kill -0 "$pid" 2>/dev/null && grep -q docker-registry "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" && echo "registry stopped (pid $pid)"
    fi
    rm -f "$REGISTRY_DIR/pid"
  fi
  vic sim stop
}

if [ "${1:-}" = stop ]; then
  stop_demo
  exit 0
fi

step "Setting up what the demo needs (Debian and npm packages, the simulator, the bootstrap ISO; quick when done)"
bash scripts/setup.sh --profile demo
export PATH="${VIC_CACHE:-$ROOT/.cache}/bin:$PATH"
echo "ready"

# Three container VMs, two of which never end: a third QEMU slot lets the run-once hello-1 run
# alongside them instead of waiting for a free one.
step "Starting the embedded vSphere simulator"
exports="$(vic sim start --max-guests "$MAX_GUESTS")"
echo "$exports"
eval "$exports"

step "Starting a local registry with a demo image built from Debian's busybox-static"
start_registry
digest="$(npx --no-install tsx scripts/demo/build-image.ts "$DATA/demo-image" "$IMAGE_TAG")"
skopeo copy --quiet --insecure-policy --dest-tls-verify=false --preserve-digests \
  "oci:$DATA/demo-image:$IMAGE_TAG" "docker://$REGISTRY_ADDR/$IMAGE_REPO:$IMAGE_TAG"
echo "pushed $REGISTRY_ADDR/$IMAGE_REPO:$IMAGE_TAG ($digest)"

# apply plans first and shows the plan (what `vic plan` prints), then carries it out.
step "vic apply -f $SPEC"
vic apply -f "$SPEC" --state "$STATE" --auto-approve

# The simulator runs the container VMs in QEMU (docs/runner.md): hello-1 boots, prints one line
# and exits, and its VM powers off. `vic logs --follow` ends when the VM is off. Under software
# emulation a boot takes a few seconds of CPU; the wait is bounded.
# --vch: another VCH in this simulator (examples/terraform's, say) may hold a hello-1 too.
step "The output of a run-once container (vic logs hello-1)"
if ! timeout 240 "$ROOT/bin/vic" logs --follow --vch vch-quickstart hello-1; then
  echo "hello-1 has not finished yet (a slow boot?); try: bin/vic logs --follow hello-1"
fi

# web-1 serves HTTP; the simulator publishes the image's exposed port 80 on a free port of the
# host (docs/runner.md) and says where in its control API. The guest is picked by the MOID the
# state holds, not by its name: another VCH in this simulator (examples/terraform's) has a web-1 too.
step "The web container over HTTP (curl)"
control="${VSPHERE_SERVER%/sdk}/vcsim-control/guests"
# The ids the state holds: web-1's MOID, and the VCH's pool (the endpoint below serves that one).
state_ids="$(vic ls -f "$SPEC" --state "$STATE" --json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const rows = JSON.parse(s);
    const id = (kind, name) => (rows.find((x) => x.kind === kind && x.name === name) || {}).id || "-";
    process.stdout.write(id("container_vm", "web-1") + " " + id("virtual_container_host", "vch-quickstart"));
  });')"
web_vm="${state_ids% *}"
vch_id="${state_ids#* }"
page=""
for _ in $(seq 1 180); do
  hostport="$(curl -fsSk --max-time 2 "$control" 2>/dev/null | WEB_VM="$web_vm" node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const g = (JSON.parse(s).guests || []).find((x) => x.vm === process.env.WEB_VM);
      process.stdout.write((g && g.ports && g.ports["80/tcp"]) || "");
    });' || true)"
  [ -n "$hostport" ] && page="$(curl -fsS --max-time 2 "http://$hostport/" 2>/dev/null | head -n 1 || true)"
  [ -n "$page" ] && break
  sleep 1
done
if [ -n "$page" ]; then
  echo "curl http://$hostport/ | head -n 1"
  echo "$page"
else
  # Say why, from what the simulator knows: the guest's state and port, and its log lines.
  echo "web-1 ($web_vm) did not answer over HTTP within 3 minutes (a slow boot?); its port: curl -sk $control"
  curl -fsSk --max-time 5 "$control" 2>/dev/null | WEB_VM="$web_vm" node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const g = (JSON.parse(s).guests || []).find((x) => x.vm === process.env.WEB_VM);
      console.log("  the simulator says: " + (g ? JSON.stringify(g) : "web-1 is not running"));
    });' || true
  grep -E 'web-1|network ' "$DATA/sim/launcher.log" 2>/dev/null | tail -n 15 | sed 's/^/  /' || true
fi

step "The vSphere inventory, with each container's process and exit code (vic ls --all)"
vic ls --all

step "Next"
cat <<EOF
The simulator and the registry keep running. In another shell:
  eval "\$(bin/vic sim start)"                          # VSPHERE_* settings for the simulator
  bin/vic plan    -f $SPEC     # no changes: vSphere matches the spec
  bin/vic ls      -f $SPEC     # what the spec's state holds, with power states
  bin/vic logs --follow --vch vch-quickstart worker-1 # a container's output as it comes (a date a minute)
  bin/vic destroy -f $SPEC     # remove it all again
Terraform (docs/terraform.md):
  npm run install-provider && cd examples/terraform && terraform init
  terraform apply -var image=$REGISTRY_ADDR/$IMAGE_REPO:$IMAGE_TAG -var insecure_registry=true
Pulumi and CDKTF: docs/pulumi.md, docs/cdktf.md
Stop the simulator and the registry: npm run demo -- stop
EOF

# ---------------------------------------------------------------------------------------------
# The Docker endpoint (docs/endpoint.md): the standard docker CLI against the same VCH. Mutual TLS
# with a CA of the demo's own; the endpoint keeps running in the background (a running one is
# reused). VIC_ENDPOINT_PORT: its port, default 2376 (0 = any free port).
# ---------------------------------------------------------------------------------------------
step "The docker CLI against the VCH (vic endpoint)"
ENDPOINT_DIR="$DATA/endpoint"
endpoint_pid() {
  node -e 'try { const r = require(process.argv[1]); process.stdout.write(String(r.pid || "")); } catch {}' "$ENDPOINT_DIR/endpoint.json" 2>/dev/null || true
}
# An endpoint looks its VCH up once, when it starts: one started for a vch-quickstart destroyed since
# (bin/vic destroy, then the demo again) would serve a pool that is gone. Restart it then.
# It also logs in once, with the simulator's password of the time: a simulator started again since
# (a new random password, a new certificate) turns it away, so it is restarted then too. The
# simulator's identity is kept as a hash, never the password itself.
sim_identity="$(printf '%s\n%s\n%s\n' "$VSPHERE_SERVER" "$VSPHERE_THUMBPRINT" "$VSPHERE_PASSWORD" | sha256sum | cut -c1-32)"
pid="$(endpoint_pid)"
served="$(cat "$ENDPOINT_DIR/demo-vch" 2>/dev/null || true)"
served_sim="$(cat "$ENDPOINT_DIR/demo-sim" 2>/dev/null || true)"
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q endpoint "/proc/$pid/cmdline" 2>/dev/null; then
  stop_endpoint() {
    echo "endpoint (pid $pid) $1; restarting it"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    pid=""
  }
  if [ "$served" != "$vch_id" ]; then
    stop_endpoint "served an earlier vch-quickstart (${served:-unknown}), not $vch_id"
  elif [ "$served_sim" != "$sim_identity" ]; then
    stop_endpoint "logged in to a simulator that was started again since"
  else
    echo "endpoint already running (pid $pid)"
  fi
else
  pid=""
fi
# A simulator started again is a new vSphere, whose pool ids start over: the docker networks the
# endpoint keeps (networks.json, per VCH pool id) were the previous one's VCHs', not this one's.
if [ -n "$served_sim" ] && [ "$served_sim" != "$sim_identity" ]; then
  rm -f "$ENDPOINT_DIR/networks.json"
fi
if [ -z "$pid" ]; then
  [ -f "$ENDPOINT_DIR/server-cert.pem" ] || vic endpoint certs --dir "$ENDPOINT_DIR" >/dev/null
  rm -f "$ENDPOINT_DIR/endpoint.json"
  setsid "$ROOT/bin/vic" endpoint serve --dir "$ENDPOINT_DIR" --vch vch-quickstart --listen "127.0.0.1:${VIC_ENDPOINT_PORT:-2376}" \
    --insecure-registry "$REGISTRY_ADDR" >>"$ENDPOINT_DIR/endpoint.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do [ -f "$ENDPOINT_DIR/endpoint.json" ] && break; sleep 0.5; done
  [ -f "$ENDPOINT_DIR/endpoint.json" ] || { echo "the endpoint did not start; its log:" >&2; tail -n 20 "$ENDPOINT_DIR/endpoint.log" >&2; exit 1; }
  echo "$vch_id" >"$ENDPOINT_DIR/demo-vch"
  echo "$sim_identity" >"$ENDPOINT_DIR/demo-sim"
  echo "endpoint started (pid $(endpoint_pid)), log in $ENDPOINT_DIR/endpoint.log"
fi
echo "eval \"\$(bin/vic endpoint env --dir $ENDPOINT_DIR)\""
eval "$(vic endpoint env --dir "$ENDPOINT_DIR")"
echo "docker ps -a"
docker ps -a --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}\t{{.Labels}}'
echo "docker rm -f hello-1   # made by the spec: docker may stop and start it, not remove it"
docker rm -f hello-1 2>&1 || true
cat <<EOF2
In another shell (the simulator runs at most $MAX_GUESTS guests at once, web-1 and worker-1 among them: a run beyond that waits for a free one, and docker ps shows it queued; docker stop worker-1 frees one, VIC_MAX_GUESTS=N npm run demo sets the number):
  eval "\$(bin/vic endpoint env --dir $ENDPOINT_DIR)"
  docker run --rm $REGISTRY_ADDR/$IMAGE_REPO:$IMAGE_TAG echo hello from a container VM
  echo hi | docker run -i --rm $REGISTRY_ADDR/$IMAGE_REPO:$IMAGE_TAG cat   # stdin reaches the container VM's process
  docker exec -it web-1 sh      # a shell beside web-1's httpd, in its VM
  docker cp web-1:/etc/passwd /tmp/  # a file out of web-1's VM (docker cp FILE web-1:/tmp/ puts one in)
  docker stats --no-stream      # each container VM's CPU and memory, from vSphere's quick stats
  docker port web-1             # where the simulator published web-1's exposed port 80
npm run demo -- stop also stops the endpoint.
EOF2
