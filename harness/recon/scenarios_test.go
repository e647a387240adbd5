package recon

import (
	"encoding/binary"
	"syscall"

	"github.com/btfrecon/btfrecon/harness/btf"
)

const einval, enoent = -int(syscall.EINVAL), -int(syscall.ENOENT)

// selftestBase is the base of the kernel selftest btf_distill.c's
// distilled_base case, rebuilt with our builder.
func selftestBase(b *btf.Builder) {
	i := b.Int("int", 4, btf.IntSigned)              // 1
	pi := b.Ptr(i)                                   // 2
	s1 := b.Struct("s1", 8, m("f1", pi, 0))          // 3
	b.Struct("", 12, m("f1", i, 0), m("f2", s1, 32)) // 4
	b.Int("unsigned int", 4, 0)                      // 5
	b.Union("u1", 12, m("f1", i, 0), m("f2", pi, 0)) // 6
	b.Union("", 4, m("f1", i, 0))                    // 7
	b.Enum("e1", 4, false, ev("v1", 1))              // 8
	b.Enum("", 4, false, ev("av1", 2))               // 9
	b.Enum64("e641", 8, true, ev("v1", 1024))        // 10
	b.Enum64("", 8, true, ev("v1", 1025))            // 11
	b.Struct("unneeded", 4, m("f1", i, 0))           // 12
	b.Struct("embedded", 4, m("f1", i, 0))           // 13
	b.FuncProto(i, p("p1", i))                       // 14
	b.Array(i, i, 3)                                 // 15
	b.Struct("from_proto", 4, m("f1", i, 0))         // 16
	b.Union("u1", 4, m("f1", i, 0))                  // 17
}

func selftestSplit(b *btf.Builder) {
	b.Ptr(3)                                     // 18
	b.Ptr(4)                                     // 19
	b.Ref(btf.KindConst, "", 6)                  // 20
	b.Ref(btf.KindRestrict, "", 7)               // 21
	b.Ref(btf.KindVolatile, "", 8)               // 22
	b.Typedef("et", 9)                           // 23
	b.Ref(btf.KindConst, "", 10)                 // 24
	b.Ptr(11)                                    // 25
	b.Struct("with_embedded", 4, m("f1", 13, 0)) // 26
	b.Func("fn", 14, 0)                          // 27
	b.Typedef("arraytype", 15)                   // 28
	b.FuncProto(1, p("p1", 16))                  // 29
}

// Small bases used by many rows.
func ints(sizes ...uint32) func(b *btf.Builder) {
	return func(b *btf.Builder) {
		for _, s := range sizes {
			b.Int("int", s, btf.IntSigned)
		}
	}
}

// withFoo returns a base [1] int, [2] <foo as made by f>.
func withFoo(f func(b *btf.Builder)) func(b *btf.Builder) {
	return func(b *btf.Builder) {
		b.Int("int", 4, btf.IntSigned)
		f(b)
	}
}

// ptrTo is a split holding one pointer to base type id.
func ptrTo(id btf.TypeID) func(b *btf.Builder) {
	return func(b *btf.Builder) { b.Ptr(id) }
}

// embeds is a split struct holding base type id by value, through
// typedef -> const -> array, so the walk must see through all three.
func embeds(id btf.TypeID) func(b *btf.Builder) {
	return func(b *btf.Builder) {
		first := b.NextID()
		b.Typedef("foo_t", id)                        // first
		b.Ref(btf.KindConst, "", first)               // first+1
		b.Array(first+1, 1, 2)                        // first+2
		b.Struct("holder", 64, m("foos", first+2, 0)) // first+3
	}
}

