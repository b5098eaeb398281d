package duck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

// Stream is a DuckDB connection driven through the C API (duckdb-go's own
// bindings) instead of database/sql. duckdb-go materialises a whole result
// before the first row can be read, and so does its Arrow interface;
// `marrow query` cannot afford that (SELECT * FROM range(1e12) would fill
// the memory limit before printing a byte). Stream executes with DuckDB's
// streaming results: a chunk is computed when the previous one has been
// consumed.
//
// A Stream is used by one goroutine at a time.
type Stream struct {
	db   bindings.Database
	conn bindings.Connection
}

// ErrOutOfMemory matches a DuckDB error raised because the session's
// memory_limit was reached.
var ErrOutOfMemory = errors.New("duckdb: out of memory")

// ErrSeveralStatements is returned when a text holds more than one SQL
// statement where one is expected.
var ErrSeveralStatements = errors.New("several statements")

// dbError is a DuckDB error with its type.
type dbError struct {
	msg string
	typ bindings.ErrorType
}

func (e *dbError) Error() string { return e.msg }

func (e *dbError) Is(target error) bool {
	return target == ErrOutOfMemory && e.typ == bindings.ErrorTypeOutOfMemory
}

// OpenStream opens an in-memory database configured like Open (autoinstall
// and autoload of extensions off) and one connection to it.
func OpenStream(ctx context.Context, opts Options) (*Stream, error) {
	var cfg bindings.Config
	if bindings.CreateConfig(&cfg) == bindings.StateError {
		return nil, errors.New("open duckdb: cannot create config")
	}
	defer bindings.DestroyConfig(&cfg)
	for _, kv := range [][2]string{
		{"autoinstall_known_extensions", "false"},
		{"autoload_known_extensions", "false"},
	} {
		if bindings.SetConfig(cfg, kv[0], kv[1]) == bindings.StateError {
			return nil, fmt.Errorf("open duckdb: config %s", kv[0])
		}
	}
	s := &Stream{}
	var msg string
	if bindings.OpenExt("", &s.db, cfg, &msg) == bindings.StateError {
		return nil, fmt.Errorf("open duckdb: %s", msg)
	}
	if bindings.Connect(s.db, &s.conn) == bindings.StateError {
		bindings.Close(&s.db)
		return nil, errors.New("open duckdb: cannot connect")
	}
	var set []string
	if opts.Threads > 0 {
		set = append(set, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	if opts.MemoryLimit != "" {
		set = append(set, "SET memory_limit = "+Literal(opts.MemoryLimit))
	}
	if opts.TempDir != "" {
		set = append(set, "SET temp_directory = "+Literal(opts.TempDir))
	}
	for _, q := range set {
		if err := s.Exec(ctx, q); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the connection and the database.
func (s *Stream) Close() {
	bindings.Disconnect(&s.conn)
	bindings.Close(&s.db)
}

// Version is the DuckDB library version, e.g. "v1.5.6".
func Version() string { return bindings.LibraryVersion() }

// interruptOn interrupts the connection's running query when ctx ends,
// until the returned stop is called.
func (s *Stream) interruptOn(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ctx.Done():
			bindings.Interrupt(s.conn)
		case <-done:
		}
	}()
	return func() { close(done); <-finished }
}

// Exec runs one or more statements that return no rows worth reading.
func (s *Stream) Exec(ctx context.Context, query string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := s.interruptOn(ctx)
	defer stop()
	var res bindings.Result
	defer bindings.DestroyResult(&res)
	if bindings.Query(s.conn, query, &res) == bindings.StateError {
		return s.failed(ctx, &dbError{bindings.ResultError(&res), bindings.ResultErrorType(&res)})
	}
	return nil
}

// failed prefers the context's error (timeout, cancel) over the interrupt
// it caused.
func (s *Stream) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.Join(ctx.Err(), err)
	}
	return err
}

// Kind is the broad family of a result column's type, which decides how a
// value is printed and quoted.
type Kind int

