package email

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
)

// headerRepair reads a raw message and passes it on with every header
// block (the message's and each MIME part's) in a form a strict reader
// takes, and with the MIME structure held within MaxDepth:
//
//   - lines before the message's first header field (an mbox "From "
//     line, other junk) are dropped;
//   - a line in a header that is not a field is a broken fold when a field
//     follows it (it is joined to the field before), else the first line
//     of a body whose header had no blank line after it (one is added);
//   - a header longer than maxHeaderBytes is cut;
//   - parts nested deeper than MaxDepth are left out: their bytes never
//     reach the MIME reader, which stacks one reader per level, so every
//     byte of a deep branch would otherwise pass through every level.
//
// It follows the structure itself (the boundary of each multipart level)
// so that it knows where each part header starts.
type headerRepair struct {
	br  *bufio.Reader
	out []byte
	off int
	err error

	state     int
	fields    int      // fields in the current header
	fieldSize int      // bytes of the current field
	size      int      // bytes of the current header
	held      []byte   // a non-field line in a header, waiting for the next line
	dropFold  bool     // the folds of a dropped field are dropped too
	leading   [][]byte // non-field lines before the message's first field
	ctField   []byte   // the current header's Content-Type field, unfolded
	inCT      bool     // the line before was the Content-Type field or its fold
	midLine   bool     // the last chunk read was a line longer than the buffer
	dropLine  bool     // ... and it is being dropped
	stack     []string // boundaries of the open multipart levels, outermost first
	last      byte     // the last byte passed on

	// What was left out, for the parser's note.
	deepSkipped bool
	headerCut   bool
}

const (
	stTop        = iota // before the message's first header field
	stHeader            // in a header
	stSkipHeader        // in a header past maxHeaderBytes: dropped
	stBody              // in a body
	stDeep              // in a branch nested too deep: dropped
)

// maxHeaderBytes bounds one header block; maxLeading how many junk lines
// may come before the message's header before it is taken as having none.
const (
	maxHeaderBytes = 256 << 10
	maxFieldBytes  = 64 << 10
	maxLeading     = 20
)

// readers keeps the repair readers' buffers between parses.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func newHeaderRepair(r io.Reader) *headerRepair {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return &headerRepair{br: br, state: stTop}
}

// release gives the buffer back once the parse is over.
func (r *headerRepair) release() {
	r.br.Reset(nil)
	readers.Put(r.br)
	r.br = nil
	r.err = io.EOF
}

func (r *headerRepair) Read(p []byte) (int, error) {
	for r.off == len(r.out) && r.err == nil {
		r.out, r.off = r.out[:0], 0
		r.step()
	}
	if r.off < len(r.out) {
		n := copy(p, r.out[r.off:])
		r.off += n
		return n, nil
	}
	return 0, r.err
}

// step reads one line (or one buffer of a very long line) and passes on
// what becomes of it.
func (r *headerRepair) step() {
	if (r.state == stBody || r.state == stDeep) && !r.midLine && r.bulk() {
		return
	}
	line, err := r.br.ReadSlice('\n')
	long := errors.Is(err, bufio.ErrBufferFull)
	if long {
		err = nil
	}
	if len(line) > 0 {
		cont := r.midLine
		r.midLine = long
		if cont {
			switch {
			case r.dropLine || r.state == stDeep || r.state == stSkipHeader:
			case r.state == stHeader:
				r.headerBytes(line)
			default:
				r.emit(line)
			}
		} else {
			r.dropLine = false
			r.line(line, long)
		}
	}
	if err != nil {
		r.flush()
		r.err = err
	}
}

// bulk passes on (or drops, in a branch too deep) the buffered body lines
// up to the next one that could be a boundary line, all at once: bodies
// are most of a message, and only lines starting with "--" matter there.
func (r *headerRepair) bulk() bool {
	buf, _ := r.br.Peek(r.br.Buffered())
	if len(buf) == 0 || buf[0] == '-' {
		return false
	}
	n := bytes.Index(buf, []byte("\n-")) + 1
	if n == 0 {
		n = bytes.LastIndexByte(buf, '\n') + 1
	}
	if n == 0 {
		return false
	}
	if r.state == stBody {
		r.emit(buf[:n])
	}
	r.br.Discard(n)
	return true
}

