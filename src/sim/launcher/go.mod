module vic-iac/sim/launcher

go 1.22

require github.com/vmware/govmomi v0.46.3

require github.com/google/uuid v1.6.0 // indirect

// The guest runner is product code (src/sim/runner); the launcher links it.
require vic-iac/sim/runner v0.0.0

replace vic-iac/sim/runner => ../runner
