package kmod

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
)

// A fast path for the xz files kbuild and xz(1) write: one stream, blocks
// whose only filter is LZMA2, check None, CRC32, CRC64 or SHA-256. It
// decodes straight into one buffer of the size the stream's index gives,
// which is also the LZMA2 dictionary (no window copies, no per-byte
// interfaces), and checks everything the format defines: header, block
// header and index CRCs, sizes against the index, padding, the block
// checks, the LZMA2 chunk sequence, range coder state at every chunk end.
//
// It says no to anything else, and decompress then lets the reference
// decoder (github.com/ulikunitz/xz) decide: another format variant, a
// damaged stream, an image that is not ELF or over MaxImage. So errors and
// bombs keep exactly the reference's behaviour; the fast path is only
// ever taken where it is at least as strict as the reference, and there the
// two are the same LZMA2 decoding.

var crc64Table = crc64.MakeTable(crc64.ECMA)

// xzFastFirst is what the fast path allocates before the output starts
// with the ELF magic (the index may promise up to MaxImage): the first
// LZMA2 chunk fits, and so do most modules.
const xzFastFirst = 4 << 20

// xzFastMaxDict: a larger dictionary than xz -9's 64 MiB is left to the
// reference decoder (which allocates it).
const xzFastMaxDict = 256 << 20

// xzFast decodes b or returns ok false.
func xzFast(b []byte) (out []byte, ok bool) {
	const hdrLen, footLen = 12, 12
	if len(b) < hdrLen+footLen || !bytes.HasPrefix(b, xzMagic) {
		return nil, false
	}
	// Stream header and footer: the same flags, CRCs, "YZ".
	flags := b[6:8]
	check := flags[1]
	if flags[0] != 0 || crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(b[8:]) {
		return nil, false
	}
	var checkLen int
	switch check {
	case 0x00:
	case 0x01:
		checkLen = 4
	case 0x04:
		checkLen = 8
	case 0x0a:
		checkLen = 32
	default:
		return nil, false
	}
	foot := b[len(b)-footLen:]
	if foot[10] != 'Y' || foot[11] != 'Z' || !bytes.Equal(foot[8:10], flags) ||
		crc32.ChecksumIEEE(foot[4:10]) != binary.LittleEndian.Uint32(foot) {
		return nil, false
	}
	indexLen := (int64(binary.LittleEndian.Uint32(foot[4:])) + 1) * 4
	if indexLen > int64(len(b)-hdrLen-footLen) {
		return nil, false
	}
	indexAt := len(b) - footLen - int(indexLen)
	recs, total, ok := xzIndex(b[indexAt : len(b)-footLen])
	if !ok || total > MaxImage || total < int64(len(elfMagic)) {
		return nil, false
	}

	out = make([]byte, min(total, xzFastFirst))
	full := func(keep int) {
		if len(out) < int(total) {
			nb := make([]byte, total)
			copy(nb, out[:keep])
			out = nb
		}
	}
	var d lzma2Dec
	pos, opos := hdrLen, 0
	for _, r := range recs {
		// Block header: size, flags, optional sizes, one LZMA2 filter
		// (id 0x21, one property byte), zero padding, CRC32.
		if pos >= indexAt || b[pos] == 0 {
			return nil, false
		}
		hl := (int(b[pos]) + 1) * 4
		if hl > indexAt-pos {
			return nil, false
		}
		h := b[pos : pos+hl]
		if crc32.ChecksumIEEE(h[:hl-4]) != binary.LittleEndian.Uint32(h[hl-4:]) {
			return nil, false
		}
		bf := h[1]
		if bf&0x3f != 0 { // reserved bits clear and one filter
			return nil, false
		}
		field := h[2 : hl-4]
		compSize, uncompSize := int64(-1), int64(-1)
		if bf&0x40 != 0 {
			if compSize, field, ok = uvarint(field); !ok {
				return nil, false
			}
		}
		if bf&0x80 != 0 {
			if uncompSize, field, ok = uvarint(field); !ok {
				return nil, false
			}
		}
		if len(field) < 3 || field[0] != 0x21 || field[1] != 1 || field[2] > 40 {
			return nil, false
		}
		dictSize := int64(2|field[2]&1) << (field[2]/2 + 11)
		if dictSize > xzFastMaxDict {
			return nil, false
		}
		for _, z := range field[3:] {
			if z != 0 {
				return nil, false
			}
		}
		if r.uncomp > total-int64(opos) {
			return nil, false
		}
		blockLen := int(r.uncomp)
		var magic []byte
		var grow func(keep int) []byte
		if opos == 0 {
			magic = elfMagic // not ELF: the reference decoder says what it is
			grow = func(keep int) []byte { full(keep); return out[:blockLen] }
		} else {
			full(opos)
		}
		n, got, ok := d.decode(out[opos:min(opos+blockLen, len(out))], blockLen, b[pos+hl:indexAt], dictSize, magic, grow)
		if !ok || got != blockLen || (compSize >= 0 && compSize != int64(n)) || (uncompSize >= 0 && uncompSize != r.uncomp) {
			return nil, false
		}
		blk := out[opos : opos+blockLen]
		// Block padding, the check, the index record.
		at := pos + hl + n
		pad := (4 - n%4) % 4
		if at+pad+checkLen > indexAt {
			return nil, false
		}
		for _, z := range b[at : at+pad] {
			if z != 0 {
				return nil, false
			}
		}
		sum := b[at+pad : at+pad+checkLen]
		switch check {
		case 0x01:
			ok = crc32.ChecksumIEEE(blk) == binary.LittleEndian.Uint32(sum)
		case 0x04:
			ok = crc64.Checksum(blk, crc64Table) == binary.LittleEndian.Uint64(sum)
		case 0x0a:
			s := sha256.Sum256(blk)
			ok = bytes.Equal(s[:], sum)
		}
		if !ok || r.unpadded != int64(hl+n+checkLen) {
			return nil, false
		}
		pos, opos = at+pad+checkLen, opos+len(blk)
	}
	if pos != indexAt || opos != len(out) {
		return nil, false
	}
	return out, true
}

