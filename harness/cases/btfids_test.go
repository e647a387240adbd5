package cases_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btfrecon/btfrecon/harness/cases"
	"github.com/btfrecon/btfrecon/harness/load"
)

// TestBTFIDsOutOfRangePre68: a set8 without BTF_SET8_KFUNCS (as 6.1's
// resolve_btfids leaves btfrecon_test's) is a kfunc set only for a kernel
// before 6.8, which registers every set8: the case is built for such a
// kernel and not applicable for a newer one.
func TestBTFIDsOutOfRangePre68(t *testing.T) {
	var c cases.Case
	for _, m := range cases.Module() {
		if m.Name == "btf-ids-out-of-range" {
			c = m
		}
	}
	in := handInput(t)
	ids := handIDs(0x10)
	binary.LittleEndian.PutUint32(ids.Sec[4:], 0) // no BTF_SET8_KFUNCS
	in.IDs = ids
	if _, err := c.Build(in); !errors.Is(err, cases.ErrNotApplicable) {
		t.Errorf("6.8+: unflagged set8 built: %v", err)
	}
	ids.EverySet8 = load.Set8sAreKfuncSets("6.1.192+")
	made, err := c.Build(in)
	if err != nil {
		t.Fatalf("6.1: %v", err)
	}
	if got := binary.LittleEndian.Uint32(made.IDs[8:]); got != cases.BadKfuncID {
		t.Errorf("6.1: entry %#x, want %#x", got, cases.BadKfuncID)
	}
}
