package synth

// Codes of SPEC §1, as small integers in the simulation and as text in the
// files.

const (
	allo = iota
	auto
)

var typeCodes = [...]caseVariants{variants("ALLO"), variants("AUTO")}

const (
	msd = iota
	mud
	mmud
	haplo
	cord
	otherDonor
	nDonors
)

var donorCodes = [nDonors]caseVariants{
	variants("MSD"), variants("MUD"), variants("MMUD"),
	variants("HAPLO"), variants("CORD"), variants("OTHER"),
}

const (
	bm = iota
	pb
	cb
)

var graftCodes = [...]caseVariants{variants("BM"), variants("PB"), variants("CB")}

const (
	aml = iota
	all
	cml
	cll
	mds
	mpn
	nhl
	hl
	mm
	saa
	imd
	iem
	hgb
	solid
	otherInd
	nInd
)

var indCodes = [nInd]caseVariants{
	variants("AML"), variants("ALL"), variants("CML"), variants("CLL"),
	variants("MDS"), variants("MPN"), variants("NHL"), variants("HL"),
	variants("MM"), variants("SAA"), variants("IMD"), variants("IEM"),
	variants("HGB"), variants("SOLID"), variants("OTHER"),
}

const (
	early = iota
	intermediate
	advanced
)

var statusCodes = [...]caseVariants{variants("EARLY"), variants("INTERMEDIATE"), variants("ADVANCED")}

const (
	mac = iota
	ric
	nma
)

var condCodes = [...]caseVariants{variants("MAC"), variants("RIC"), variants("NMA")}

const (
	male = iota
	female
)

var sexCodes = [...]caseVariants{variants("M"), variants("F")}

// Event kinds.
const (
	evDeath = iota
	evRelapse
	evAgvhd
	evCgvhd
	evNeutrophil
	evPlatelet
	evGraftFailure
	evInfection
	evToxicity
	evSecond
	evLastContact
	nEventKinds
)

var eventCodes = [nEventKinds]caseVariants{
	variantsLower("death"), variantsLower("relapse"), variantsLower("agvhd"),
	variantsLower("cgvhd"), variantsLower("neutrophil_engraftment"),
	variantsLower("platelet_engraftment"), variantsLower("graft_failure"),
	variantsLower("infection"), variantsLower("organ_toxicity"),
	variantsLower("second_transplant"), variantsLower("last_contact"),
}

// Grades: 1-4 are acute GVHD grades, the rest chronic GVHD severities.
const (
	gradeNone = iota
	grade1
	grade2
	grade3
	grade4
	mild
	moderate
	severe
)

var gradeArabic = [...]string{"", "1", "2", "3", "4", "MILD", "MODERATE", "SEVERE"}
var gradeRoman = [...]string{"", "I", "II", "III", "IV", "Mild", "Moderate", "Severe"}

// Free-text details. Index 0 is the empty detail. Some contain commas and
// quotes on purpose.
const (
	dNone = iota

	// causes of death
	dDeathRelapse
	dDeathProgression
	dDeathRelapseOf
	dDeathAGVHD
	dDeathAGVHDGut
	dDeathCGVHD
	dDeathCGVHDLung
	dDeathGF
	dDeathInfBact
	dDeathInfFungal
	dDeathInfSepsis
	dDeathCMV
	dDeathCovid
	dDeathVOD
	dDeathIPS
	dDeathMOF
	dDeathCardiac
	dDeathSMN
	dDeathHaem
	dDeathUnknown
	dDeathOther

	// infections
	dInfCMV
	dInfEcoli
	dInfCoNS
	dInfAsperg
	dInfCandida
	dInfEBV
	dInfAdeno
	dInfBK
	dInfRSV
	dInfFlu
	dInfCovid
	dInfPCP
	dInfCdiff
	dInfPneumo
	dInfHHV6
	dInfKleb

	// organ toxicity
	dToxVOD
	dToxMucositis
	dToxAKI
	dToxCardiac
	dToxTMA
	dToxHC
	dToxIPS
	dToxPRES
	dToxLiver

	// relapse
	dRelMolecular
	dRelHaem
	dRelCNS
	dRelProgression

	// GVHD organs
	dGvhdSkin
	dGvhdSkinGut
	dGvhdLiverGut
	dCgvhdSkinMouth
	dCgvhdLung
	dCgvhdEyesMouth
	dCgvhdLiver

	// graft failure
	dGFPrimary
	dGFSecondary
	dGFPoor

	// second transplant
	dSecondAllo
	dSecondAlloHaplo
	dSecondTandem
	dSecondAutoRelapse

	// last contact
	dContactAlive
	dContactCR

	nDetails
)