type xzRecord struct{ unpadded, uncomp int64 }

// xzIndex decodes a stream's index: indicator, records, padding, CRC32.
func xzIndex(idx []byte) (recs []xzRecord, total int64, ok bool) {
	if len(idx) < 8 || idx[0] != 0 ||
		crc32.ChecksumIEEE(idx[:len(idx)-4]) != binary.LittleEndian.Uint32(idx[len(idx)-4:]) {
		return nil, 0, false
	}
	rest := idx[1 : len(idx)-4]
	n, rest, ok := uvarint(rest)
	if !ok || n > int64(len(rest)) {
		return nil, 0, false
	}
	recs = make([]xzRecord, n)
	for i := range recs {
		var r xzRecord
		if r.unpadded, rest, ok = uvarint(rest); !ok || r.unpadded == 0 {
			return nil, 0, false
		}
		if r.uncomp, rest, ok = uvarint(rest); !ok {
			return nil, 0, false
		}
		recs[i] = r
		if total += r.uncomp; total > MaxImage {
			return nil, 0, false
		}
	}
	if len(rest) > 3 { // index padding: to a multiple of 4, given len(idx)
		return nil, 0, false
	}
	for _, z := range rest {
		if z != 0 {
			return nil, 0, false
		}
	}
	return recs, total, true
}

// uvarint decodes an xz multibyte integer: at most 9 bytes, 63 bits, no
// needless trailing zero byte.
func uvarint(b []byte) (int64, []byte, bool) {
	var x uint64
	for i := 0; i < 9 && i < len(b); i++ {
		x |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			if i > 0 && b[i] == 0 {
				return 0, nil, false
			}
			return int64(x), b[i+1:], true
		}
	}
	return 0, nil, false
}

// ---- LZMA2 ---------------------------------------------------------------

const (
	lzmaStates   = 12
	lzmaMinMatch = 2
	lzmaMaxMatch = 273
	lzmaLitSize  = 0x300
	// chunkBuf holds one compressed chunk (at most 64 KiB) and zeros
	// behind it: the range decoder reads by a mask, never out of bounds,
	// and a chunk that reads past its end is refused.
	chunkBuf = 1 << 17
)

type lenDec struct {
	choice, choice2 uint16
	low, mid        [16][8]uint16
	high            [256]uint16
}

