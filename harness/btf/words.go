package btf

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// hostOrder is the byte order of this machine.
var hostOrder binary.ByteOrder = func() binary.ByteOrder {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}()

// toWords converts a section to host-order words: a plain copy when the
// blob is in host order, a byte swap per word otherwise.
func toWords(sec []byte, bo binary.ByteOrder) []uint32 {
	words := make([]uint32, len(sec)/4)
	if len(words) == 0 {
		return words
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 4*len(words)), sec)
	if bo != hostOrder {
		for i, w := range words {
			words[i] = bits.ReverseBytes32(w)
		}
	}
	return words
}

// putWords writes words to dst in byte order bo.
func putWords(dst []byte, bo binary.ByteOrder, words []uint32) {
	if len(words) == 0 {
		return
	}
	if bo == hostOrder {
		copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 4*len(words)))
		return
	}
	for i, w := range words {
		bo.PutUint32(dst[4*i:], w)
	}
}