var detailText = [nDetails]string{
	dNone:              "",
	dDeathRelapse:      "Relapse/progression",
	dDeathProgression:  "Disease progression",
	dDeathRelapseOf:    "Relapse of original disease",
	dDeathAGVHD:        "Acute GvHD",
	dDeathAGVHDGut:     "GvHD, gut and liver",
	dDeathCGVHD:        "Chronic GvHD",
	dDeathCGVHDLung:    `Chronic GvHD, lung ("BOS")`,
	dDeathGF:           "Graft failure",
	dDeathInfBact:      "Infection, bacterial",
	dDeathInfFungal:    "Infection: fungal (Aspergillus)",
	dDeathInfSepsis:    `Sepsis, "Klebsiella" ESBL`,
	dDeathCMV:          "CMV pneumonitis",
	dDeathCovid:        "COVID-19",
	dDeathVOD:          "VOD/SOS",
	dDeathIPS:          "Idiopathic pneumonia syndrome",
	dDeathMOF:          "Multi-organ failure",
	dDeathCardiac:      "Cardiovascular",
	dDeathSMN:          "Secondary malignancy",
	dDeathHaem:         "Haemorrhage, intracranial",
	dDeathUnknown:      "Unknown",
	dDeathOther:        "Other, see notes",
	dInfCMV:            "CMV reactivation",
	dInfEcoli:          "Bacteraemia, E. coli",
	dInfCoNS:           "Bacteraemia, coagulase-negative staphylococci",
	dInfAsperg:         "Invasive aspergillosis",
	dInfCandida:        "Candidaemia",
	dInfEBV:            "EBV reactivation",
	dInfAdeno:          "Adenovirus",
	dInfBK:             "BK virus cystitis",
	dInfRSV:            "RSV",
	dInfFlu:            "Influenza A",
	dInfCovid:          "COVID-19",
	dInfPCP:            "Pneumocystis pneumonia",
	dInfCdiff:          "Clostridioides difficile colitis",
	dInfPneumo:         `Pneumonia, "atypical"`,
	dInfHHV6:           "HHV-6",
	dInfKleb:           "Klebsiella pneumoniae, ESBL",
	dToxVOD:            "VOD/SOS",
	dToxMucositis:      "Mucositis, grade 3",
	dToxAKI:            "Acute kidney injury",
	dToxCardiac:        `Cardiac, "AF"`,
	dToxTMA:            "TA-TMA",
	dToxHC:             "Haemorrhagic cystitis",
	dToxIPS:            "Idiopathic pneumonia syndrome",
	dToxPRES:           "PRES",
	dToxLiver:          "Hepatotoxicity",
	dRelMolecular:      "Molecular relapse",
	dRelHaem:           "Haematological relapse",
	dRelCNS:            "Extramedullary, CNS",
	dRelProgression:    "Progression",
	dGvhdSkin:          "Skin",
	dGvhdSkinGut:       "Skin, gut",
	dGvhdLiverGut:      "Liver, gut",
	dCgvhdSkinMouth:    "Skin, mouth",
	dCgvhdLung:         "Lung (BOS)",
	dCgvhdEyesMouth:    "Eyes, mouth",
	dCgvhdLiver:        "Liver",
	dGFPrimary:         "Primary graft failure",
	dGFSecondary:       "Secondary graft failure",
	dGFPoor:            "Poor graft function",
	dSecondAllo:        "ALLO",
	dSecondAlloHaplo:   "ALLO, HAPLO",
	dSecondTandem:      "AUTO, tandem",
	dSecondAutoRelapse: "AUTO, after relapse",
	dContactAlive:      "Alive",
	dContactCR:         "Alive, in CR",
}

// detailCSV holds each detail already quoted for CSV.
var detailCSV = func() (out [nDetails][]byte) {
	for i, s := range detailText {
		out[i] = appendField(nil, s)
	}
	return out
}()
