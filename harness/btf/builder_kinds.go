package btf

// Typed helpers over Builder.Add, one per kind, for tests and generators.
// Names are added to the string table; "" is anonymous.

// Member is a STRUCT/UNION member. Offset is the raw offset word: a bit
// offset, or (with the composite's kind_flag) bitfield size << 24 | offset.
type Member struct {
	Name   string
	Type   TypeID
	Offset uint32
}

// Param is a FUNC_PROTO parameter.
type Param struct {
	Name string
	Type TypeID
}

// Enumerator is an ENUM or ENUM64 value.
type Enumerator struct {
	Name  string
	Value uint64
}

// SecInfo is a DATASEC entry.
type SecInfo struct {
	Type         TypeID
	Offset, Size uint32
}

// INT encoding bits (BTF_INT_*).
const (
	IntSigned = 1 << 0
	IntChar   = 1 << 1
	IntBool   = 1 << 2
)

func (b *Builder) name(s string) uint32 {
	if s == "" {
		return 0
	}
	return b.AddString(s)
}

// Int adds an INT of size bytes, with nr_bits = 8*size and offset 0.
func (b *Builder) Int(name string, size, encoding uint32) TypeID {
	return b.Add(b.name(name), MakeInfo(KindInt, 0, false), size, encoding<<24|8*size)
}

// Float adds a FLOAT.
func (b *Builder) Float(name string, size uint32) TypeID {
	return b.Add(b.name(name), MakeInfo(KindFloat, 0, false), size)
}

// Ref adds a kind made of a name and one type id: PTR, TYPEDEF, VOLATILE,
// CONST, RESTRICT, TYPE_TAG.
func (b *Builder) Ref(kind Kind, name string, to TypeID) TypeID {
	return b.Add(b.name(name), MakeInfo(kind, 0, false), uint32(to))
}

// Ptr adds a PTR to t.
func (b *Builder) Ptr(to TypeID) TypeID { return b.Ref(KindPtr, "", to) }

// Typedef adds a TYPEDEF.
func (b *Builder) Typedef(name string, to TypeID) TypeID { return b.Ref(KindTypedef, name, to) }

// Array adds an ARRAY of n elements.
func (b *Builder) Array(elem, index TypeID, n uint32) TypeID {
	return b.Add(0, MakeInfo(KindArray, 0, false), 0, uint32(elem), uint32(index), n)
}

// Composite adds a STRUCT or UNION (kind), with kindFlag set for
// bitfield-encoded member offsets.
func (b *Builder) Composite(kind Kind, name string, size uint32, kindFlag bool, members ...Member) TypeID {
	w := []uint32{b.name(name), MakeInfo(kind, len(members), kindFlag), size}
	for _, m := range members {
		w = append(w, b.name(m.Name), uint32(m.Type), m.Offset)
	}
	return b.Add(w...)
}

// Struct adds a STRUCT without bitfields.
func (b *Builder) Struct(name string, size uint32, members ...Member) TypeID {
	return b.Composite(KindStruct, name, size, false, members...)
}

// Union adds a UNION without bitfields.
func (b *Builder) Union(name string, size uint32, members ...Member) TypeID {
	return b.Composite(KindUnion, name, size, false, members...)
}

// Enum adds an ENUM (signed sets kind_flag).
func (b *Builder) Enum(name string, size uint32, signed bool, vals ...Enumerator) TypeID {
	w := []uint32{b.name(name), MakeInfo(KindEnum, len(vals), signed), size}
	for _, v := range vals {
		w = append(w, b.name(v.Name), uint32(v.Value))
	}
	return b.Add(w...)
}

// Enum64 adds an ENUM64 (signed sets kind_flag).
func (b *Builder) Enum64(name string, size uint32, signed bool, vals ...Enumerator) TypeID {
	w := []uint32{b.name(name), MakeInfo(KindEnum64, len(vals), signed), size}
	for _, v := range vals {
		w = append(w, b.name(v.Name), uint32(v.Value), uint32(v.Value>>32))
	}
	return b.Add(w...)
}

// Fwd adds a FWD to a struct, or to a union when union is set.
func (b *Builder) Fwd(name string, union bool) TypeID {
	return b.Add(b.name(name), MakeInfo(KindFwd, 0, union), 0)
}

// FuncProto adds a FUNC_PROTO.
func (b *Builder) FuncProto(ret TypeID, params ...Param) TypeID {
	w := []uint32{0, MakeInfo(KindFuncProto, len(params), false), uint32(ret)}
	for _, p := range params {
		w = append(w, b.name(p.Name), uint32(p.Type))
	}
	return b.Add(w...)
}

// Func adds a FUNC with the given linkage (0 static, 1 global, 2 extern).
func (b *Builder) Func(name string, proto TypeID, linkage int) TypeID {
	return b.Add(b.name(name), MakeInfo(KindFunc, linkage, false), uint32(proto))
}

// Var adds a VAR with the given linkage.
func (b *Builder) Var(name string, t TypeID, linkage uint32) TypeID {
	return b.Add(b.name(name), MakeInfo(KindVar, 0, false), uint32(t), linkage)
}

// Datasec adds a DATASEC.
func (b *Builder) Datasec(name string, size uint32, vars ...SecInfo) TypeID {
	w := []uint32{b.name(name), MakeInfo(KindDatasec, len(vars), false), size}
	for _, v := range vars {
		w = append(w, uint32(v.Type), v.Offset, v.Size)
	}
	return b.Add(w...)
}

// DeclTag adds a DECL_TAG on t (component -1 for the type itself).
func (b *Builder) DeclTag(name string, t TypeID, component int32) TypeID {
	return b.Add(b.name(name), MakeInfo(KindDeclTag, 0, false), uint32(t), uint32(component))
}
