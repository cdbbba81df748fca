package email

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// UTF-7 (RFC 2152) is not in x/text, yet old mail clients still send it.
func init() {
	for _, name := range []string{"utf-7", "utf7", "unicode-1-1-utf-7", "csunicode11utf7", "x-unicode20utf7"} {
		charset.RegisterEncoding(name, utf7{})
	}
}

type utf7 struct{}

func (utf7) NewDecoder() *encoding.Decoder { return &encoding.Decoder{Transformer: &utf7Decoder{}} }

// Mail is only ever decoded from UTF-7, never encoded to it.
func (utf7) NewEncoder() *encoding.Encoder {
	return &encoding.Encoder{Transformer: encoding.UTF8Validator}
}

type utf7Decoder struct {
	shifted bool   // inside a +...- base64 run
	first   bool   // the run's first character comes next ("+-" is "+")
	bits    uint32 // base64 bits not yet making a 16-bit unit
	nbits   uint
	high    rune // a high surrogate waiting for its pair
}

func (d *utf7Decoder) Reset() { *d = utf7Decoder{} }

func b64(c byte) (uint32, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return uint32(c - 'A'), true
	case c >= 'a' && c <= 'z':
		return uint32(c-'a') + 26, true
	case c >= '0' && c <= '9':
		return uint32(c-'0') + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}

func (d *utf7Decoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	put := func(r rune) bool {
		if nDst+utf8.RuneLen(r) > len(dst) {
			return false
		}
		nDst += utf8.EncodeRune(dst[nDst:], r)
		return true
	}
	for nSrc < len(src) {
		c := src[nSrc]
		if !d.shifted {
			if c == '+' {
				d.shifted, d.first, d.bits, d.nbits = true, true, 0, 0
				nSrc++
				continue
			}
			r := rune(c)
			if c >= 0x80 {
				r = utf8.RuneError
			}
			if !put(r) {
				return nDst, nSrc, transform.ErrShortDst
			}
			nSrc++
			continue
		}
		v, ok := b64(c)
		if !ok {
			// The run ends; a '-' ending it is absorbed ("+-" is a plus).
			if d.first && c == '-' {
				if !put('+') {
					return nDst, nSrc, transform.ErrShortDst
				}
			}
			if d.high != 0 {
				if !put(utf8.RuneError) {
					return nDst, nSrc, transform.ErrShortDst
				}
				d.high = 0
			}
			d.shifted = false
			if c == '-' {
				nSrc++
			}
			continue
		}
		d.first = false
		if d.nbits+6 >= 16 {
			acc, left := d.bits<<6|v, d.nbits+6-16
			unit := rune(acc >> left & 0xFFFF)
			high, r := d.high, rune(-1)
			switch {
			case utf16.IsSurrogate(unit) && unit < 0xDC00:
				high = unit
			case utf16.IsSurrogate(unit) && high != 0:
				r, high = utf16.DecodeRune(high, unit), 0
			case utf16.IsSurrogate(unit):
				r = utf8.RuneError
			default:
				r = unit
			}
			if r >= 0 && !put(r) {
				return nDst, nSrc, transform.ErrShortDst
			}
			d.high, d.nbits, d.bits = high, left, acc&(1<<left-1)
		} else {
			d.bits = d.bits<<6 | v
			d.nbits += 6
		}
		nSrc++
	}
	return nDst, nSrc, nil
}
