package btf

import (
	"errors"
	"fmt"
)

// Sentinel errors; every decoding error wraps one of them in an *Error.
var (
	ErrBadMagic     = errors.New("bad magic")
	ErrTruncated    = errors.New("truncated")
	ErrBadHeader    = errors.New("unsupported header")
	ErrBadLayout    = errors.New("bad section layout")
	ErrBadStrings   = errors.New("bad string section")
	ErrUnknownKind  = errors.New("unknown kind")
	ErrBadInfo      = errors.New("bad info word")
	ErrTypeIDRange  = errors.New("type id out of range")
	ErrStringRange  = errors.New("string offset out of range")
	ErrNotFound     = errors.New("not found")
	ErrNotSplit     = errors.New("not split BTF")
	ErrBadKindForOp = errors.New("kind does not have that field")
)

// Error is a decoding error located in the blob: Offset is the byte offset
// in the blob (header included), ID the type id when a type is at fault.
type Error struct {
	Offset int
	ID     TypeID // 0 when no type is at fault
	Err    error  // one of the sentinel errors
	Msg    string
}

func (e *Error) Error() string {
	if e.ID != 0 {
		return fmt.Sprintf("btf: type [%d] at offset %#x: %s: %v", e.ID, e.Offset, e.Msg, e.Err)
	}
	return fmt.Sprintf("btf: offset %#x: %s: %v", e.Offset, e.Msg, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func errAt(sentinel error, off int, format string, args ...any) *Error {
	return &Error{Offset: off, Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}

func errType(sentinel error, id TypeID, off int, format string, args ...any) *Error {
	return &Error{Offset: off, ID: id, Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}
