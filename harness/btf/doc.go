// Package btf is btfrecon's raw BTF codec: it decodes a BTF blob (standalone
// or split on a base) into types that keep their ids and raw string offsets,
// and encodes them back to the same bytes.
//
// Every type is held in its on-disk shape, as the 32-bit words it is made of
// (name_off, info, size/type, then the kind's trailer), converted to host
// order once. Every BTF record is a whole number of 32-bit words, so this
// representation is lossless: encoding writes the words back in the blob's
// byte order, and the round trip is byte-identical for every accepted input.
// The reconciliation model rewrites ids and string offsets in these words,
// the way the kernel rewrites a module's BTF in place.
//
// The format is documented in the kernel tree at Documentation/bpf/btf.rst.
// Decoding is structural and strict: header fields, section layout, kinds,
// info bits, trailer lengths, type ids and string offsets are checked, and
// anything this codec cannot interpret (an unknown kind, non-zero header
// bytes past the 24 it knows, info bits outside the 6.12 mask) is refused
// with an *Error naming the byte offset and, where there is one, the type id.
// Semantic checks (is this INT encoding legal, is this name an identifier)
// are the kernel's business and are not made here.
package btf
