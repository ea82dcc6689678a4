# A virtual container host, an image from a registry and two container VMs.
#
# The connection comes from the environment, like the vSphere provider's:
#   export VSPHERE_SERVER=vcenter.example.com VSPHERE_USER=... VSPHERE_PASSWORD=...
#   export VSPHERE_THUMBPRINT=AA:BB:...   # pin a self-signed certificate (or VSPHERE_CA_FILE)
# Install the provider with `npm run install-provider` (see docs/terraform.md), then:
#   terraform init && terraform apply
terraform {
  required_providers {
    vic = {
      source = "vic-iac/vic"
    }
  }
}

provider "vic" {}

variable "image" {
  description = "Image reference in a registry the provider can reach."
  type        = string
  default     = "127.0.0.1:5000/library/busybox:1.36"
}

variable "insecure_registry" {
  description = "Allow plain HTTP for a local test registry."
  type        = bool
  default     = false
}

variable "web_power_state" {
  type    = string
  default = "running"
}

variable "worker_command" {
  description = "Changing the command replaces the worker VM (it is baked into its config)."
  type        = list(string)
  default     = ["sh", "-c", "while true; do date; sleep 60; done"]
}

resource "vic_virtual_container_host" "demo" {
  name            = "vch-demo"
  compute         = "/DC0/host/DC0_C0"
  datastore       = "LocalDS_0"
  bridge_network  = "VM Network"
  memory_limit_mb = 8192
}

resource "vic_image" "app" {
  vch_id            = vic_virtual_container_host.demo.id
  reference         = var.image
  insecure_registry = var.insecure_registry
}

resource "vic_container_vm" "web" {
  vch_id      = vic_virtual_container_host.demo.id
  image_id    = vic_image.app.id
  name        = "web-1"
  command     = ["httpd", "-f", "-p", "80"]
  env         = { GREETING = "hello" }
  memory_mb   = 256
  power_state = var.web_power_state

  # Published on 127.0.0.1 at a free port under the embedded simulator (published_ports says where).
  ports {
    internal = 80
    ip       = "127.0.0.1"
  }
}

resource "vic_container_vm" "worker" {
  vch_id    = vic_virtual_container_host.demo.id
  image_id  = vic_image.app.id
  name      = "worker-1"
  command   = var.worker_command
  memory_mb = 128
}

output "vch_pool" {
  value = vic_virtual_container_host.demo.resource_pool_id
}

output "web_vm" {
  value = vic_container_vm.web.moid
}
