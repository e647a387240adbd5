// Command fuzzseeds writes the hand and generated three-way inputs as
// libFuzzer seeds for the C core's fuzz target (kernel-patch/userspace/fuzz.c):
// each BTF blob preceded by its little-endian u32 length.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btfrecon/btfrecon/harness/threeway"
)

func main() {
	out := flag.String("out", "", "seed directory")
	flag.Parse()
	ins, err := threeway.HandInputs()
	if err == nil {
		var gen []threeway.Input
		gen, err = threeway.GenInputs(1, 200)
		ins = append(ins, gen...)
	}
	if err != nil || *out == "" {
		fmt.Fprintln(os.Stderr, "fuzzseeds:", err, "(-out required)")
		os.Exit(2)
	}
	for _, in := range ins {
		var b []byte
		for _, part := range [][]byte{in.D, in.S, in.T.Raw} {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(part)))
			b = append(b, part...)
		}
		h := sha256.Sum256(b)
		if err := os.WriteFile(filepath.Join(*out, "seed-"+hex.EncodeToString(h[:8])), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fuzzseeds:", err)
			os.Exit(2)
		}
	}
	fmt.Printf("fuzzseeds: %d seeds in %s\n", len(ins), *out)
}
