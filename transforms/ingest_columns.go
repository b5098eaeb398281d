package transforms

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Column builders for the validated rows: plain Go slices turned into
// Arrow arrays without copying. arrow/array's builders check and grow
// their buffers on every value, which cost the validator a third of its
// time. The slices come from columnPool and go back to it when DuckDB has
// copied the batch and releases it, so that a 10-million-row load does
// not allocate half a gigabyte for the garbage collector to chase.

// bufferPool is a memory.Allocator that recycles buffers by power-of-two
// capacity. Buffers of 64 bytes and more are 64-byte aligned, as Arrow
// recommends: Go's size classes of powers of two are aligned to their size
// up to a page, and larger objects are page aligned.
type bufferPool struct {
	classes [48]sync.Pool // class c holds *[]byte of capacity 1<<c
}

var columnPool bufferPool

const minBufferClass = 6 // 64 bytes

func bufferClass(n int) int {
	if n <= 1<<minBufferClass {
		return minBufferClass
	}
	return bits.Len(uint(n - 1))
}

// Allocate returns a buffer of length n; its contents are undefined.
func (p *bufferPool) Allocate(n int) []byte {
	c := bufferClass(n)
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<c)
}

// Reallocate returns a buffer of length n holding b's first bytes.
func (p *bufferPool) Reallocate(n int, b []byte) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := p.Allocate(n)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free takes back a buffer of p.
func (p *bufferPool) Free(b []byte) {
	c := bufferClass(cap(b))
	if cap(b) != 1<<c {
		return // not one of ours
	}
	b = b[:0]
	p.classes[c].Put(&b)
}

// pooledSlice is a growable []T whose memory comes from columnPool.
type pooledSlice[T any] struct {
	buf []byte // the pooled buffer under s
	s   []T
}

func (p *pooledSlice[T]) size() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}

// grow makes room for n more elements.
func (p *pooledSlice[T]) grow(n int) {
	need := (len(p.s) + n) * p.size()
	if need <= len(p.buf) {
		return
	}
	nb := columnPool.Allocate(max(need, 2*len(p.buf)))
	nb = nb[:cap(nb)]
	copy(nb, p.buf[:len(p.s)*p.size()])
	if p.buf != nil {
		columnPool.Free(p.buf)
	}
	l := len(p.s)
	p.buf = nb
	p.s = unsafe.Slice((*T)(unsafe.Pointer(&nb[0])), len(nb)/p.size())[:l]
}

func (p *pooledSlice[T]) add(x T) {
	if len(p.s) == cap(p.s) {
		p.grow(1)
	}
	p.s = append(p.s, x)
}

// buffer hands the elements over as an Arrow buffer that returns its
// memory to columnPool when released, and starts a new slice of the same
// capacity.
func (p *pooledSlice[T]) buffer() *memory.Buffer {
	if p.buf == nil {
		return nil
	}
	b := memory.NewBufferWithAllocator(p.buf[:len(p.s)*p.size()], &columnPool)
	n := len(p.buf)
	p.buf, p.s = nil, nil
	p.grow(n / p.size())
	return b
}

// validity is an Arrow validity bitmap under construction.
type validity struct {
	bits  pooledSlice[byte]
	n     int
	nulls int
}

func (v *validity) add(valid bool) {
	if v.n%8 == 0 {
		v.bits.add(0)
	}
	if valid {
		v.bits.s[v.n/8] |= 1 << (v.n % 8)
	} else {
		v.nulls++
	}
	v.n++
}

// buffer returns the bitmap, or nil when no value is null (Arrow's
// convention for "all valid").
func (v *validity) buffer() *memory.Buffer {
	var b *memory.Buffer
	if v.nulls > 0 {
		b = v.bits.buffer()
	} else {
		v.bits.s = v.bits.s[:0]
	}
	v.n, v.nulls = 0, 0
	return b
}

// stringColumn builds an Arrow utf8 array.
type stringColumn struct {
	offsets pooledSlice[int32]
	data    pooledSlice[byte]
	valid   validity
}

func newStringColumn() *stringColumn {
	c := &stringColumn{}
	c.offsets.add(0)
	return c
}

func (c *stringColumn) add(s string) {
	if len(c.data.s)+len(s) > cap(c.data.s) {
		c.data.grow(len(s))
	}
	c.data.s = append(c.data.s, s...)
	c.offsets.add(int32(len(c.data.s)))
	c.valid.add(true)
}

// addOpt adds s, or a null when s is empty.
func (c *stringColumn) addOpt(s string) {
	if s == "" {
		c.offsets.add(int32(len(c.data.s)))
		c.valid.add(false)
		return
	}
	c.add(s)
}

// bytes is the size of the column's text so far.
func (c *stringColumn) bytes() int { return len(c.data.s) }

func (c *stringColumn) array() arrow.Array {
	n, nulls := c.valid.n, c.valid.nulls
	bufs := []*memory.Buffer{c.valid.buffer(), c.offsets.buffer(), c.data.buffer()}
	if bufs[2] == nil { // no value added since the column was created
		bufs[2] = memory.NewBufferBytes(nil)
	}
	d := array.NewData(arrow.BinaryTypes.String, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release() // d holds them now
		}
	}
	defer d.Release()
	c.offsets.add(0)
	return array.NewStringData(d)
}

// fixedColumn builds an Arrow array of a fixed-width type.
type fixedColumn[T int32 | int64 | float64] struct {
	typ    arrow.DataType
	values pooledSlice[T]
	valid  validity
}

func newFixedColumn[T int32 | int64 | float64](typ arrow.DataType) *fixedColumn[T] {
	return &fixedColumn[T]{typ: typ}
}

func (c *fixedColumn[T]) add(x T) {
	c.values.add(x)
	c.valid.add(true)
}

func (c *fixedColumn[T]) addNull() {
	var zero T
	c.values.add(zero)
	c.valid.add(false)
}

func (c *fixedColumn[T]) array() arrow.Array {
	n, nulls := c.valid.n, c.valid.nulls
	bufs := []*memory.Buffer{c.valid.buffer(), c.values.buffer()}
	d := array.NewData(c.typ, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer d.Release()
	return array.MakeFromData(d)
}
