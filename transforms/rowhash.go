package transforms

import "math"

// A transplant's row_hash is DuckDB's
//
//	hash(transplant_id, patient_id, center_id, transplant_date,
//	     transplant_type, donor_type, graft_source, indication,
//	     disease_status, conditioning, age_years, sex, karnofsky, hct_ci,
//	     n_events, hash_sum)
//
// of the stored row (testdata/plainsql/transplant_row_hash.sql, the SQL it
// replaces), computed in Go: the validators fold the row's own fields
// (transplant.hash), and once the events are counted rowHash adds the
// number of the transplant's accepted events (a BIGINT) and the 128-bit
// sum of their hashes (a HUGEINT; eventTally). The values are DuckDB's
// own, so results/changes still compares them between outputs of the same
// duckdb_version; TestQualityFlagsPlain and TestRowHashDuckDB hold them to
// DuckDB's, and fail should an upgrade change its hash.

// hash folds the hashes of the row's stored values, in column order (an
// empty optional string is NULL, as stringColumn.addOpt stores it).
func (r *transplant) hash() uint64 {
	h := hashString(r.id)
	h = combineHash(h, hashString(r.patient))
	h = combineHash(h, hashOptString(r.center))
	h = combineHash(h, hashInt32(r.date))
	h = combineHash(h, hashString(r.typ))
	h = combineHash(h, hashOptString(r.donor))
	h = combineHash(h, hashOptString(r.graft))
	h = combineHash(h, hashString(r.indication))
	h = combineHash(h, hashOptString(r.status))
	h = combineHash(h, hashOptString(r.conditioning))
	h = combineHash(h, hashOptDouble(r.age, r.hasAge))
	h = combineHash(h, hashOptString(r.sex))
	h = combineHash(h, hashOptInt32(r.karnofsky, r.hasKarnofsky))
	return combineHash(h, hashOptInt32(r.hctCI, r.hasHctCI))
}

// rowHash completes the hash of a transplant's fields with its events:
// their count and the sum of their hashes (hashHi·2^64 + hashLo).
func rowHash(fields uint64, n int64, hashLo, hashHi uint64) uint64 {
	h := combineHash(fields, murmur64(uint64(n)))
	// DuckDB hashes a HUGEINT as the xor of its words' hashes.
	return combineHash(h, murmur64(hashLo)^murmur64(hashHi))
}

// hashInt32 is DuckDB's hash of an INTEGER or a DATE (its 32 bits, zero
// extended).
func hashInt32(v int32) uint64 { return murmur64(uint64(uint32(v))) }

func hashOptInt32(v int32, ok bool) uint64 {
	if !ok {
		return duckNullHash
	}
	return hashInt32(v)
}

// hashOptDouble is DuckDB's hash of a DOUBLE: its bits, with -0 taken as 0
// and every NaN as the one quiet NaN.
func hashOptDouble(v float64, ok bool) uint64 {
	switch {
	case !ok:
		return duckNullHash
	case v == 0:
		v = 0
	case math.IsNaN(v):
		return murmur64(0x7ff8000000000000)
	}
	return murmur64(math.Float64bits(v))
}