// line handles one line that starts in the message.
func (r *headerRepair) line(line []byte, long bool) {
	switch r.state {
	case stBody:
		r.bodyLine(line)
	case stDeep:
		if level, final := r.delimiter(line); level >= 0 {
			r.state = stBody
			r.atDelimiter(line, level, final)
		} else {
			r.dropLine = true
		}
	case stSkipHeader:
		if isBlank(line) {
			r.endHeader(nil)
			r.emit(line)
		} else if level, final := r.delimiter(line); level >= 0 {
			r.endHeader(line)
			r.atDelimiter(line, level, final)
		} else {
			r.dropLine = true
		}
	case stTop:
		r.topLine(line, long)
	case stHeader:
		r.headerLine(line, long)
	}
}

func (r *headerRepair) topLine(line []byte, long bool) {
	switch {
	case isBlank(line):
		// The message has no header: what came before is its body.
		r.emit(newline(line))
		r.emitLeading()
		r.emit(line)
		r.state = stBody
	case isField(line):
		r.leading = nil // junk before the header
		r.state = stHeader
		r.headerLine(line, long)
	case isFold(line) && isField(bytes.TrimLeft(line, " \t")):
		// The first field indented as if it were a fold.
		r.leading = nil
		r.state = stHeader
		r.headerLine(bytes.TrimLeft(line, " \t"), long)
	default:
		if long || len(r.leading) >= maxLeading {
			r.emit(newline(line))
			r.emitLeading()
			r.emit(line)
			r.state = stBody
			return
		}
		r.leading = append(r.leading, bytes.Clone(line))
	}
}

func (r *headerRepair) emitLeading() {
	for _, l := range r.leading {
		r.emit(l)
	}
	r.leading = nil
}

func (r *headerRepair) headerLine(line []byte, long bool) {
	if r.held != nil {
		held := r.held
		r.held = nil
		// A held line with a colon is a field whose name is not a valid
		// name (spaces, punctuation): it is dropped with its folds.
		named := bytes.IndexByte(held, ':') > 0 || isMboxLine(held)
		switch {
		case isField(line) && named:
		case isField(line):
			// A fold that lost its leading space.
			r.count(held)
			r.emit([]byte{' '})
			r.emit(held)
			if r.inCT {
				r.ctField = append(r.ctField, ' ')
				r.ctField = append(r.ctField, trimNewline(held)...)
			}
		case named && isFold(line):
			r.dropFold = true
		default:
			// The header ended without its blank line: the held line
			// is the first line of the body.
			r.endHeader(held)
			r.emit(held)
			r.state = stBody
			r.bodyLine(line)
			return
		}
	}
	if r.dropFold {
		if isFold(line) {
			r.dropLine = true
			return
		}
		r.dropFold = false
	}
	if level, final := r.delimiter(line); level >= 0 {
		r.endHeader(line)
		r.atDelimiter(line, level, final)
		return
	}
	switch {
	case isBlank(line):
		r.endHeader(nil)
		r.emit(line)
	case (line[0] == ' ' || line[0] == '\t') && r.fields > 0:
		if r.inCT && len(r.ctField) < 8<<10 {
			r.ctField = append(r.ctField, trimNewline(line)...)
		}
		r.headerBytes(line)
	case isField(line):
		r.fields++
		r.fieldSize = 0
		key, _, _ := bytes.Cut(line, []byte(":"))
		r.inCT = strings.EqualFold(string(bytes.TrimSpace(key)), "Content-Type") && r.ctField == nil
		if r.inCT {
			r.ctField = append([]byte{}, trimNewline(line)...)
		}
		r.headerBytes(line)
	case long || r.fields == 0:
		// A part whose body starts right after its boundary line.
		r.endHeader(line)
		r.emit(line)
	default:
		r.held = bytes.Clone(line)
	}
}

// headerBytes passes on a header line while the field and the header are
// within their bounds: the rest of a field too long is dropped (the field
// keeps its start), and so is the rest of a header too long.
func (r *headerRepair) headerBytes(line []byte) {
	r.fieldSize += len(line)
	if r.fieldSize > maxFieldBytes {
		r.headerCut = true
		if r.last != '\n' {
			r.emit([]byte("\r\n")) // ends the field where it was cut
		}
		r.dropLine = true
		return
	}
	r.count(line)
	if r.size > maxHeaderBytes {
		r.headerCut = true
		r.state = stSkipHeader
		r.dropLine = true
		r.inCT = false
		return
	}
	r.emit(line)
}

