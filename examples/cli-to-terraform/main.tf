# spec.yaml, moved from the `vic` CLI's state file into Terraform state kept in PostgreSQL (the pg
# backend), through import: nothing in vSphere is created, changed or destroyed on the way.
#
# The resources are the spec's, with the same attribute names; `${type.name.attr}` becomes
# `vic_type.name.attr`. Each `import` block adopts what the CLI created, by the id `vic ls` shows:
#   export PG_CONN_STR="postgres://terraform:<password>@db.example.com/terraform_backend"
#   vic ls -f spec.yaml --json > ids.json
#   id() { jq -r --arg a "$1" '.[] | select(.address == $a) | .id' ids.json; }
#   terraform init
#   terraform apply -var vch_id="$(id virtual_container_host.demo)" \
#     -var image_digest="$(id image.busybox)" -var web_id="$(id container_vm.web)"
# The plan says "3 to import, 0 to add, 1 to change, 0 to destroy": the change is the image's
# insecure_registry, a pull setting vSphere does not record, so it changes only the state. Then move
# .vic/state.json away: from now on Terraform manages these objects, and the CLI must not.
terraform {
  backend "pg" {
    schema_name = "vic_moved_stack"
  }
  required_providers {
    vic = {
      source = "vic-iac/vic"
    }
  }
}

provider "vic" {}

variable "vch_id" {
  description = "The VCH's id in the CLI state: its resource pool MOID."
  type        = string
}

variable "image_digest" {
  description = "The image's id in the CLI state: its manifest digest."
  type        = string
}

variable "web_id" {
  description = "The container VM's id as `vic ls` shows it: its VM MOID."
  type        = string
}

variable "image" {
  description = "The spec's image reference."
  type        = string
  default     = "127.0.0.1:5000/vic-demo/busybox:latest"
}

import {
  to = vic_virtual_container_host.demo
  id = var.vch_id
}

import {
  to = vic_image.busybox
  id = "${var.vch_id}/${var.image_digest}"
}

import {
  to = vic_container_vm.web
  id = var.web_id
}

resource "vic_virtual_container_host" "demo" {
  name = "vch-moving"
  # Named although the spec leaves it to the connection: an import reads the datacenter back, and a
  # datacenter missing from the configuration would plan an update of the state (no change in vSphere).
  datacenter      = "DC0"
  compute         = "/DC0/host/DC0_C0"
  datastore       = "LocalDS_0"
  bridge_network  = "VM Network"
  memory_limit_mb = 4096
}

resource "vic_image" "busybox" {
  vch_id = vic_virtual_container_host.demo.id
  # Pinned to the digest the CLI pulled: an import reads the reference back as tag@digest. The tag
  # alone would plan an update of the state, and a replacement once the tag names newer content.
  reference         = "${var.image}@${var.image_digest}"
  insecure_registry = true
}

resource "vic_container_vm" "web" {
  vch_id    = vic_virtual_container_host.demo.id
  image_id  = vic_image.busybox.id
  name      = "web-1"
  command   = ["httpd", "-f", "-p", "80", "-h", "/var/www"]
  memory_mb = 256
}
