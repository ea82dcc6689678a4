package main

// The vCenter services beside /sdk that other vSphere clients call at login. The vSphere Terraform
// provider opens a CIS REST session (/rest, for tags) and a PBM client (/pbm, storage policies) on
// every vCenter it configures, and fails with 404 without them; the side-by-side e2e test runs it
// against this launcher. Each package registers its handlers when imported, and they are mounted
// because main sets model.Service.RegisterEndpoints.
import (
	_ "github.com/vmware/govmomi/pbm/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)
