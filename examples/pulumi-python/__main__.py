"""A virtual container host, its image and a container VM, with the generated pulumi_vic SDK.

The placement inputs are plain managed object ids (resgroup-NN, datastore-NN), exactly what the
pulumi_vsphere data sources output; here they come from stack config so the stack runs without it.
"""
import pulumi
import pulumi_vic as vic

config = pulumi.Config()
registry_user = config.get("registryUser")

host = vic.VirtualContainerHost(
    "host",
    name=config.get("vchName") or "vch-py",
    compute=config.require("resourcePoolId"),
    datastore=config.require("datastoreId"),
    bridge_network=config.get("network") or "VM Network",
    memory_limit_mb=config.get_int("memoryLimitMb") or 4096,
)

hello = vic.Image(
    "hello",
    vch_id=host.id,
    reference=config.require("image"),
    insecure_registry=config.get_bool("insecureRegistry") or False,
    # The password is a secret: the provider keeps it encrypted in the state.
    registry_auth=vic.ImageRegistryAuthArgs(username=registry_user, password=config.require_secret("registryPassword"))
    if registry_user
    else None,
)

web = vic.ContainerVm(
    "web-1",
    name="web-1",
    vch_id=host.id,
    image_id=hello.id,
    # A process that keeps running (must_run starts one that ended again at the next up).
    command=config.get_object("command") or ["sh", "-c", "while true; do date; sleep 60; done"],
    memory_mb=256,
)

pulumi.export("vchId", host.id)
pulumi.export("imageDigest", hello.digest)
pulumi.export("webId", web.id)
pulumi.export("webMoid", web.moid)
