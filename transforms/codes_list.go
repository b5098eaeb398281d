package transforms

import "slices"

// Codes returns the SPEC §1 codes of a transplant column with a closed
// list (stored spelling; donor_type with UNKNOWN, the ALLO without a donor
// type), or nil for a column without one (center_id).
func Codes(column string) []string {
	switch column {
	case "transplant_type":
		return slices.Clone(transplantTypes)
	case "donor_type":
		return append(slices.Clone(donorTypes), donorUnknown)
	case "graft_source":
		return slices.Clone(graftSources)
	case "indication":
		return slices.Clone(indications)
	case "disease_status":
		return slices.Clone(diseaseStatuses)
	case "conditioning":
		return slices.Clone(conditionings)
	case "sex":
		return slices.Clone(sexes)
	}
	return nil
}
