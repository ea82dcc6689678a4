"""docker-py (7.x) against a VCH's Docker endpoint, as a Python program uses it.

Run by test/endpoint/docker-py.e2e.test.ts with the virtualenv of scripts/peers/67-docker-py.sh:
    python docker-py-client.py IMAGE
docker.from_env() reads DOCKER_HOST, DOCKER_CERT_PATH and DOCKER_TLS_VERIFY. Each step prints one
JSON line, {"step", "ok", "value"} or {"step", "ok": false, "error"}; the test reads them.
"""
import io
import json
import sys
import tarfile
import time

import docker

image = sys.argv[1]
client = docker.from_env()


def step(name, action):
    try:
        value = action()
        print(json.dumps({"step": name, "ok": True, "value": value}, default=str), flush=True)
        return value
    except Exception as err:  # reported to the test, which names the step that failed
        print(json.dumps({"step": name, "ok": False, "error": f"{type(err).__name__}: {err}"}), flush=True)
        return None


def tar_of(name, data, mode="w"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def file_from(container, path):
    bits, stat = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
        return {"stat_name": stat["name"], "content": tar.extractfile(tar.getmembers()[0]).read().decode()}


step("ping", client.ping)
step("pull", lambda: client.images.pull(image).id)
step("run", lambda: client.containers.run(image, ["sh", "-c", "echo hello from docker-py"], remove=True).decode())

box = client.containers.run(
    image,
    ["sh", "-c", "echo started; while true; do sleep 1; done"],
    detach=True,
    name="py-box",
    environment={"GREETING": "hi"},
    labels={"made-by": "docker-py"},
)


def running():
    deadline = time.time() + 240
    while time.time() < deadline:
        box.reload()
        if box.status == "running" and b"started" in box.logs():
            return box.status
        time.sleep(1)
    raise TimeoutError(f"py-box is {box.status}, its logs {box.logs()!r}")


step("running", running)
step("labels", lambda: [c.name for c in client.containers.list(filters={"label": "made-by=docker-py"})])
step("exec_run", lambda: (lambda r: [r.exit_code, r.output.decode()])(box.exec_run(["sh", "-c", "echo $GREETING; exit 3"])))
step("put_archive", lambda: box.put_archive("/", tar_of("note.txt", b"from python\n")))
step("get_archive", lambda: file_from(box, "/note.txt"))
# Compressed, as dockerd takes it too (Testcontainers for Go sends its copies gzip-compressed).
step("put_archive_gzip", lambda: box.put_archive("/", tar_of("gz.txt", b"from gzip\n", "w:gz")))
step("put_archive_bz2", lambda: box.put_archive("/", tar_of("bz.txt", b"from bzip2\n", "w:bz2")))
step("get_archive_compressed", lambda: [file_from(box, "/gz.txt")["content"], file_from(box, "/bz.txt")["content"]])
# stats(stream=False) sends stream=False: one sample, then the answer ends.
step("stats", lambda: sorted(k for k in box.stats(stream=False) if k in ("cpu_stats", "memory_stats", "read")))
# remove(force=True, v=True) sends force=True: a running container goes.
step("remove_force", lambda: box.remove(force=True, v=True))
step("gone", lambda: [c.name for c in client.containers.list(all=True, filters={"name": "py-box"})])

volume = step("volume_create", lambda: client.volumes.create("py-vol", driver_opts={"size": "16MB"}, labels={"a": "b"}).attrs)
step("network_create", lambda: client.networks.create("py-net").name)
step(
    "run_on_both",
    lambda: client.containers.run(
        image, ["sh", "-c", "echo saved > /v/f; cat /v/f"], volumes={"py-vol": {"bind": "/v", "mode": "rw"}}, network="py-net", remove=True
    ).decode(),
)
step("network_remove", lambda: client.networks.get("py-net").remove())
step("volume_remove", lambda: client.volumes.get("py-vol").remove(force=True))
step("volumes_left", lambda: [v.name for v in client.volumes.list()])
