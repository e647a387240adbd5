package btf

// IDFields appends to dst the word indices (into Type.W) of the type's
// type-id fields, in the contract's field iteration order: the order in
// which libbpf and the kernel visit them, which fixes the order of
// everything distillation adds.
//
//	PTR TYPEDEF CONST VOLATILE RESTRICT TYPE_TAG FWD FUNC VAR DECL_TAG: type
//	ARRAY: elem type, then index_type
//	STRUCT UNION: each member's type
//	FUNC_PROTO: return type, then each param's type
//	DATASEC: each var_secinfo's type
//	INT FLOAT ENUM ENUM64: none
func IDFields(dst []int, kind Kind, vlen int) []int {
	switch kind {
	case KindPtr, KindTypedef, KindConst, KindVolatile, KindRestrict,
		KindTypeTag, KindFwd, KindFunc, KindVar, KindDeclTag:
		dst = append(dst, 2)
	case KindArray:
		dst = append(dst, 3, 4)
	case KindStruct, KindUnion:
		for i := range vlen {
			dst = append(dst, 3+3*i+1)
		}
	case KindFuncProto:
		dst = append(dst, 2)
		for i := range vlen {
			dst = append(dst, 3+2*i+1)
		}
	case KindDatasec:
		for i := range vlen {
			dst = append(dst, 3+3*i)
		}
	}
	return dst
}

// StringFields appends to dst the word indices of the type's string-offset
// fields in iteration order: name_off first, then each member's, param's
// or enumerator's name_off.
func StringFields(dst []int, kind Kind, vlen int) []int {
	dst = append(dst, 0)
	switch kind {
	case KindStruct, KindUnion, KindEnum64:
		for i := range vlen {
			dst = append(dst, 3+3*i)
		}
	case KindEnum, KindFuncProto:
		for i := range vlen {
			dst = append(dst, 3+2*i)
		}
	}
	return dst
}
