package kmod

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

func TestParseModInfo(t *testing.T) {
	sec := []byte("license=GPL\x00alias=fs-vfat\x00depends=fat,nls-base\x00name=vfat\x00alias=fs-uvfat\x00vermagic=6.12.107+deb12-amd64 SMP\x00\x00")
	got := ParseModInfo(sec)
	want := ModInfo{Name: "vfat", Depends: []string{"fat", "nls_base"}, Vermagic: "6.12.107+deb12-amd64 SMP", Aliases: []string{"fs-vfat", "fs-uvfat"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if d := ParseModInfo([]byte("depends=\x00")).Depends; len(d) != 0 {
		t.Fatalf("empty depends gave %v", d)
	}
}

func TestModName(t *testing.T) {
	for in, want := range map[string]string{
		"/x/kernel/fs/nls/nls_cp437.ko.xz": "nls_cp437",
		"9pnet-virtio.ko":                  "9pnet_virtio",
		"crc-itu-t":                        "crc_itu_t",
	} {
		if got := ModName(in); got != want {
			t.Errorf("ModName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseVersions(t *testing.T) {
	entry := func(crc uint64, name string) []byte {
		b := make([]byte, 64)
		binary.LittleEndian.PutUint64(b, crc)
		copy(b[8:], name)
		return b
	}
	sec := append(entry(0x1234, "module_layout"), entry(0xabcd, "kmalloc")...)
	got, err := ParseVersions(sec, binary.LittleEndian, true)
	if err != nil {
		t.Fatal(err)
	}
	if got["module_layout"] != 0x1234 || got["kmalloc"] != 0xabcd || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if _, err := ParseVersions(sec[:70], binary.LittleEndian, true); err == nil {
		t.Fatal("a torn entry was accepted")
	}
}

func TestSameABI(t *testing.T) {
	tests := []struct {
		name string
		a, b map[string]uint64
		same bool
		diff string
	}{
		{"module_layout ignored", map[string]uint64{"module_layout": 1, "f": 2}, map[string]uint64{"module_layout": 9, "f": 2}, true, ""},
		{"crc changed", map[string]uint64{"f": 2, "g": 3}, map[string]uint64{"f": 2, "g": 4}, false, "g"},
		{"symbol added", map[string]uint64{"f": 2}, map[string]uint64{"f": 2, "h": 1}, false, "h"},
		{"symbol gone", map[string]uint64{"f": 2, "h": 1}, map[string]uint64{"f": 2}, false, "h"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			same, diff := SameABI(tc.a, tc.b)
			if same != tc.same || strings.Join(diff, ",") != tc.diff {
				t.Fatalf("SameABI = %v %v, want %v %q", same, diff, tc.same, tc.diff)
			}
		})
	}
}

func TestLoadOrder(t *testing.T) {
	deps := map[string][]string{
		"vfat": {"fat"}, "fat": {}, "msdos": {"fat"},
		"btrfs": {"xor", "raid6_pq", "libcrc32c"}, "xor": {}, "raid6_pq": {}, "libcrc32c": {},
		"a": {"b"}, "b": {"a"}, "orphan": {"missing"},
	}
	tests := []struct {
		want  []string
		order string
		err   string
	}{
		{[]string{"vfat", "msdos"}, "fat,vfat,msdos", ""},
		{[]string{"btrfs", "xor"}, "xor,raid6_pq,libcrc32c,btrfs", ""},
		{[]string{"fat", "vfat"}, "fat,vfat", ""},
		{[]string{"a"}, "", "cycle"},
		{[]string{"orphan"}, "", "missing (needed by orphan)"},
		{[]string{"nope"}, "", "nope: not in the kernel package"},
	}
	for _, tc := range tests {
		got, err := LoadOrder(tc.want, deps)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("LoadOrder(%v) error %v, want %q", tc.want, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tc.order {
			t.Errorf("LoadOrder(%v) = %v, %v; want %s", tc.want, got, err, tc.order)
		}
	}
}

func TestSoftDeps(t *testing.T) {
	mi := ParseModInfo([]byte("softdep=pre: crypto-crc32c xxhash64 post: foo\x00"))
	if strings.Join(mi.SoftPre, ",") != "crypto-crc32c,xxhash64" {
		t.Fatalf("SoftPre %v", mi.SoftPre)
	}
	has := func(m string) bool { return m == "crc32c_generic" || m == "xxhash64" }
	for in, want := range map[string]string{"crypto-crc32c": "crc32c_generic", "crc32c": "crc32c_generic", "xxhash64": "xxhash64", "blake2b-256": ""} {
		got, ok := ResolveSoft(in, has)
		if got != want || ok != (want != "") {
			t.Errorf("ResolveSoft(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}
