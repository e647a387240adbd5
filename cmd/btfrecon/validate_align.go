//go:build !lean

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/btfrecon/btfrecon/harness/kmod"
)

// btfIDsPlacement says, for arm64 modules, whether the code reading their
// .BTF_ids reads the right words where the module loader puts the
// section: a scaled load (ldr with an LDST*_ABS_LO12_NC relocation) of an
// address off its access size's boundary reads below it, so the ids come
// out wrong (include/linux/btf_ids.h without ".balign 4"; upstream patch
// 8). "" when no module reads its .BTF_ids through a scaled load.
func btfIDsPlacement(mods []string) (string, error) {
	readers := 0
	var off []string
	for _, m := range mods {
		img, err := os.ReadFile(m)
		if err != nil {
			return "", err
		}
		loads, err := kmod.ScaledLoads(img, ".BTF_ids")
		if err != nil {
			return "", fmt.Errorf("%s: %w", m, err)
		}
		if len(loads) > 0 {
			readers++
		}
		for _, l := range loads {
			if l.Misaligned() != 0 {
				off = append(off, m+": "+l.String())
			}
		}
	}
	switch {
	case readers == 0:
		return "", nil
	case len(off) == 0:
		return fmt.Sprintf("arm64 .BTF_ids: %d of %d modules read their id lists through scaled loads, each on its boundary where the module loader puts the section",
			readers, len(mods)), nil
	}
	return fmt.Sprintf("arm64 .BTF_ids: %d of %d modules read their id lists through scaled loads; %d loads are off their boundary where the module loader puts the section, so they read the wrong words (btf_ids.h without .balign 4): %s",
		readers, len(mods), len(off), strings.Join(off, "; ")), nil
}