const (
	KindOther    Kind = iota // UUID, BIT, GEOMETRY, ...
	KindText                 // VARCHAR, ENUM, BLOB, UNION: free text
	KindNumber               // integers, DECIMAL, FLOAT, DOUBLE
	KindBool                 // BOOLEAN
	KindTemporal             // DATE, TIME, TIMESTAMP*, INTERVAL
	KindNested               // LIST, ARRAY, STRUCT, MAP
)

// Column is one column of a statement's result.
type Column struct {
	Name string
	Kind Kind
}

// Statement describes a prepared statement: whether DuckDB types it as a
// SELECT, and its result columns.
type Statement struct {
	Select  bool
	Columns []Column
}

// Describe prepares query, which must hold exactly one statement, without
// running it. Unlike duckdb-go's PrepareContext, which silently executes
// every statement but the last, nothing of a text with several statements
// is run: that is ErrSeveralStatements.
func (s *Stream) Describe(query string) (*Statement, error) {
	stmt, err := s.prepare(query)
	if err != nil {
		return nil, err
	}
	defer bindings.DestroyPrepare(&stmt)
	st := &Statement{Select: bindings.PreparedStatementType(stmt) == bindings.StatementTypeSelect}
	n := bindings.PreparedStatementColumnCount(stmt)
	for i := bindings.IdxT(0); i < n; i++ {
		st.Columns = append(st.Columns, Column{
			Name: bindings.PreparedStatementColumnName(stmt, i),
			Kind: kindOf(bindings.PreparedStatementColumnType(stmt, i)),
		})
	}
	return st, nil
}

func (s *Stream) prepare(query string) (bindings.PreparedStatement, error) {
	var stmt bindings.PreparedStatement
	if strings.IndexByte(query, 0) >= 0 {
		return stmt, errors.New("statement contains a NUL byte")
	}
	var ex bindings.ExtractedStatements
	defer bindings.DestroyExtracted(&ex)
	switch n := bindings.ExtractStatements(s.conn, query, &ex); {
	case n == 0:
		if msg := bindings.ExtractStatementsError(ex); msg != "" {
			return stmt, &dbError{msg: msg}
		}
		return stmt, errors.New("empty statement")
	case n > 1:
		return stmt, fmt.Errorf("%w (%d)", ErrSeveralStatements, n)
	}
	if bindings.PrepareExtractedStatement(s.conn, ex, 0, &stmt) == bindings.StateError {
		msg := bindings.PrepareError(stmt)
		bindings.DestroyPrepare(&stmt)
		return stmt, &dbError{msg: msg}
	}
	return stmt, nil
}

