package main

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func syntheticSuperblock(magic uint16, uuid [16]byte, label string) []byte {
	head := make([]byte, 2048)
	sb := head[ext4SuperblockOffset:]
	binary.LittleEndian.PutUint16(sb[ext4MagicOffset:], magic)
	copy(sb[ext4UUIDOffset:], uuid[:])
	copy(sb[ext4LabelOffset:], label)
	return head
}

func TestReadExt4Identity_GivenSyntheticSuperblocks(t *testing.T) {
	uuid := [16]byte{0x0b, 0x7c, 0x6d, 0x2a, 0x11, 0x11, 0x42, 0x22, 0x83, 0x33, 0x44, 0x44, 0x55, 0x55, 0x66, 0x66}
	cases := []struct {
		name    string
		head    []byte
		want    Ext4Identity
		wantErr bool
	}{
		{"ext4 with label", syntheticSuperblock(0xEF53, uuid, "vic-rootfs"), Ext4Identity{"0b7c6d2a-1111-4222-8333-444455556666", "vic-rootfs"}, false},
		{"label of 16 bytes has no NUL", syntheticSuperblock(0xEF53, uuid, "abcdefghijklmnop"), Ext4Identity{"0b7c6d2a-1111-4222-8333-444455556666", "abcdefghijklmnop"}, false},
		{"no label", syntheticSuperblock(0xEF53, uuid, ""), Ext4Identity{"0b7c6d2a-1111-4222-8333-444455556666", ""}, false},
		{"wrong magic", syntheticSuperblock(0x1234, uuid, "vic-rootfs"), Ext4Identity{}, true},
		{"too short", make([]byte, 1500), Ext4Identity{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadExt4Identity(tc.head)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, errNotExt4) {
				t.Fatalf("THEN the error is errNotExt4, got %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %+v want %+v", got, tc.want)
			}
		})
	}
}

// The real peer: a filesystem made by e2fsprogs' mke2fs, as the image pipeline makes it.
func TestReadExt4Identity_GivenAnImageMadeByMke2fs_ThenUUIDAndLabelMatch(t *testing.T) {
	mke2fs, err := exec.LookPath("mke2fs")
	if err != nil {
		t.Fatal("mke2fs is missing: run 'npm run setup' (or apt-get install -y e2fsprogs)")
	}
	img := filepath.Join(t.TempDir(), "disk.raw")
	const uuid = "5f0c2a8e-9d41-4b7e-a1c3-2e6f8d9b0a17"
	out, err := exec.Command(mke2fs, "-q", "-F", "-t", "ext4", "-L", "vic-rootfs", "-U", uuid, img, "8M").CombinedOutput()
	if err != nil {
		t.Fatalf("mke2fs: %v\n%s", err, out)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 2048)
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	got, err := ReadExt4Identity(head)
	if err != nil || got != (Ext4Identity{UUID: uuid, Label: "vic-rootfs"}) {
		t.Fatalf("THEN the superblock reads back (%s, vic-rootfs), got %+v, %v", uuid, got, err)
	}
}

func TestChooseRootfs_GivenScannedDisks_ThenUUIDWinsAndLabelIsTheFallback(t *testing.T) {
	const want = "0b7c6d2a-1111-4222-8333-444455556666"
	volume := BlockDevice{Name: "sdc", Identity: Ext4Identity{UUID: "11111111-1111-1111-1111-111111111111", Label: "data"}}
	other := BlockDevice{Name: "sda", Identity: Ext4Identity{UUID: "22222222-2222-2222-2222-222222222222", Label: "vic-rootfs"}}
	exact := BlockDevice{Name: "sdb", Identity: Ext4Identity{UUID: want, Label: "vic-rootfs"}}
	unreadable := BlockDevice{Name: "sdd", Err: errNotExt4}
	cases := []struct {
		name        string
		devices     []BlockDevice
		ref         RootfsRef
		wantName    string
		wantByLabel bool
		wantFound   bool
	}{
		{"uuid beats an earlier label match", []BlockDevice{other, exact}, RootfsRef{UUID: want, Label: "vic-rootfs"}, "sdb", false, true},
		{"uuid match is case-insensitive", []BlockDevice{exact}, RootfsRef{UUID: "0B7C6D2A-1111-4222-8333-444455556666"}, "sdb", false, true},
		{"label when no uuid matches", []BlockDevice{volume, other}, RootfsRef{UUID: want, Label: "vic-rootfs"}, "sda", true, true},
		{"default label when none given", []BlockDevice{other}, RootfsRef{UUID: want}, "sda", true, true},
		{"nothing matches", []BlockDevice{volume, unreadable}, RootfsRef{UUID: want, Label: "vic-rootfs"}, "", false, false},
		{"no disks yet", nil, RootfsRef{Label: "vic-rootfs"}, "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, byLabel, found := ChooseRootfs(tc.devices, tc.ref)
			if d.Name != tc.wantName || byLabel != tc.wantByLabel || found != tc.wantFound {
				t.Fatalf("got (%s, byLabel=%v, found=%v) want (%s, %v, %v)", d.Name, byLabel, found, tc.wantName, tc.wantByLabel, tc.wantFound)
			}
		})
	}
}