type lzma2Dec struct {
	rc rangeDec

	lc, lp, pb uint32
	state      uint32
	rep        [4]uint32

	isMatch    [256]uint16 // [state<<4 | posState]
	isRep      [16]uint16
	isRep0     [16]uint16
	isRep1     [16]uint16
	isRep2     [16]uint16
	isRep0Long [256]uint16
	posSlot    [4][64]uint16
	posSpecial [128]uint16
	align      [16]uint16
	matchLen   lenDec
	repLen     lenDec
	literal    []uint16 // lzmaLitSize << (lc+lp)
}

type rangeDec struct {
	in        *[chunkBuf]byte
	ip        uint32
	rng, code uint32
}

// norm refills the range after a bit (the reference decoder's and
// liblzma's byte accounting: a chunk's last bit is followed by a refill).
func (rc *rangeDec) norm() {
	if rc.rng < 1<<24 {
		rc.rng <<= 8
		rc.code = rc.code<<8 | uint32(rc.in[rc.ip&(chunkBuf-1)])
		rc.ip++
	}
}

func (rc *rangeDec) bit(p *uint16) (b uint32) {
	// Kept within the inliner's budget: it is the innermost operation.
	bound := (rc.rng >> 11) * uint32(*p)
	if rc.code < bound {
		rc.rng = bound
		*p += (2048 - *p) >> 5
	} else {
		rc.rng -= bound
		rc.code -= bound
		*p -= *p >> 5
		b = 1
	}
	if rc.rng < 1<<24 {
		rc.rng <<= 8
		rc.code = rc.code<<8 | uint32(rc.in[rc.ip&(chunkBuf-1)])
		rc.ip++
	}
	return
}

// tree decodes n bits, most significant first, with probs[1 << n].
func (rc *rangeDec) tree(probs []uint16, n uint) uint32 {
	sym := uint32(1)
	for range n {
		sym = sym<<1 | rc.bit(&probs[sym])
	}
	return sym - 1<<n
}

// reverse decodes n bits, least significant first, with probs[1:].
func (rc *rangeDec) reverse(probs []uint16, n uint) uint32 {
	sym, res := uint32(1), uint32(0)
	for i := range n {
		b := rc.bit(&probs[sym])
		sym = sym<<1 | b
		res |= b << i
	}
	return res
}

func (l *lenDec) decode(rc *rangeDec, posState uint32) uint32 {
	if rc.bit(&l.choice) == 0 {
		return rc.tree(l.low[posState&15][:], 3)
	}
	if rc.bit(&l.choice2) == 0 {
		return 8 + rc.tree(l.mid[posState&15][:], 3)
	}
	return 16 + rc.tree(l.high[:], 8)
}

func (l *lenDec) reset() {
	l.choice, l.choice2 = 1024, 1024
	for i := range l.low {
		for j := range l.low[i] {
			l.low[i][j], l.mid[i][j] = 1024, 1024
		}
	}
	for i := range l.high {
		l.high[i] = 1024
	}
}

func fill(p []uint16) {
	for i := range p {
		p[i] = 1024
	}
}

// resetState is LZMA2's state reset: probabilities, state and distances.
func (d *lzma2Dec) resetState() {
	d.state, d.rep = 0, [4]uint32{}
	fill(d.isMatch[:])
	fill(d.isRep[:])
	fill(d.isRep0[:])
	fill(d.isRep1[:])
	fill(d.isRep2[:])
	fill(d.isRep0Long[:])
	for i := range d.posSlot {
		fill(d.posSlot[i][:])
	}
	fill(d.posSpecial[:])
	fill(d.align[:])
	d.matchLen.reset()
	d.repLen.reset()
	n := lzmaLitSize << (d.lc + d.lp)
	if cap(d.literal) < n {
		d.literal = make([]uint16, n)
	}
	d.literal = d.literal[:n]
	fill(d.literal)
}

