# Team state: this stack keeps its Terraform state in PostgreSQL (Terraform's `pg` backend), not in
# a file on one laptop. Everyone who runs it shares one state, and the backend's lock (a PostgreSQL
# advisory lock) makes concurrent applies wait for each other instead of racing.
#
# The connection string stays out of the code, in the environment:
#   export PG_CONN_STR="postgres://terraform:<password>@db.example.com/terraform_backend"
#   eval "$(bin/vic sim start)"          # or the VSPHERE_* of your vCenter
#   terraform init && terraform apply -var image=127.0.0.1:5000/vic-demo/busybox:latest -var insecure_registry=true
# A second working directory (a colleague's clone, a CI job) with the same PG_CONN_STR sees the same
# state; `terraform apply -lock-timeout=5m` waits for a running apply instead of failing.
terraform {
  backend "pg" {
    schema_name = "vic_team_demo"
  }
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
}

variable "insecure_registry" {
  description = "Allow plain HTTP for a local test registry."
  type        = bool
  default     = false
}

variable "replicas" {
  description = "How many web container VMs to run."
  type        = number
  default     = 1
}

resource "vic_virtual_container_host" "team" {
  name            = "vch-team"
  compute         = "/DC0/host/DC0_C0"
  datastore       = "LocalDS_0"
  bridge_network  = "VM Network"
  memory_limit_mb = 4096
}

resource "vic_image" "app" {
  vch_id            = vic_virtual_container_host.team.id
  reference         = var.image
  insecure_registry = var.insecure_registry
}

resource "vic_container_vm" "web" {
  count     = var.replicas
  vch_id    = vic_virtual_container_host.team.id
  image_id  = vic_image.app.id
  name      = "web-${count.index + 1}"
  command   = ["httpd", "-f", "-p", "80"]
  memory_mb = 256
}

output "web_vms" {
  value = vic_container_vm.web[*].moid
}
