# A VCH driven by the Docker Terraform provider (kreuzwerker/docker) through its Docker endpoint:
# `eval "$(bin/vic endpoint env)"` sets DOCKER_HOST, DOCKER_CERT_PATH and DOCKER_TLS_VERIFY, which
# the provider reads as the docker CLI does (mutual TLS with the endpoint's client bundle). Each
# docker_container is a container VM; the image, volume and network are the VCH's.
terraform {
  required_providers {
    docker = {
      source  = "kreuzwerker/docker"
      version = ">= 3.0.0"
    }
  }
}

provider "docker" {}

variable "image" {
  type        = string
  description = "A busybox-based image with httpd, as a registry the endpoint reaches serves it (e.g. 127.0.0.1:5000/vic-demo/busybox:latest after npm run demo)."
}

variable "restart" {
  type        = string
  default     = "unless-stopped"
  description = "The web container's restart policy: a change is made in place (docker update), not by a new container VM."
}

variable "keep_image" {
  type        = bool
  default     = true
  description = "Leave the image in the VCH's store at destroy. The demo's own state pulled its image, and the endpoint refuses to remove an image a Terraform, Pulumi or vic state manages: set false for an image only docker pulled."
}

resource "docker_image" "web" {
  name         = var.image
  keep_locally = var.keep_image
}

resource "docker_volume" "data" {
  name = "web-data"
}

# A VMDK of 64 MB in the VCH's store (the default is 1 GB).
resource "docker_volume" "logs" {
  name = "web-logs"
  driver_opts = {
    size = "64MB"
  }
}

resource "docker_network" "app" {
  name = "app"
}

resource "docker_container" "web" {
  name    = "web"
  image   = docker_image.web.image_id
  command = ["httpd", "-f", "-p", "80", "-h", "/www"]
  env     = ["GREETING=hello"]
  restart = var.restart

  # Published on a free port of the host running the simulator (on vSphere the container VM is
  # reached at its own address on its port group instead).
  ports {
    internal = 80
  }

  volumes {
    volume_name    = docker_volume.data.name
    container_path = "/data"
  }

  mounts {
    type   = "volume"
    source = docker_volume.logs.name
    target = "/logs"
  }

  networks_advanced {
    name    = docker_network.app.name
    aliases = ["www"]
  }

  # A line of the container's /etc/hosts (docker run --add-host), written by its guest at boot.
  host {
    host = "db.internal"
    ip   = "10.0.0.5"
  }

  # Copied into the container VM before its first start (docker cp of a created container).
  upload {
    content = "hello from terraform\n"
    file    = "/www/index.html"
  }
}

output "web_ports" {
  value = docker_container.web.ports
}