// decode decodes one block's LZMA2 data from in into out, which is also
// the dictionary, for at most blockLen bytes. When out is shorter, grow(n)
// returns the block's whole buffer with out[:n] in it. It returns the
// compressed bytes used (the end marker included) and the bytes produced;
// ok is false for anything the format does not allow, more than blockLen
// bytes, and output that does not start with magic (checked after the
// first chunk, before any growing).
func (d *lzma2Dec) decode(out []byte, blockLen int, in []byte, dictSize int64, magic []byte, grow func(int) []byte) (used, produced int, ok bool) {
	if d.rc.in == nil {
		d.rc.in = new([chunkBuf]byte)
	}
	const (
		needDictReset = iota
		needProps
		running
	)
	st := needDictReset
	pos, dictStart, ip := 0, 0, 0
	for {
		if magic != nil && pos >= len(magic) {
			if !bytes.HasPrefix(out, magic) {
				return 0, 0, false
			}
			magic = nil
		}
		if ip >= len(in) {
			return 0, 0, false
		}
		c := in[ip]
		switch {
		case c == 0x00:
			return ip + 1, pos, magic == nil
		case c == 0x01 || c >= 0xe0:
			dictStart, st = pos, needProps
		case st == needDictReset:
			return 0, 0, false
		}
		if c == 0x01 || c == 0x02 {
			if ip+3 > len(in) {
				return 0, 0, false
			}
			n := int(in[ip+1])<<8 | int(in[ip+2]) + 1
			ip += 3
			if n > len(in)-ip || n > blockLen-pos {
				return 0, 0, false
			}
			if n > len(out)-pos {
				if magic != nil {
					return 0, 0, false
				}
				out = grow(pos)
			}
			copy(out[pos:], in[ip:ip+n])
			ip, pos = ip+n, pos+n
			continue
		}
		if c < 0x80 {
			return 0, 0, false
		}
		if ip+5 > len(in) {
			return 0, 0, false
		}
		un := int(c&0x1f)<<16 | int(in[ip+1])<<8 | int(in[ip+2]) + 1
		cn := int(in[ip+3])<<8 | int(in[ip+4]) + 1
		ip += 5
		switch {
		case c >= 0xc0:
			if ip >= len(in) {
				return 0, 0, false
			}
			p := uint32(in[ip])
			ip++
			if p >= 9*5*5 {
				return 0, 0, false
			}
			d.lc, d.lp, d.pb = p%9, p/9%5, p/45
			if d.lc+d.lp > 4 {
				return 0, 0, false
			}
			d.resetState()
			st = running
		case st == needProps:
			return 0, 0, false
		case c >= 0xa0:
			d.resetState()
		}
		if cn > len(in)-ip || un > blockLen-pos {
			return 0, 0, false
		}
		if un > len(out)-pos {
			if magic != nil {
				return 0, 0, false
			}
			out = grow(pos)
		}
		copy(d.rc.in[:], in[ip:ip+cn])
		clear(d.rc.in[cn : cn+64])
		if !d.chunk(out[:pos+un], pos, dictStart, dictSize, uint32(cn)) {
			return 0, 0, false
		}
		ip, pos = ip+cn, pos+un
	}
}