var scenarios = []scenario{
	{
		name:  "selftest/distilled_base",
		base:  selftestBase,
		split: selftestSplit,
		distilled: lines(
			"[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
			"[2] STRUCT 's1' size=8 vlen=0",
			"[3] UNION 'u1' size=12 vlen=0",
			"[4] ENUM 'e1' encoding=UNSIGNED size=4 vlen=0",
			"[5] ENUM 'e641' encoding=UNSIGNED size=8 vlen=0",
			"[6] STRUCT 'embedded' size=4 vlen=0",
			"[7] STRUCT 'from_proto' size=4 vlen=0"),
		newSplit: lines(
			"[8] PTR '(anon)' type_id=2",
			"[9] PTR '(anon)' type_id=20",
			"[10] CONST '(anon)' type_id=3",
			"[11] RESTRICT '(anon)' type_id=21",
			"[12] VOLATILE '(anon)' type_id=4",
			"[13] TYPEDEF 'et' type_id=22",
			"[14] CONST '(anon)' type_id=5",
			"[15] PTR '(anon)' type_id=23",
			"[16] STRUCT 'with_embedded' size=4 vlen=1\n\t'f1' type_id=6 bits_offset=0",
			"[17] FUNC 'fn' type_id=24 linkage=static",
			"[18] TYPEDEF 'arraytype' type_id=25",
			"[19] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1\n\t'p1' type_id=7",
			"[20] STRUCT '(anon)' size=12 vlen=2\n\t'f1' type_id=1 bits_offset=0\n\t'f2' type_id=2 bits_offset=32",
			"[21] UNION '(anon)' size=4 vlen=1\n\t'f1' type_id=1 bits_offset=0",
			"[22] ENUM '(anon)' encoding=UNSIGNED size=4 vlen=1\n\t'av1' val=2",
			"[23] ENUM64 '(anon)' encoding=SIGNED size=8 vlen=1\n\t'v1' val=1025LL",
			"[24] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1\n\t'p1' type_id=1",
			"[25] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=3"),
		targets: []target{{
			name: "onto the original base",
			reloc: lines(
				"[18] PTR '(anon)' type_id=3",
				"[19] PTR '(anon)' type_id=30",
				"[20] CONST '(anon)' type_id=6",
				"[21] RESTRICT '(anon)' type_id=31",
				"[22] VOLATILE '(anon)' type_id=8",
				"[23] TYPEDEF 'et' type_id=32",
				"[24] CONST '(anon)' type_id=10",
				"[25] PTR '(anon)' type_id=33",
				"[26] STRUCT 'with_embedded' size=4 vlen=1\n\t'f1' type_id=13 bits_offset=0",
				"[27] FUNC 'fn' type_id=34 linkage=static",
				"[28] TYPEDEF 'arraytype' type_id=35",
				"[29] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1\n\t'p1' type_id=16",
				"[30] STRUCT '(anon)' size=12 vlen=2\n\t'f1' type_id=1 bits_offset=0\n\t'f2' type_id=3 bits_offset=32",
				"[31] UNION '(anon)' size=4 vlen=1\n\t'f1' type_id=1 bits_offset=0",
				"[32] ENUM '(anon)' encoding=UNSIGNED size=4 vlen=1\n\t'av1' val=2",
				"[33] ENUM64 '(anon)' encoding=SIGNED size=8 vlen=1\n\t'v1' val=1025LL",
				"[34] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1\n\t'p1' type_id=1",
				"[35] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=3"),
		}, {
			name: "embedded grew",
			base: func(b *btf.Builder) {
				selftestBase(b)
				w := b.Words(13)
				w[2] = 8 // struct embedded: 4 -> 8 bytes
			},
			errno: einval, reason: ErrEmbeddedSize,
		}},
	},
	{
		name:      "selftest/distilled_base_multi",
		base:      ints(4, 8),
		split:     func(b *btf.Builder) { b.Ptr(1); b.Ref(btf.KindConst, "", 2) },
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", "[2] INT 'int' size=8 bits_offset=0 nr_bits=64 encoding=SIGNED"),
		newSplit:  lines("[3] PTR '(anon)' type_id=1", "[4] CONST '(anon)' type_id=2"),
		targets: []target{
			{name: "same base", reloc: lines("[3] PTR '(anon)' type_id=1", "[4] CONST '(anon)' type_id=2")},
			{name: "missing_err: no 8-byte int", base: ints(4), errno: einval, reason: ErrNoCandidate},
			{name: "renumbered", base: func(b *btf.Builder) { b.Int("long", 8, btf.IntSigned); ints(8, 4)(b) },
				reloc: lines("[4] PTR '(anon)' type_id=3", "[5] CONST '(anon)' type_id=2")},
		},
	},
	{
		name:      "selftest/distilled_base_multi_err",
		base:      ints(4, 4),
		split:     func(b *btf.Builder) { b.Ptr(1); b.Ref(btf.KindConst, "", 2) },
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", "[2] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"),
		targets:   []target{{name: "two candidates", errno: einval, reason: ErrMultiple}},
	},
	{
		name:      "selftest/distilled_base_multi_err2",
		base:      ints(4),
		split:     ptrTo(1),
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"),
		targets:   []target{{name: "two in target", base: ints(4, 4), errno: einval, reason: ErrMultiple}},
	},
	{
		name:      "selftest/distilled_base_vmlinux",
		base:      func(b *btf.Builder) { b.Int("long", 8, btf.IntSigned); b.Int("int", 4, btf.IntSigned) },
		split:     func(b *btf.Builder) { b.Typedef("myint", 2); b.Ptr(3) },
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"),
		newSplit:  lines("[2] TYPEDEF 'myint' type_id=1", "[3] PTR '(anon)' type_id=2"),
		targets:   []target{{name: "same base", reloc: lines("[3] TYPEDEF 'myint' type_id=2", "[4] PTR '(anon)' type_id=3")}},
	},
	{
		name:      "selftest/distilled_endianness",
		bo:        binary.BigEndian,
		base:      ints(4),
		split:     ptrTo(1),
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"),
		newSplit:  lines("[2] PTR '(anon)' type_id=1"),
		targets:   []target{{name: "same base", reloc: lines("[2] PTR '(anon)' type_id=1")}},
	},

	// The contract's matching table, row by row.
	{
		name:      "fwd/struct fwd",
		base:      withFoo(func(b *btf.Builder) { b.Fwd("foo", false) }),
		split:     ptrTo(2),
		distilled: lines("[1] FWD 'foo' fwd_kind=struct"),
		targets: []target{
			{name: "B FWD struct", base: func(b *btf.Builder) { b.Fwd("foo", false) }, reloc: lines("[2] PTR '(anon)' type_id=1")},
			{name: "B FWD union", base: func(b *btf.Builder) { b.Fwd("foo", true) }, errno: einval, reason: ErrNoAcceptable},
			{name: "B STRUCT kind_flag 0", base: withFoo(func(b *btf.Builder) { b.Struct("foo", 4, m("x", 1, 0)) }), reloc: lines("[3] PTR '(anon)' type_id=2")},
			{name: "B STRUCT kind_flag 1 (quirk: refused)", base: withFoo(func(b *btf.Builder) { b.Composite(btf.KindStruct, "foo", 4, true, m("x", 1, 3<<24)) }), errno: einval, reason: ErrNoAcceptable},
			{name: "B UNION kind_flag 1 (quirk: accepted)", base: withFoo(func(b *btf.Builder) { b.Composite(btf.KindUnion, "foo", 4, true, m("x", 1, 3<<24)) }), reloc: lines("[3] PTR '(anon)' type_id=2")},
			{name: "B UNION kind_flag 0", base: withFoo(func(b *btf.Builder) { b.Union("foo", 4, m("x", 1, 0)) }), errno: einval, reason: ErrNoAcceptable},
			{name: "B FWD and STRUCT", base: withFoo(func(b *btf.Builder) { b.Fwd("foo", false); b.Struct("foo", 4, m("x", 1, 0)) }), errno: einval, reason: ErrMultiple},
		},
	},
	{
		name:      "fwd/union fwd",
		base:      withFoo(func(b *btf.Builder) { b.Fwd("foo", true) }),
		split:     ptrTo(2),
		distilled: lines("[1] FWD 'foo' fwd_kind=union"),
		targets: []target{
			{name: "B FWD union", base: func(b *btf.Builder) { b.Fwd("foo", true) }, reloc: lines("[2] PTR '(anon)' type_id=1")},
			{name: "B STRUCT kind_flag 0 (quirk: accepted)", base: withFoo(func(b *btf.Builder) { b.Struct("foo", 4, m("x", 1, 0)) }), reloc: lines("[3] PTR '(anon)' type_id=2")},
			{name: "B UNION kind_flag 0 (quirk: refused)", base: withFoo(func(b *btf.Builder) { b.Union("foo", 4, m("x", 1, 0)) }), errno: einval, reason: ErrNoAcceptable},
		},
	},
	{
		name:      "int/encoding",
		base:      ints(4),
		split:     ptrTo(1),
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"),
		targets: []target{
			{name: "unsigned", base: func(b *btf.Builder) { b.Int("int", 4, 0) }, errno: einval, reason: ErrNoAcceptable},
			{name: "bits not compared", base: func(b *btf.Builder) {
				b.Add(b.AddString("int"), btf.MakeInfo(btf.KindInt, 0, false), 4, btf.IntSigned<<24|3<<16|24)
			},
				reloc: lines("[2] PTR '(anon)' type_id=1")},
			{name: "FLOAT of that name", base: func(b *btf.Builder) { b.Float("int", 4) }, errno: einval, reason: ErrNoAcceptable},
			{name: "typedef of that name is skipped", base: func(b *btf.Builder) { b.Typedef("int", 0) }, errno: einval, reason: ErrNoCandidate},
		},
	},
	{
		name:      "float",
		base:      func(b *btf.Builder) { b.Float("double", 8) },
		split:     ptrTo(1),
		distilled: lines("[1] FLOAT 'double' size=8"),
		targets: []target{
			{name: "FLOAT", base: func(b *btf.Builder) { b.Int("x", 4, 0); b.Float("double", 8) }, reloc: lines("[3] PTR '(anon)' type_id=2")},
			{name: "INT of that name", base: func(b *btf.Builder) { b.Int("double", 8, 0) }, errno: einval, reason: ErrNoAcceptable},
		},
	},
	{
		name:      "enum64 becomes enum",
		base:      func(b *btf.Builder) { b.Enum64("e", 8, true, ev("A", 1<<40)) },
		split:     ptrTo(1),
		distilled: lines("[1] ENUM 'e' encoding=UNSIGNED size=8 vlen=0"),
		targets: []target{
			{name: "B ENUM64", reloc: lines("[2] PTR '(anon)' type_id=1")},
			{name: "B ENUM of size 8", base: func(b *btf.Builder) { b.Enum("e", 8, false, ev("A", 1)) }, reloc: lines("[2] PTR '(anon)' type_id=1")},
			{name: "B ENUM of size 4", base: func(b *btf.Builder) { b.Enum("e", 4, false, ev("A", 1)) }, errno: einval, reason: ErrNoCandidate},
		},
	},
	{
		name:      "enum of size 3 cannot be distilled",
		base:      func(b *btf.Builder) { b.Enum("e", 3, false, ev("A", 1)) },
		split:     ptrTo(1),
		distErrno: einval,
	},
	{
		name:      "struct/pointer only: any size, no kind check",
		base:      withFoo(func(b *btf.Builder) { b.Struct("foo", 8, m("a", 1, 0), m("b", 1, 32)) }),
		split:     ptrTo(2),
		distilled: lines("[1] STRUCT 'foo' size=8 vlen=0"),
		newSplit:  lines("[2] PTR '(anon)' type_id=1"),
		targets: []target{
			{name: "grew", base: withFoo(func(b *btf.Builder) { b.Struct("foo", 16, m("a", 1, 0)) }), reloc: lines("[3] PTR '(anon)' type_id=2")},
			{name: "B FWD", base: func(b *btf.Builder) { b.Fwd("foo", false) }, reloc: lines("[2] PTR '(anon)' type_id=1")},
			{name: "B UNION", base: withFoo(func(b *btf.Builder) { b.Union("foo", 4, m("a", 1, 0)) }), reloc: lines("[3] PTR '(anon)' type_id=2")},
			{name: "B INT of the same size", base: func(b *btf.Builder) { b.Int("foo", 8, 0) }, reloc: lines("[2] PTR '(anon)' type_id=1")},
			{name: "B INT of another size", base: func(b *btf.Builder) { b.Int("foo", 4, 0) }, errno: einval, reason: ErrNoCandidate},
			{name: "B FWD and STRUCT", base: withFoo(func(b *btf.Builder) { b.Fwd("foo", false); b.Struct("foo", 8, m("a", 1, 0)) }), errno: einval, reason: ErrMultiple},
			{name: "two B structs, sizes pick", base: withFoo(func(b *btf.Builder) { b.Struct("foo", 16, m("a", 1, 0)); b.Struct("foo", 8, m("a", 1, 0)) }), reloc: lines("[4] PTR '(anon)' type_id=3")},
			{name: "two B structs, neither size", base: withFoo(func(b *btf.Builder) { b.Struct("foo", 16, m("a", 1, 0)); b.Union("foo", 12, m("a", 1, 0)) }), errno: einval, reason: ErrNoCandidate},
			{name: "renamed", base: withFoo(func(b *btf.Builder) { b.Struct("foo2", 8, m("a", 1, 0)) }), errno: einval, reason: ErrNoCandidate},
		},
	},
	{
		name:      "struct/embedded through typedef, const and array",
		base:      withFoo(func(b *btf.Builder) { b.Struct("foo", 8, m("a", 1, 0), m("b", 1, 32)) }),
		split:     embeds(2),
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", "[2] STRUCT 'foo' size=8 vlen=0"),
		targets: []target{
			{name: "same size", base: withFoo(func(b *btf.Builder) { b.Int("pad", 1, 0); b.Struct("foo", 8, m("a", 1, 0)) })},
			{name: "grew", base: withFoo(func(b *btf.Builder) { b.Struct("foo", 16, m("a", 1, 0)) }), errno: einval, reason: ErrEmbeddedSize},
			{name: "B FWD only", base: withFoo(func(b *btf.Builder) { b.Fwd("foo", false) }), errno: einval, reason: ErrEmbeddedSize},
			{name: "B FWD and right-size STRUCT", base: withFoo(func(b *btf.Builder) { b.Fwd("foo", false); b.Struct("foo", 8, m("a", 1, 0)) })},
			{name: "B UNION of the same size", base: withFoo(func(b *btf.Builder) { b.Union("foo", 8, m("a", 1, 0)) })},
			// Upstream quirk (libbpf 1.5.0, kernel 6.12): the embedded mark
			// lives in the id map slot the match overwrites, so after the
			// STRUCT matches, the later FWD skips the size check and is a
			// second candidate. The contract's table says the FWD never
			// matches; libbpf and the kernel refuse.
			{name: "B right-size STRUCT then FWD (upstream quirk)", base: withFoo(func(b *btf.Builder) { b.Struct("foo", 8, m("a", 1, 0)); b.Fwd("foo", false) }),
				errno: einval, reason: ErrMultiple},
		},
	},
	{
		name:      "target type named by an empty string (upstream: matches void)",
		base:      ints(4),
		split:     ptrTo(1),
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"),
		targets: []target{{name: "unique STRUCT whose name_off points at a NUL", base: func(b *btf.Builder) {
			i := b.Int("int", 4, btf.IntSigned)
			b.Add(b.AddString("int")+3, btf.MakeInfo(btf.KindStruct, 0, false), 8) // "int" ends at +3
			_ = i
		}, errno: einval, reason: ErrVoidCandidate}},
	},
	{
		name:     "distill/a split name_off at an empty string becomes 0",
		base:     ints(4),
		split:    func(b *btf.Builder) { b.Add(b.AddString("s")+1, btf.MakeInfo(btf.KindStruct, 1, false), 4, 0, 1, 0) },
		newSplit: lines("[2] STRUCT '(anon)' size=4 vlen=1\n\t'(anon)' type_id=1 bits_offset=0"),
		targets:  []target{{name: "same base", reloc: lines("[2] STRUCT '(anon)' size=4 vlen=1\n\t'(anon)' type_id=1 bits_offset=0")}},
	},
	{
		name: "distill/base FUNC referenced",
		base: func(b *btf.Builder) {
			i := b.Int("int", 4, btf.IntSigned)
			b.Func("f", b.FuncProto(i), 1)
		},
		split:     func(b *btf.Builder) { b.DeclTag("tag", 3, -1) },
		distErrno: einval,
	},
	{
		name:      "distill/anonymous INT lands in the distilled base",
		base:      func(b *btf.Builder) { b.Int("", 4, 0) },
		split:     ptrTo(1),
		distilled: lines("[1] INT '(anon)' size=4 bits_offset=0 nr_bits=32 encoding=(none)"),
		targets:   []target{{name: "validation refuses it", errno: einval, reason: ErrAnonymousDistilled}},
	},
	{
		name: "distill/split strings reuse distilled names",
		base: withFoo(func(b *btf.Builder) {
			b.Struct("foo", 4, m("int", 1, 0))
			b.Struct("bar", 4, m("foo", 1, 0))
		}),
		split: func(b *btf.Builder) {
			// member names equal to a distilled name, to a base name
			// that is not distilled, and new ones
			b.Struct("mine", 12, m("foo", 2, 0), m("bar", 1, 32), m("int", 1, 64))
			b.Ptr(2)
		},
		distilled: lines("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", "[2] STRUCT 'foo' size=4 vlen=0"),
		newSplit: lines(
			"[3] STRUCT 'mine' size=12 vlen=3\n\t'foo' type_id=2 bits_offset=0\n\t'bar' type_id=1 bits_offset=32\n\t'int' type_id=1 bits_offset=64",
			"[4] PTR '(anon)' type_id=2"),
		targets: []target{{name: "renumbered", base: func(b *btf.Builder) {
			b.Struct("foo", 4)
			b.Int("int", 4, btf.IntSigned)
		}, reloc: lines(
			"[3] STRUCT 'mine' size=12 vlen=3\n\t'foo' type_id=1 bits_offset=0\n\t'bar' type_id=2 bits_offset=32\n\t'int' type_id=2 bits_offset=64",
			"[4] PTR '(anon)' type_id=1")}},
	},
}
