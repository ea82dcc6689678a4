package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The "auto" accelerator costs two probe guests (about 1.4 s on a microVM whose KVM traps every
// exit), and its answer holds until the machine boots again, QEMU changes, or /dev/kvm becomes
// usable or unusable: it is kept in the user's cache directory under that key, and every other
// simulator start of this boot takes it from there. A cache that cannot be read or written only
// means probing again.

// accelDecision is the cache file's content: the key it was probed under, and the answer.
type accelDecision struct {
	Key   string `json:"key"`
	Accel string `json:"accel"`
	Why   string `json:"why"`
}

// accelCacheFile is where the decision is kept; "" when the user has no cache directory.
func accelCacheFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "vic-iac", "accel.json")
}

// accelKey names what the decision depends on: this boot of the machine, the QEMU binary (path,
// size, modification time) and whether /dev/kvm opens for read and write. "" when the boot cannot
// be told apart (then nothing is cached).
func accelKey(qemu string) string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	info, err := os.Stat(qemu)
	if err != nil {
		return ""
	}
	kvm := "no-kvm"
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
		f.Close()
		kvm = "kvm"
	}
	return fmt.Sprintf("%s|%s|%d|%d|%s", strings.TrimSpace(string(boot)), qemu, info.Size(), info.ModTime().UnixNano(), kvm)
}

// cachedAuto is decide's answer for this key, from the cache file when it holds one for the key;
// otherwise decide runs and its answer is kept for the next start.
func cachedAuto(file, key string, decide func() (string, string)) (string, string) {
	if file == "" || key == "" {
		return decide()
	}
	if raw, err := os.ReadFile(file); err == nil {
		var kept accelDecision
		if json.Unmarshal(raw, &kept) == nil && kept.Key == key && (kept.Accel == "kvm" || kept.Accel == "tcg") {
			return kept.Accel, kept.Why + " (probed earlier this boot; " + file + ")"
		}
	}
	accel, why := decide()
	if raw, err := json.Marshal(accelDecision{Key: key, Accel: accel, Why: why}); err == nil && os.MkdirAll(filepath.Dir(file), 0o700) == nil {
		// Written beside it and renamed over it: a start reading meanwhile sees the old file or the new one.
		if tmp, err := os.CreateTemp(filepath.Dir(file), ".accel-*.json"); err == nil {
			_, werr := tmp.Write(raw)
			cerr := tmp.Close()
			if werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
				os.Remove(tmp.Name())
			}
		}
	}
	return accel, why
}
