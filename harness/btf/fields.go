package btf

import "fmt"

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

// FieldName names word w of a type of this kind for messages, in the
// contract's words: "name_off", "type", "elem type", "index_type",
// "return type", "member 2 type", "param 0 name_off", "var_secinfo 1 type",
// "enumerator 3 name_off"; any other word is "word N".
func FieldName(kind Kind, w int) string {
	if w == 0 {
		return "name_off"
	}
	switch kind {
	case KindPtr, KindTypedef, KindConst, KindVolatile, KindRestrict,
		KindTypeTag, KindFwd, KindFunc, KindVar, KindDeclTag:
		if w == 2 {
			return "type"
		}
	case KindArray:
		switch w {
		case 3:
			return "elem type"
		case 4:
			return "index_type"
		}
	case KindStruct, KindUnion:
		if w >= 3 && (w-3)%3 < 2 {
			return fmt.Sprintf("member %d %s", (w-3)/3, [...]string{"name_off", "type"}[(w-3)%3])
		}
	case KindFuncProto:
		if w == 2 {
			return "return type"
		}
		if w >= 3 {
			return fmt.Sprintf("param %d %s", (w-3)/2, [...]string{"name_off", "type"}[(w-3)%2])
		}
	case KindDatasec:
		if w >= 3 && (w-3)%3 == 0 {
			return fmt.Sprintf("var_secinfo %d type", (w-3)/3)
		}
	case KindEnum:
		if w >= 3 && (w-3)%2 == 0 {
			return fmt.Sprintf("enumerator %d name_off", (w-3)/2)
		}
	case KindEnum64:
		if w >= 3 && (w-3)%3 == 0 {
			return fmt.Sprintf("enumerator %d name_off", (w-3)/3)
		}
	}
	return fmt.Sprintf("word %d", w)
}
