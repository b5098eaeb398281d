package report

import "marrow/endpoints"

// EndpointInfo is the descriptive part of an Endpoint: what the methods
// section says about it and how its figures are scaled.
type EndpointInfo struct {
	Name, Label, Estimator, Definition string
	Horizon                            int
}

// EstimatorOf is the report's name of e's estimator.
func EstimatorOf(e endpoints.Endpoint) string {
	if e.KM() {
		return EstimatorKM
	}
	return EstimatorCI
}

// StandardEndpoints returns the built-in endpoints (package endpoints, SPEC
// §3) in SPEC order, with labels, estimators, definitions and figure
// horizons. The pipeline may copy these into Data.Endpoints.
func StandardEndpoints() []EndpointInfo {
	var out []EndpointInfo
	for _, e := range endpoints.Builtins() {
		out = append(out, EndpointInfo{e.Name, e.Label, EstimatorOf(e), e.Definition, e.Horizon})
	}
	return out
}
