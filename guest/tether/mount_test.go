package main

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestParseConfig_GivenMounts_ThenTheyAreCheckedAndCleaned(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"version":1,"name":"a","cmd":["sh"],"rootfs":{"label":"vic-rootfs"},
		"mounts":[{"path":"/data/","uuid":"0B7F5C7E-1111-4222-8333-444455556666"},{"path":"/ro","read_only":true,"uuid":"0b7f5c7e-1111-4222-8333-444455556667"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []MountConfig{{Path: "/data", UUID: "0b7f5c7e-1111-4222-8333-444455556666"}, {Path: "/ro", ReadOnly: true, UUID: "0b7f5c7e-1111-4222-8333-444455556667"}}
	if len(cfg.Mounts) != 2 || cfg.Mounts[0] != want[0] || cfg.Mounts[1] != want[1] {
		t.Errorf("mounts %+v, want %+v", cfg.Mounts, want)
	}
}

func TestParseConfig_GivenBadMounts_ThenEveryProblemNamesItsField(t *testing.T) {
	_, err := ParseConfig([]byte(`{"version":1,"name":"a","cmd":["sh"],"rootfs":{"label":"vic-rootfs"},
		"mounts":[{"path":"data","uuid":"x"},{"path":"/","uuid":"0b7f5c7e-1111-4222-8333-444455556666"},{"path":"/a","uuid":"0b7f5c7e-1111-4222-8333-444455556666"},{"path":"/a/","uuid":"0b7f5c7e-1111-4222-8333-444455556666"}]}`))
	if err == nil {
		t.Fatal("bad mounts were accepted")
	}
	for _, part := range []string{`"mounts[0].path": "data" is not an absolute path`, `"mounts[0].uuid": "x" is not a UUID`, `"mounts[1].path": "/" is the container's root`, `"mounts[3].path": "/a/" is mounted by mounts[2] already`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error lacks %q:\n%v", part, err)
		}
	}
}

func TestSuperblockBlocks_GivenA64BitFilesystem_ThenBothHalvesAndTheBlockSize(t *testing.T) {
	sb := make([]byte, ext4SuperblockSize)
	binary.LittleEndian.PutUint16(sb[ext4MagicOffset:], ext4Magic)
	binary.LittleEndian.PutUint32(sb[0x4:], 5)
	binary.LittleEndian.PutUint32(sb[0x18:], 2) // 4096-byte blocks
	binary.LittleEndian.PutUint32(sb[0x60:], 0x80)
	binary.LittleEndian.PutUint32(sb[0x150:], 1)
	blocks, size, err := superblockBlocks(sb)
	if err != nil || blocks != 1<<32+5 || size != 4096 {
		t.Errorf("got %d blocks of %d bytes (%v), want %d of 4096", blocks, size, err, uint64(1<<32+5))
	}
	if _, _, err := superblockBlocks(make([]byte, ext4SuperblockSize)); err == nil {
		t.Error("a block without the ext4 magic was read as a superblock")
	}
}
