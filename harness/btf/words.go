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

// toWords converts a section to host-order words. A section in host order
// at a 4-byte aligned address is not copied: the words alias sec (their
// capacity ends with it, so an append copies). Otherwise it is a copy, with
// a byte swap per word for the other order.
func toWords(sec []byte, bo binary.ByteOrder) []uint32 {
	n := len(sec) / 4
	if n == 0 {
		return []uint32{}
	}
	if bo == hostOrder && uintptr(unsafe.Pointer(&sec[0]))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&sec[0])), n)
	}
	words := make([]uint32, n)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 4*n), sec)
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