// StreamText runs query, one statement whose columns are all VARCHAR, and
// calls fn for each row with the values and whether each is non-NULL. The
// slices are reused between calls and the strings point into DuckDB's
// vectors: both are valid only until fn returns (strings.Clone to keep). A chunk (2,048 rows) is computed only
// when the previous one has been handed to fn, so memory stays bounded by
// the query's own needs. An error from fn stops the query and is returned.
func (s *Stream) StreamText(ctx context.Context, query string, fn func(vals []string, valid []bool) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := s.interruptOn(ctx)
	defer stop()
	stmt, err := s.prepare(query)
	if err != nil {
		return s.failed(ctx, err)
	}
	defer bindings.DestroyPrepare(&stmt)
	ncol := int(bindings.PreparedStatementColumnCount(stmt))
	for i := 0; i < ncol; i++ {
		if t := bindings.PreparedStatementColumnType(stmt, bindings.IdxT(i)); t != bindings.TypeVarchar {
			return fmt.Errorf("stream: column %d is not VARCHAR", i+1)
		}
	}
	var pending bindings.PendingResult
	if bindings.PendingPreparedStreaming(stmt, &pending) == bindings.StateError {
		msg := bindings.PendingError(pending)
		bindings.DestroyPending(&pending)
		return s.failed(ctx, &dbError{msg: msg, typ: typeFromMessage(msg)})
	}
	defer bindings.DestroyPending(&pending)
	var res bindings.Result
	defer bindings.DestroyResult(&res)
	if bindings.ExecutePending(pending, &res) == bindings.StateError {
		return s.failed(ctx, &dbError{bindings.ResultError(&res), bindings.ResultErrorType(&res)})
	}
	vals := make([]string, ncol)
	valid := make([]bool, ncol)
	data := make([]unsafe.Pointer, ncol)
	masks := make([][]uint64, ncol)
	for {
		chunk := bindings.FetchChunk(res)
		if chunk.Ptr == nil {
			break
		}
		err := func() error {
			defer bindings.DestroyDataChunk(&chunk)
			n := int(bindings.DataChunkGetSize(chunk))
			for c := 0; c < ncol; c++ {
				vec := bindings.DataChunkGetVector(chunk, bindings.IdxT(c))
				data[c] = bindings.VectorGetData(vec)
				masks[c] = nil
				if m := bindings.VectorGetValidity(vec); m != nil {
					masks[c] = unsafe.Slice((*uint64)(m), (n+63)/64)
				}
			}
			for r := 0; r < n; r++ {
				for c := 0; c < ncol; c++ {
					valid[c] = masks[c] == nil || masks[c][r/64]&(1<<(r%64)) != 0
					vals[c] = ""
					if valid[c] {
						vals[c] = borrowedString(data[c], r)
					}
				}
				if err := fn(vals, valid); err != nil {
					return err
				}
			}
			return nil
		}()
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if msg := bindings.ResultError(&res); msg != "" {
		return s.failed(ctx, &dbError{msg, bindings.ResultErrorType(&res)})
	}
	return ctx.Err()
}

// borrowedString reads row r of a VARCHAR vector's duckdb_string_t array
// without a cgo call or a copy: a uint32 length, then up to 12 bytes
// inline, or else a 4-byte prefix and a pointer at offset 8 (duckdb.h,
// string_t; duckdb-go reads it the same way). The C allocator aligns the
// array to 8 bytes and each element is 16, so the pointer is aligned.
func borrowedString(data unsafe.Pointer, r int) string {
	p := unsafe.Add(data, uintptr(r)*16)
	n := *(*uint32)(p)
	if n <= 12 {
		return unsafe.String((*byte)(unsafe.Add(p, 4)), int(n))
	}
	return unsafe.String(*(**byte)(unsafe.Add(p, 8)), int(n))
}

// typeFromMessage recovers the error type where the C API gives only a
// message (a pending result's error).
func typeFromMessage(msg string) bindings.ErrorType {
	if strings.HasPrefix(msg, "Out of Memory Error") {
		return bindings.ErrorTypeOutOfMemory
	}
	return bindings.ErrorTypeInvalid
}

func kindOf(t bindings.Type) Kind {
	switch t {
	case bindings.TypeVarchar, bindings.TypeEnum, bindings.TypeBlob, bindings.TypeUnion:
		return KindText
	case bindings.TypeTinyInt, bindings.TypeSmallInt, bindings.TypeInteger, bindings.TypeBigInt,
		bindings.TypeUTinyInt, bindings.TypeUSmallInt, bindings.TypeUInteger, bindings.TypeUBigInt,
		bindings.TypeHugeInt, bindings.TypeUHugeInt, bindings.TypeBigNum,
		bindings.TypeFloat, bindings.TypeDouble, bindings.TypeDecimal:
		return KindNumber
	case bindings.TypeBoolean:
		return KindBool
	case bindings.TypeDate, bindings.TypeTime, bindings.TypeTimeNS, bindings.TypeTimeTZ,
		bindings.TypeTimestamp, bindings.TypeTimestampS, bindings.TypeTimestampMS,
		bindings.TypeTimestampNS, bindings.TypeTimestampTZ, bindings.TypeInterval:
		return KindTemporal
	case bindings.TypeList, bindings.TypeArray, bindings.TypeStruct, bindings.TypeMap:
		return KindNested
	}
	return KindOther
}