func (r *headerRepair) count(line []byte) {
	if r.state == stHeader || r.state == stTop {
		r.size += len(line)
	}
}

// endHeader closes the current header (adding its blank line unless the
// next line is one) and opens the multipart level its Content-Type names.
func (r *headerRepair) endHeader(next []byte) {
	if next != nil {
		r.emit(newline(next))
	}
	ct := string(r.ctField)
	r.fields, r.size, r.ctField, r.inCT, r.held = 0, 0, nil, false, nil
	r.state = stBody
	_, value, _ := strings.Cut(ct, ":")
	ctype, params := contentType(value)
	if !strings.HasPrefix(ctype, "multipart/") || params["boundary"] == "" {
		return
	}
	if len(r.stack) >= MaxDepth {
		r.deepSkipped = true
		r.state = stDeep
		return
	}
	r.stack = append(r.stack, params["boundary"])
}

// bodyLine passes on a body line; a boundary line of an open level starts
// the next part's header.
func (r *headerRepair) bodyLine(line []byte) {
	if level, final := r.delimiter(line); level >= 0 {
		r.atDelimiter(line, level, final)
		return
	}
	r.emit(line)
}

func (r *headerRepair) atDelimiter(line []byte, level int, final bool) {
	r.emit(line)
	if final {
		r.stack = r.stack[:level] // the level is closed; its epilogue follows
		r.state = stBody
		return
	}
	r.stack = r.stack[:level+1] // deeper levels left unclosed end here
	r.state = stHeader
}

// delimiter tells whether line is the boundary line of an open level
// (innermost first) and whether it closes it; level is -1 otherwise.
func (r *headerRepair) delimiter(line []byte) (level int, final bool) {
	if len(r.stack) == 0 || len(line) < 3 || line[0] != '-' || line[1] != '-' {
		return -1, false
	}
	s := strings.TrimRight(string(line[2:]), " \t\r\n")
	for i := len(r.stack) - 1; i >= 0; i-- {
		b := r.stack[i]
		if s == b {
			return i, false
		}
		if len(s) == len(b)+2 && strings.HasPrefix(s, b) && strings.HasSuffix(s, "--") {
			return i, true
		}
	}
	return -1, false
}

// flush passes on what was held back when the message ends.
func (r *headerRepair) flush() {
	if r.state == stTop && r.leading != nil {
		r.emit([]byte("\r\n"))
		r.emitLeading()
	}
	if r.held != nil {
		held := r.held
		r.endHeader(held)
		r.emit(held)
	}
}

func (r *headerRepair) emit(b []byte) {
	if len(b) > 0 {
		r.out = append(r.out, b...)
		r.last = b[len(b)-1]
	}
}

// isField tells a header field line: a name of printable characters
// without a colon, then a colon.
func isField(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// isFold tells a folded line: one that starts with white space and has
// more than white space.
func isFold(line []byte) bool {
	return len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && len(bytes.TrimSpace(line)) > 0
}

func isBlank(line []byte) bool { return len(trimNewline(line)) == 0 }

func isMboxLine(line []byte) bool {
	return bytes.HasPrefix(line, []byte("From ")) || bytes.HasPrefix(line, []byte(">From "))
}

func trimNewline(line []byte) []byte { return bytes.TrimRight(line, "\r\n") }

// newline is the line ending line uses, for a line added beside it.
func newline(line []byte) []byte {
	if bytes.HasSuffix(line, []byte("\r\n")) || !bytes.HasSuffix(line, []byte("\n")) {
		return []byte("\r\n")
	}
	return []byte("\n")
}

var boundaryParam = regexp.MustCompile(`(?i)\bboundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))`)
var charsetParam = regexp.MustCompile(`(?i)\bcharset\s*=\s*(?:"([^"]*)"|([^\s;"]+))`)
var nameParam = regexp.MustCompile(`(?i)\bname\s*=\s*(?:"([^"]*)"|([^\s;"]+))`)
