package report

// EndpointInfo is the descriptive part of an Endpoint: what the methods
// section says about it and how its figures are scaled.
type EndpointInfo struct {
	Name, Label, Estimator, Definition string
	Horizon                            int
}

// StandardEndpoints returns the endpoints of SPEC §3 in SPEC order, with
// labels, estimators, definitions and a figure horizon suited to the
// endpoint (engraftment within 100 days, acute GVHD within 180 days, the
// largest landmark otherwise). The pipeline may copy these into
// Data.Endpoints.
func StandardEndpoints() []EndpointInfo {
	const death = " Competing event: death before it. "
	return []EndpointInfo{
		{"os", "Overall survival", EstimatorKM,
			"Event: death from any cause. Population: all transplants.", 0},
		{"lfs", "Leukaemia-free survival", EstimatorKM,
			"Event: relapse or death, whichever comes first. Population: all transplants.", 0},
		{"relapse", "Relapse incidence", EstimatorCI,
			"Event: relapse. Competing event: death without prior relapse. Population: all transplants.", 0},
		{"nrm", "Non-relapse mortality", EstimatorCI,
			"Event: death without prior relapse. Competing event: relapse. Population: all transplants.", 0},
		{"agvhd24", "Acute GVHD grade II–IV", EstimatorCI,
			"Event: first acute GVHD of grade 2 or more (a row without grade does not count)." + death + "Population: allogeneic transplants.", 180},
		{"agvhd34", "Acute GVHD grade III–IV", EstimatorCI,
			"Event: first acute GVHD of grade 3 or more (a row without grade does not count)." + death + "Population: allogeneic transplants.", 180},
		{"cgvhd", "Chronic GVHD", EstimatorCI,
			"Event: first chronic GVHD of any grade." + death + "Population: allogeneic transplants.", 0},
		{"grfs", "GVHD-free, relapse-free survival", EstimatorKM,
			"Event: first of acute GVHD grade 3 or more, moderate or severe chronic GVHD, relapse, death. Population: allogeneic transplants.", 0},
		{"neutrophil", "Neutrophil engraftment", EstimatorCI,
			"Event: neutrophil engraftment." + death + "Population: all transplants.", 100},
		{"platelet", "Platelet engraftment", EstimatorCI,
			"Event: platelet engraftment." + death + "Population: all transplants.", 100},
		{"infection", "Infection", EstimatorCI,
			"Event: first infection." + death + "Population: all transplants.", 0},
		{"toxicity", "Organ toxicity", EstimatorCI,
			"Event: first organ toxicity." + death + "Population: all transplants.", 0},
	}
}
