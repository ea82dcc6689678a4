package runner

import (
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func extraConfigValue(options []types.BaseOptionValue, key string) string {
	for _, o := range options {
		if v := o.GetOptionValue(); v.Key == key {
			s, _ := v.Value.(string)
			return s
		}
	}
	return ""
}

func extraConfigMap(options []types.BaseOptionValue) map[string]string {
	m := make(map[string]string, len(options))
	for _, o := range options {
		v := o.GetOptionValue()
		if s, ok := v.Value.(string); ok {
			m[v.Key] = s
		}
	}
	return m
}

// datastoreLocalDirs maps every datastore name to its local directory.
func datastoreLocalDirs() datastoreDirs {
	dirs := datastoreDirs{}
	for _, entity := range simulator.Map.All("Datastore") {
		if ds, ok := entity.(*simulator.Datastore); ok {
			dirs[ds.Name] = ds.Info.GetDatastoreInfo().Url
		}
	}
	return dirs
}

// setStatus writes guestinfo.vic.<key> = value into the VM's extraConfig.
func setStatus(ref types.ManagedObjectReference, fields map[string]string) {
	full := make(map[string]string, len(fields))
	for k, v := range fields {
		full[statusKeyBase+k] = v
	}
	setExtraConfig(ref, full)
}

// setExtraConfig writes keys into the VM's extraConfig; an empty value removes the key, as
// vSphere does.
func setExtraConfig(ref types.ManagedObjectReference, fields map[string]string) {
	changeExtraConfig(ref, func(options []types.BaseOptionValue) []types.BaseOptionValue {
		for full, value := range fields {
			found := -1
			for i, o := range options {
				if o.GetOptionValue().Key == full {
					found = i
					break
				}
			}
			switch {
			case value == "" && found >= 0:
				options = append(options[:found], options[found+1:]...)
			case value == "":
			case found >= 0:
				options[found] = &types.OptionValue{Key: full, Value: value}
			default:
				options = append(options, &types.OptionValue{Key: full, Value: value})
			}
		}
		return options
	})
}

// clearExtraConfigIf removes key from the VM's extraConfig when it holds value, under one lock, so
// that a value set meanwhile by someone else stays.
func clearExtraConfigIf(ref types.ManagedObjectReference, key, value string) {
	changeExtraConfig(ref, func(options []types.BaseOptionValue) []types.BaseOptionValue {
		for i, o := range options {
			if v := o.GetOptionValue(); v.Key == key {
				if s, _ := v.Value.(string); strings.TrimSpace(s) == value {
					return append(options[:i], options[i+1:]...)
				}
				return options
			}
		}
		return options
	})
}

// changeExtraConfig replaces the VM's extraConfig with what change makes of it, under the model's
// lock; nothing happens to a VM that is gone or has no config.
func changeExtraConfig(ref types.ManagedObjectReference, change func([]types.BaseOptionValue) []types.BaseOptionValue) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		if vm.Config != nil {
			vm.Config.ExtraConfig = change(vm.Config.ExtraConfig)
		}
	})
}

// markKilledIfRunning records exit code 137 for a process that the tether said was running
// when its VM stopped without a word from it.
func markKilledIfRunning(ref types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	running := false
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		running = vm.Config != nil && extraConfigValue(vm.Config.ExtraConfig, statusKeyBase+"status") == "running"
	})
	if running {
		setStatus(ref, map[string]string{"status": "exited", "exit_code": "137", "finished_at": time.Now().UTC().Format(time.RFC3339Nano)})
	}
}

// powerOffInModel sets the VM poweredOff when it is still on from the same boot: the guest
// powered itself off, or its QEMU died. Watchers (WaitForUpdatesEx) see the change.
func powerOffInModel(ref types.ManagedObjectReference, boot time.Time) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	ctx := simulator.SpoofContext()
	simulator.Map.WithLock(ctx, vm, func() {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return
		}
		if vm.Summary.Runtime.BootTime != nil && !vm.Summary.Runtime.BootTime.Equal(boot) {
			return
		}
		ctx.Update(vm, []types.PropertyChange{
			{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
			{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
		})
	})
}

// ParseStatusLine reads "vic-status key=value key=value" (the tether's status channel).
func ParseStatusLine(line string) (map[string]string, bool) {
	line = strings.TrimRight(line, "\r\n")
	rest, ok := strings.CutPrefix(line, "vic-status ")
	if !ok {
		return nil, false
	}
	fields := map[string]string{}
	for _, word := range strings.Fields(rest) {
		k, v, ok := strings.Cut(word, "=")
		if !ok || k == "" || strings.ContainsAny(k, ".") {
			continue
		}
		fields[k] = v
	}
	return fields, len(fields) > 0
}
