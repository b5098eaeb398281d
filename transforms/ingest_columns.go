package transforms

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Column builders for the validated rows: plain Go slices turned into
// Arrow arrays without copying. arrow/array's builders check and grow
// their buffers on every value, which cost the validator a third of its
// time.

// validity is an Arrow validity bitmap under construction.
type validity struct {
	bits  []byte
	n     int
	nulls int
}

func (v *validity) add(valid bool) {
	if v.n%8 == 0 {
		v.bits = append(v.bits, 0)
	}
	if valid {
		v.bits[v.n/8] |= 1 << (v.n % 8)
	} else {
		v.nulls++
	}
	v.n++
}

// buffer returns the bitmap, or nil when no value is null (Arrow's
// convention for "all valid").
func (v *validity) buffer() *memory.Buffer {
	if v.nulls == 0 {
		return nil
	}
	return memory.NewBufferBytes(v.bits)
}

func (v *validity) reset(capHint int) {
	*v = validity{bits: make([]byte, 0, (capHint+7)/8)}
}

// stringColumn builds an Arrow utf8 array.
type stringColumn struct {
	offsets []int32
	data    []byte
	valid   validity
}

func (c *stringColumn) add(s string) {
	c.data = append(c.data, s...)
	c.offsets = append(c.offsets, int32(len(c.data)))
	c.valid.add(true)
}

// addOpt adds s, or a null when s is empty.
func (c *stringColumn) addOpt(s string) {
	if s == "" {
		c.offsets = append(c.offsets, int32(len(c.data)))
		c.valid.add(false)
		return
	}
	c.add(s)
}

func (c *stringColumn) array() arrow.Array {
	d := array.NewData(arrow.BinaryTypes.String, c.valid.n,
		[]*memory.Buffer{c.valid.buffer(), memory.NewBufferBytes(sliceBytes(c.offsets)), memory.NewBufferBytes(c.data)},
		nil, c.valid.nulls, 0)
	defer d.Release()
	// The next batch gets buffers of the size this one needed.
	n, size := cap(c.offsets), cap(c.data)
	c.offsets = append(make([]int32, 0, n), 0)
	c.data = make([]byte, 0, size)
	c.valid.reset(n)
	return array.NewStringData(d)
}

// fixedColumn builds an Arrow array of a fixed-width type.
type fixedColumn[T int32 | int64 | float64] struct {
	typ    arrow.DataType
	values []T
	valid  validity
}

func (c *fixedColumn[T]) add(x T) {
	c.values = append(c.values, x)
	c.valid.add(true)
}

func (c *fixedColumn[T]) addNull() {
	var zero T
	c.values = append(c.values, zero)
	c.valid.add(false)
}

func (c *fixedColumn[T]) array() arrow.Array {
	d := array.NewData(c.typ, c.valid.n,
		[]*memory.Buffer{c.valid.buffer(), memory.NewBufferBytes(sliceBytes(c.values))},
		nil, c.valid.nulls, 0)
	defer d.Release()
	n := cap(c.values)
	c.values = make([]T, 0, n)
	c.valid.reset(n)
	return array.MakeFromData(d)
}

func sliceBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}

func newStringColumn() *stringColumn {
	return &stringColumn{offsets: []int32{0}}
}

func newFixedColumn[T int32 | int64 | float64](typ arrow.DataType) *fixedColumn[T] {
	return &fixedColumn[T]{typ: typ}
}