// chunk decodes one LZMA chunk, its cn compressed bytes in d.rc.in, into
// out[pos:]; the dictionary starts at out[dictStart].
func (d *lzma2Dec) chunk(out []byte, pos, dictStart int, dictSize int64, cn uint32) bool {
	rc := &d.rc
	in := rc.in
	if cn < 5 || in[0] != 0 {
		return false
	}
	rc.rng = 0xffffffff
	rc.code = binary.BigEndian.Uint32(in[1:5])
	rc.ip = 5
	if rc.code == rc.rng {
		return false
	}
	pbMask := uint32(1)<<d.pb - 1
	lpMask := uint32(1)<<d.lp - 1
	lc := d.lc
	state := d.state
	rep0, rep1, rep2, rep3 := d.rep[0], d.rep[1], d.rep[2], d.rep[3]
	lit := d.literal
	end := len(out)
	for pos < end {
		// Each operation reads at most a few dozen bytes: stop as soon
		// as the chunk's own are used up.
		if rc.ip > cn {
			return false
		}
		rel := uint32(pos - dictStart)
		posState := rel & pbMask
		if rc.bit(&d.isMatch[(state<<4|posState)&0xff]) == 0 {
			var prev uint32
			if pos > dictStart {
				prev = uint32(out[pos-1])
			}
			base := ((rel&lpMask)<<lc + prev>>(8-lc)) * lzmaLitSize
			probs := lit[base : base+lzmaLitSize : base+lzmaLitSize]
			sym := uint32(1)
			if state < 7 {
				// rc.bit by hand, on locals: most of the work.
				rng, code, ip := rc.rng, rc.code, rc.ip
				for sym < 0x100 {
					p := &probs[sym]
					bound := (rng >> 11) * uint32(*p)
					if code < bound {
						rng = bound
						*p += (2048 - *p) >> 5
						sym <<= 1
					} else {
						rng -= bound
						code -= bound
						*p -= *p >> 5
						sym = sym<<1 | 1
					}
					if rng < 1<<24 {
						rng <<= 8
						code = code<<8 | uint32(in[ip&(chunkBuf-1)])
						ip++
					}
				}
				rc.rng, rc.code, rc.ip = rng, code, ip
			} else {
				// A matched literal: rep0 was checked when it was used.
				match := uint32(out[pos-int(rep0)-1])
				offset := uint32(0x100)
				rng, code, ip := rc.rng, rc.code, rc.ip
				for sym < 0x100 {
					match <<= 1
					mbit := match & offset
					p := &probs[offset+mbit+sym]
					bound := (rng >> 11) * uint32(*p)
					if code < bound {
						rng = bound
						*p += (2048 - *p) >> 5
						sym <<= 1
						offset &^= mbit
					} else {
						rng -= bound
						code -= bound
						*p -= *p >> 5
						sym = sym<<1 | 1
						offset &= mbit
					}
					if rng < 1<<24 {
						rng <<= 8
						code = code<<8 | uint32(in[ip&(chunkBuf-1)])
						ip++
					}
				}
				rc.rng, rc.code, rc.ip = rng, code, ip
			}
			out[pos] = byte(sym)
			pos++
			switch {
			case state < 4:
				state = 0
			case state < 10:
				state -= 3
			default:
				state -= 6
			}
			continue
		}
		var n uint32
		if rc.bit(&d.isRep[state&15]) == 0 {
			rep3, rep2, rep1 = rep2, rep1, rep0
			n = d.matchLen.decode(rc, posState)
			if state < 7 {
				state = 7
			} else {
				state = 10
			}
			rep0 = d.distance(n)
			if rep0 == 0xffffffff {
				return false // an end marker: not in LZMA2
			}
			n += lzmaMinMatch
		} else {
			if rc.bit(&d.isRep0[state&15]) == 0 {
				if rc.bit(&d.isRep0Long[(state<<4|posState)&0xff]) == 0 {
					if state < 7 {
						state = 9
					} else {
						state = 11
					}
					n = 1
				}
			} else {
				var dist uint32
				if rc.bit(&d.isRep1[state&15]) == 0 {
					dist = rep1
				} else {
					if rc.bit(&d.isRep2[state&15]) == 0 {
						dist = rep2
					} else {
						dist = rep3
						rep3 = rep2
					}
					rep2 = rep1
				}
				rep1 = rep0
				rep0 = dist
			}
			if n == 0 {
				n = d.repLen.decode(rc, posState) + lzmaMinMatch
				if state < 7 {
					state = 8
				} else {
					state = 11
				}
			}
		}
		// Copy n bytes from rep0+1 back: inside the dictionary, inside
		// the chunk.
		dist := int(rep0) + 1
		if int64(dist) > dictSize || dist > pos-dictStart || int(n) > end-pos {
			return false
		}
		from := pos - dist
		if dist >= int(n) {
			copy(out[pos:pos+int(n)], out[from:])
		} else {
			for i := range int(n) {
				out[pos+i] = out[from+i]
			}
		}
		pos += int(n)
	}
	d.state = state
	d.rep = [4]uint32{rep0, rep1, rep2, rep3}
	// The chunk must end exactly: all its bytes used, the coder flushed.
	return rc.ip == cn && rc.code == 0
}

// distance decodes a match distance (minus one) for a length n (minus two).
func (d *lzma2Dec) distance(n uint32) uint32 {
	rc := &d.rc
	slot := rc.tree(d.posSlot[min(n, 3)][:], 6)
	if slot < 4 {
		return slot
	}
	direct := uint(slot>>1 - 1)
	dist := 2 | slot&1
	if slot < 14 {
		dist <<= direct
		// posSpecial[k+1] is liblzma's dist_special[k]: reverse reads
		// from index 1.
		return dist + rc.reverse(d.posSpecial[dist-slot:], direct)
	}
	for range direct - 4 {
		rc.rng >>= 1
		var b uint32
		if rc.code >= rc.rng {
			rc.code -= rc.rng
			b = 1
		}
		dist = dist<<1 | b
		rc.norm()
	}
	return dist<<4 + rc.reverse(d.align[:], 4)
}
