// Package synth writes realistic synthetic HSCT registry extracts in the
// canonical format of SPEC §1 (transplants.csv and events.csv), for demos,
// benchmarks and end-to-end tests. Nothing in it is real patient data.
//
// # Population
//
// About 57% of transplants are allogeneic (ALLO), mostly for AML, ALL,
// MDS/MPN, lymphomas (NHL, HL), SAA, immune deficiencies (IMD), inherited
// metabolic disorders (IEM) and haemoglobinopathies (HGB); autologous
// (AUTO) ones are mostly for myeloma (MM) and lymphomas, with some solid
// tumours and rare CLL. ALLO donors are MUD ~40%, MSD ~25%, HAPLO ~20%,
// MMUD ~8%, CORD ~5% and a little OTHER, with cord blood (CB) for CORD and
// mostly peripheral blood (PB) otherwise. Ages, conditioning intensity,
// disease status, Karnofsky and HCT-CI follow the indication (IMD, IEM and
// HGB are mostly paediatric; older ALLO patients get RIC/NMA). Transplant
// dates spread over 2010-01-01 to 2025-03-31 with activity growing over
// time; the extract is taken on 2025-06-30. About 200 centres of Zipf-like
// size report; paediatric patients go mostly to the paediatric centres.
//
// # Outcomes
//
// Each transplant's follow-up is simulated from latent competing times:
// neutrophil and platelet engraftment (graft-dependent, primary graft
// failure when neutrophils never engraft), acute GVHD for ALLO (onset
// around day 28, grade rising over repeated rows, e.g. grade 2 on day 20
// then grade 3 on day 41), chronic GVHD after day 100, infections and
// organ toxicity (VOD/SOS, ...), relapse from a cure-fraction model by
// indication and disease status, non-relapse mortality with a falling
// Weibull hazard scaled by donor, age, Karnofsky, HCT-CI, status and
// conditioning, deaths caused by severe GVHD, graft failure or relapse
// (40% of deaths from relapse are reported with the relapse on the death
// day, as registries receive them: the relapse date came only with the
// death form; SPEC §3 counts such a day as a relapse, for nrm too),
// loss to follow-up (about 1.5% a year), and administrative censoring some
// weeks before the extract date. Follow-up forms give periodic
// last_contact rows. About 5% of patients get a second transplant (a
// second ALLO after graft failure or relapse, an ALLO after a failed
// AUTO, a tandem AUTO in myeloma): the first transplant gets a
// second_transplant event, then the patient's later relapse, death and
// contacts, as a registry reports them against both transplants.
//
// Some values are missing, some codes are written in lower or mixed case
// (centre habits and occasional slips), some centres write acute GVHD
// grades as roman numerals, a few ALLO rows lack the donor type, and the
// free-text detail column contains commas and quotes, so readers must
// honour RFC 4180 quoting.
//
// # Bad rows
//
// With Options.BadRows = F, about F bad rows per good row are interspersed
// in each file, spread over every rejection kind of SPEC §1: missing
// required value, unparseable date, unparseable number, number out of
// range, unknown code, duplicate transplant_id, event for an unknown
// transplant, event before its transplant, and a wrong number of fields.
// Bad rows are drawn from a random stream of their own, so the good rows
// are the same with and without them.
//
// # Determinism
//
// The extract is a function of Options alone: transplants are generated
// in fixed-size chunks, each from a PCG stream seeded by (Seed, chunk
// index), and the chunks are written in order whatever the number of
// workers. Byte-identical output holds for a given Go release and CPU
// architecture (the simulation rounds floating-point times to whole days;
// a different math library or fused multiply-add could move a value across
// a day boundary).
package synth
