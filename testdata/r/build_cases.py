#!/usr/bin/env python3
"""build_cases.py -- writes the adversarial extracts under testdata/adversarial/.

Provenance only: the committed extract/ folders are the source of truth and
regenerate.sh does not call this script. Run it (python3 build_cases.py) only
to change a case, then rerun regenerate.sh and review the diff.

Each transplant is written as (transplant_id, patient_id, transplant day,
type, donor, indication, events), where the transplant day counts from
2000-01-01 and each event is (event, day after the transplant, grade, detail).
Cases marked `ties` and `confs` are drawn from a seeded generator; the others
are written out by hand below. All dates are valid and every event is on or
after its transplant, so nothing is rejected.
"""
import csv
import datetime
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "adversarial")
BASE = datetime.date(2000, 1, 1)


def day(n):
    return BASE + datetime.timedelta(days=n)


def T(tid, pid, tday, ttype, donor, ind, events, **extra):
    return dict(tid=tid, pid=pid, tday=tday, ttype=ttype, donor=donor, ind=ind,
                events=events, extra=extra)


def E(event, d, grade="", detail=""):
    return (event, d, grade, detail)


def mixcase(rng, s):
    """Return s in a random one of: as is, lower, Capitalised, upper."""
    if not s:
        return s
    return rng.choice([s, s.lower(), s.capitalize(), s.upper()])


def write_case(name, transplants, conf=None, args=None, mixed=False, shuffle=False,
               columns=None, upper_header=False, seed=1, min_group=None):
    rng = random.Random(seed)
    d = os.path.join(ROOT, name, "extract")
    os.makedirs(d, exist_ok=True)
    tcols = columns or ["transplant_id", "patient_id", "transplant_date", "transplant_type",
                        "donor_type", "indication", "center_id", "graft_source", "age_years", "sex"]
    trows, erows = [], []
    for t in transplants:
        td = day(t["tday"])
        row = {
            "transplant_id": t["tid"], "patient_id": t["pid"], "transplant_date": td.isoformat(),
            "transplant_type": mixcase(rng, t["ttype"]) if mixed else t["ttype"],
            "donor_type": mixcase(rng, t["donor"]) if mixed else t["donor"],
            "indication": mixcase(rng, t["ind"]) if mixed else t["ind"],
            "center_id": t["extra"].get("center_id", "C1"),
            "graft_source": t["extra"].get("graft_source", ""),
            "age_years": t["extra"].get("age_years", ""),
            "sex": t["extra"].get("sex", ""),
            "registry_note": t["extra"].get("registry_note", ""),
        }
        trows.append([row[c] for c in tcols])
        for ev, dd, grade, detail in t["events"]:
            erows.append([t["tid"], mixcase(rng, ev) if mixed else ev,
                          (td + datetime.timedelta(days=dd)).isoformat(), grade, detail])
    if shuffle:
        rng.shuffle(trows)
        rng.shuffle(erows)
    th = [c.upper() for c in tcols] if upper_header else tcols
    with open(os.path.join(d, "transplants.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(th)
        w.writerows(trows)
    with open(os.path.join(d, "events.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["transplant_id", "event", "event_date", "grade", "detail"])
        w.writerows(erows)
    with open(os.path.join(ROOT, name, "config.toml"), "w", encoding="utf-8") as f:
        f.write("# adversarial case %s: CI type for Kaplan-Meier limits and medians\n" % name)
        if conf:
            f.write('conf_type = "%s"\n' % conf)
        else:
            f.write("# conf_type not set: the default (log-log) applies\n")
        if min_group is not None:
            f.write("# groups of any size enter the tests (hand-made groups are small)\n"
                    if min_group == 0 else "# tests leave out groups under min_group\n")
            f.write("min_group = %d\n" % min_group)
    ap = os.path.join(ROOT, name, "args")
    if args:
        with open(ap, "w", encoding="utf-8") as f:
            f.write(args + "\n")
    elif os.path.exists(ap):
        os.remove(ap)


# ------------------------------------------------------------------ ties
def case_ties():
    """Event days drawn from a few values, so events, competing events and
    censorings of different transplants pile up on the same days."""
    rng = random.Random(20240601)
    days = [14, 30, 60, 100, 180, 365, 730]
    out = []
    plan = ([("ALLO", "MSD", "AML")] * 9 + [("ALLO", "MUD", "AML")] * 6 + [("ALLO", "MUD", "ALL")] * 6
            + [("ALLO", "MSD", "NHL")] * 3 + [("AUTO", "", "NHL")] * 7 + [("AUTO", "", "MM")] * 9)
    for i, (tt, dn, ind) in enumerate(plan, start=1):
        ev = []
        death = rng.choice(days + [None] * 4)
        limit = death if death is not None else rng.choice(days[2:])
        if rng.random() < 0.8:
            ev.append(E("neutrophil_engraftment", rng.choice([14, 14, 30])))
        if rng.random() < 0.6:
            ev.append(E("platelet_engraftment", rng.choice([14, 30, 30, 60])))
        if tt == "ALLO" and rng.random() < 0.6:
            ev.append(E("agvhd", rng.choice([14, 30, 30, 60]), rng.choice(["1", "2", "3", "4", "II", "III"])))
        if tt == "ALLO" and rng.random() < 0.4:
            ev.append(E("cgvhd", rng.choice([100, 180, 365]), rng.choice(["MILD", "MODERATE", "SEVERE"])))
        if rng.random() < 0.4:
            ev.append(E("relapse", rng.choice([60, 100, 100, 180, 365])))
        if rng.random() < 0.3:
            ev.append(E("infection", rng.choice([14, 30, 60])))
        if rng.random() < 0.2:
            ev.append(E("organ_toxicity", rng.choice([14, 30])))
        ev = [e for e in ev if death is None or e[1] <= death + 100]
        if death is not None:
            ev.append(E("death", death))
        last = max([e[1] for e in ev] + [limit])
        ev.append(E("last_contact", last))
        out.append(T("TIE-%03d" % i, "P-TIE-%03d" % i, 3 * i, tt, dn, ind, ev))
    # exact hand-made ties: three deaths, two relapses and two censorings on day 100
    # (a landmark) in AML/MSD, and a censoring at every event day of MM
    out += [
        T("TIE-101", "P-TIE-101", 200, "ALLO", "MSD", "AML", [E("death", 100), E("last_contact", 100)]),
        T("TIE-102", "P-TIE-102", 200, "ALLO", "MSD", "AML", [E("death", 100)]),
        T("TIE-103", "P-TIE-103", 200, "ALLO", "MSD", "AML", [E("relapse", 100), E("last_contact", 400)]),
        T("TIE-104", "P-TIE-104", 200, "ALLO", "MSD", "AML", [E("relapse", 100), E("death", 365)]),
        T("TIE-105", "P-TIE-105", 200, "ALLO", "MSD", "AML", [E("last_contact", 100)]),
        T("TIE-106", "P-TIE-106", 200, "ALLO", "MSD", "AML", [E("agvhd", 100, "2"), E("last_contact", 100)]),
        T("TIE-107", "P-TIE-107", 201, "AUTO", "", "MM", [E("last_contact", 14)]),
        T("TIE-108", "P-TIE-108", 201, "AUTO", "", "MM", [E("last_contact", 30)]),
        T("TIE-109", "P-TIE-109", 201, "AUTO", "", "MM", [E("last_contact", 60)]),
        T("TIE-110", "P-TIE-110", 201, "AUTO", "", "MM", [E("last_contact", 180)]),
    ]
    write_case("ties", out, conf="log-log", seed=7, min_group=0)


# ------------------------------------------------------------------ day0
def case_day0():
    out = [
        T("D01", "P01", 0, "ALLO", "MUD", "AML", [E("death", 0)]),
        T("D02", "P02", 1, "ALLO", "MUD", "AML", [E("relapse", 0), E("death", 45), E("last_contact", 45)]),
        T("D03", "P03", 2, "ALLO", "MSD", "AML", []),
        T("D04", "P04", 3, "ALLO", "MSD", "AML", [E("last_contact", 0)]),
        T("D05", "P05", 4, "ALLO", "MSD", "AML", [E("agvhd", 0, "3"), E("neutrophil_engraftment", 0), E("death", 0)]),
        T("D06", "P06", 5, "ALLO", "MUD", "ALL", [E("neutrophil_engraftment", 12), E("platelet_engraftment", 20),
                                                   E("last_contact", 400)]),
        T("D07", "P07", 6, "ALLO", "MUD", "ALL", [E("infection", 0, detail="CMV"), E("organ_toxicity", 0, detail="VOD/SOS"),
                                                   E("last_contact", 200)]),
        T("D08", "P08", 7, "ALLO", "MSD", "ALL", [E("relapse", 0), E("last_contact", 0)]),
        T("D09", "P09", 8, "AUTO", "", "MM", [E("death", 0)]),
        T("D10", "P10", 9, "AUTO", "", "MM", []),
        T("D11", "P11", 10, "AUTO", "", "MM", [E("neutrophil_engraftment", 10), E("last_contact", 800)]),
        T("D12", "P12", 11, "AUTO", "", "MM", [E("relapse", 150), E("death", 300)]),
        T("D13", "P13", 12, "ALLO", "HAPLO", "IMD", []),
        T("D14", "P14", 13, "ALLO", "HAPLO", "IMD", [E("last_contact", 0)]),
        T("D15", "P15", 14, "AUTO", "", "NHL", [E("death", 0)]),
        T("D16", "P16", 15, "AUTO", "", "NHL", [E("last_contact", 400)]),
        T("D17", "P17", 16, "ALLO", "MUD", "AML", [E("platelet_engraftment", 0), E("cgvhd", 0, "SEVERE"),
                                                   E("last_contact", 30)]),
        T("D18", "P18", 17, "ALLO", "MSD", "ALL", [E("neutrophil_engraftment", 0), E("agvhd", 0, "II"),
                                                   E("relapse", 0), E("death", 0)]),
        # the latest event date is 2000-01-11 + 800 days = 2002-03-21 (D11's last contact):
        # D19 is transplanted that very day with no events (in, 0 days), D20 a day later (out)
        T("D19", "P19", 810, "AUTO", "", "MM", []),
        T("D20", "P20", 811, "AUTO", "", "MM", []),
    ]
    write_case("day0", out, conf=None, min_group=0)


# ------------------------------------------------------------------ sameday
def case_sameday():
    out = [
        T("S01", "P01", 0, "ALLO", "MSD", "AML", [E("relapse", 100), E("death", 100)]),
        T("S02", "P02", 3, "ALLO", "MSD", "AML", [E("death", 40), E("agvhd", 40, "III")]),
        T("S03", "P03", 6, "ALLO", "MUD", "AML", [E("cgvhd", 200, "MILD"), E("death", 200), E("last_contact", 200)]),
        T("S04", "P04", 9, "ALLO", "MUD", "AML", [E("death", 18), E("neutrophil_engraftment", 18),
                                                  E("platelet_engraftment", 18)]),
        T("S05", "P05", 12, "ALLO", "MUD", "ALL", [E("infection", 60, detail="aspergillus, lung"),
                                                   E("organ_toxicity", 60), E("death", 60)]),
        T("S06", "P06", 15, "ALLO", "MSD", "ALL", [E("relapse", 90), E("agvhd", 90, "3"), E("cgvhd", 90, "SEVERE"),
                                                   E("last_contact", 500)]),
        T("S07", "P07", 18, "ALLO", "MSD", "ALL", [E("agvhd", 30, "2"), E("agvhd", 30, "4"), E("last_contact", 410)]),
        T("S08", "P08", 21, "ALLO", "MUD", "ALL", [E("death", 120), E("last_contact", 120)]),
        T("S09", "P09", 24, "AUTO", "", "MM", [E("death", 200), E("relapse", 200)]),
        T("S10", "P10", 27, "AUTO", "", "MM", [E("neutrophil_engraftment", 12), E("death", 12)]),
        T("S11", "P11", 30, "AUTO", "", "MM", [E("relapse", 300), E("last_contact", 300)]),
        T("S12", "P12", 33, "AUTO", "", "NHL", [E("neutrophil_engraftment", 10), E("death", 75), E("relapse", 75)]),
        T("S13", "P13", 36, "ALLO", "MSD", "AML", [E("neutrophil_engraftment", 15), E("agvhd", 40, "2"),
                                                   E("relapse", 100), E("last_contact", 700)]),
        T("S14", "P14", 39, "ALLO", "MUD", "AML", [E("neutrophil_engraftment", 18), E("platelet_engraftment", 30),
                                                   E("cgvhd", 200, "MODERATE"), E("last_contact", 900)]),
        T("S15", "P15", 42, "ALLO", "MSD", "ALL", [E("neutrophil_engraftment", 14), E("death", 90)]),
        T("S16", "P16", 45, "AUTO", "", "MM", [E("neutrophil_engraftment", 12), E("relapse", 200),
                                               E("death", 420)]),
        T("S17", "P17", 48, "AUTO", "", "NHL", [E("neutrophil_engraftment", 11), E("infection", 60),
                                                E("last_contact", 750)]),
        T("S18", "P18", 51, "AUTO", "", "NHL", [E("neutrophil_engraftment", 10), E("relapse", 75),
                                                E("last_contact", 380)]),
        T("S19", "P19", 54, "ALLO", "MUD", "AML", [E("agvhd", 40, "1"), E("death", 40), E("relapse", 40)]),
        T("S20", "P20", 57, "AUTO", "", "MM", [E("organ_toxicity", 12), E("last_contact", 600)]),
    ]
    write_case("sameday", out, conf="log", shuffle=True, seed=3, min_group=0)


# ------------------------------------------------------------------ shortstrata
def case_shortstrata():
    out = []
    aml = [(2000, None), (1500, 700), (1900, None), (420, 420), (1200, None), (800, 90), (2100, None), (1000, 1000)]
    for i, (fu, death) in enumerate(aml, start=1):
        ev = [E("neutrophil_engraftment", 14 + i)]
        if i % 3 == 0:
            ev.append(E("relapse", 200 + 10 * i))
        if i % 2 == 0:
            ev.append(E("agvhd", 25 + i, "2" if i % 4 else "3"))
        ev.append(E("death", death) if death is not None else E("last_contact", fu))
        out.append(T("SS-AML-%d" % i, "P-AML-%d" % i, 10 * i, "ALLO", "MSD", "AML", ev))
    out += [
        # HL: every follow-up ends before day 100
        T("SS-HL-1", "P-HL-1", 5, "AUTO", "", "HL", [E("neutrophil_engraftment", 11), E("death", 50)]),
        T("SS-HL-2", "P-HL-2", 6, "AUTO", "", "HL", [E("relapse", 40), E("last_contact", 80)]),
        T("SS-HL-3", "P-HL-3", 7, "AUTO", "", "HL", [E("last_contact", 99)]),
        # NHL: the largest time is exactly 180 (a landmark)
        T("SS-NHL-1", "P-NHL-1", 8, "AUTO", "", "NHL", [E("relapse", 120), E("last_contact", 150)]),
        T("SS-NHL-2", "P-NHL-2", 9, "AUTO", "", "NHL", [E("last_contact", 180)]),
        T("SS-NHL-3", "P-NHL-3", 11, "AUTO", "", "NHL", [E("neutrophil_engraftment", 12), E("death", 170)]),
        # one-transplant strata
        T("SS-MM-1", "P-MM-1", 12, "AUTO", "", "MM", [E("relapse", 100), E("death", 400)]),
        T("SS-CLL-1", "P-CLL-1", 13, "ALLO", "CORD", "CLL", [E("agvhd", 30, "3"), E("cgvhd", 150, "MILD"),
                                                           E("last_contact", 365)]),
        T("SS-AML-UNK", "P-AML-UNK", 14, "ALLO", "", "AML", [E("death", 730)]),
        # ALL with two HAPLO transplants; MDS with two MUD, both short
        T("SS-ALL-1", "P-ALL-1", 15, "ALLO", "HAPLO", "ALL", [E("agvhd", 20, "4"), E("death", 100)]),
        T("SS-ALL-2", "P-ALL-2", 16, "ALLO", "HAPLO", "ALL", [E("cgvhd", 181, "MODERATE"), E("last_contact", 1825)]),
        T("SS-MDS-1", "P-MDS-1", 17, "ALLO", "MUD", "MDS", [E("platelet_engraftment", 40), E("relapse", 100),
                                                           E("last_contact", 150)]),
        T("SS-MDS-2", "P-MDS-2", 18, "ALLO", "MUD", "MDS", [E("infection", 20), E("death", 90)]),
    ]
    write_case("shortstrata", out, conf="log", mixed=True, seed=5, min_group=0)


# ------------------------------------------------------------------ alldie
def case_alldie():
    out = []
    # AML/MSD: deaths at 10, 20, 30, 40 (S = 0.5 on [20, 30): median 25), all engraft first
    for i, (d, ne) in enumerate([(10, 5), (20, 5), (30, 8), (40, 9)], start=1):
        out.append(T("AD-A%d" % i, "P-A%d" % i, i, "ALLO", "MSD", "AML",
                     [E("neutrophil_engraftment", ne), E("death", d)]))
    # AML/MUD: four deaths on day 180 (d = r at a landmark: S = 0 there), all four
    # engraft on day 100 (d = r again: incidence 1 at a landmark)
    for i in range(1, 5):
        out.append(T("AD-B%d" % i, "P-B%d" % i, 10 + i, "ALLO", "MUD", "AML",
                     [E("neutrophil_engraftment", 100), E("agvhd", 30, "2"), E("death", 180)]))
    # MM: everyone relapses, the last on day 365 (incidence 1 at a landmark; the
    # steps 1/2, 1/4, 1/8, 1/8 are exact in binary), and later dies; no NRM at all
    mm = [(50, 400), (50, 500), (50, 500), (50, 730), (120, 800), (120, 800), (200, 900), (365, 900)]
    for i, (r, d) in enumerate(mm, start=1):
        out.append(T("AD-C%d" % i, "P-C%d" % i, 20 + i, "AUTO", "", "MM", [E("relapse", r), E("death", d)]))
    # NHL: two deaths on day 100 (a landmark), two on day 365: S = 0.5 on [100, 365)
    for i, d in enumerate([100, 100, 365, 365], start=1):
        out.append(T("AD-D%d" % i, "P-D%d" % i, 30 + i, "AUTO", "", "NHL",
                     [E("platelet_engraftment", 20 + i), E("death", d)]))
    # ALL: two transplants, both die
    out.append(T("AD-E1", "P-E1", 40, "ALLO", "MSD", "ALL", [E("death", 60)]))
    out.append(T("AD-E2", "P-E2", 41, "ALLO", "MSD", "ALL", [E("platelet_engraftment", 30), E("death", 90)]))
    write_case("alldie", out, conf="plain", shuffle=True, seed=11, min_group=0)


# ------------------------------------------------------------------ cutoff
def case_cutoff():
    # cutoff 2001-06-30 = day 546 from 2000-01-01
    C = 546
    out = [
        T("C01", "P01", 9, "ALLO", "MSD", "AML", [E("relapse", 203), E("death", 600 - 9), E("last_contact", 600 - 9)]),
        T("C02", "P02", 60, "ALLO", "MSD", "AML", [E("relapse", 300), E("death", C - 60)]),
        T("C03", "P03", C + 1, "ALLO", "MUD", "AML", [E("death", 10)]),
        T("C04", "P04", C, "ALLO", "MUD", "ALL", [E("neutrophil_engraftment", 15), E("last_contact", 40)]),
        T("C05", "P05", 366, "ALLO", "MUD", "ALL", [E("agvhd", 31, "2"), E("agvhd", 195, "4"), E("last_contact", 365)]),
        T("C06", "P06", 125, "AUTO", "", "MM", [E("neutrophil_engraftment", 11), E("last_contact", 300)]),
        T("C07", "P07", 152, "AUTO", "", "MM", []),
        T("C08a", "P08", 244, "AUTO", "", "MM", [E("neutrophil_engraftment", 12), E("second_transplant", 335),
                                                 E("last_contact", 335)]),
        T("C08b", "P08", 579, "ALLO", "MUD", "MM", [E("death", 30)]),
        T("C09a", "P09", 397, "ALLO", "MSD", "AML", [E("agvhd", 20, "3"), E("second_transplant", 89),
                                                     E("last_contact", 100)]),
        T("C09b", "P09", 486, "ALLO", "MSD", "AML", [E("death", 30)]),
        T("C10", "P10", 32, "AUTO", "", "NHL", [E("last_contact", 455), E("relapse", 546)]),
        T("C11", "P11", 40, "AUTO", "", "NHL", [E("relapse", 100), E("death", 520)]),
        T("C12", "P12", 200, "AUTO", "", "NHL", [E("neutrophil_engraftment", 14), E("relapse", C - 200 + 1),
                                                 E("last_contact", 700)]),
        T("C13", "P13", 300, "ALLO", "MSD", "ALL", [E("cgvhd", 150, "SEVERE"), E("cgvhd", C - 300, "MILD"),
                                                    E("last_contact", C - 300 + 30)]),
        T("C14", "P14", 100, "ALLO", "MUD", "AML", [E("platelet_engraftment", 40), E("infection", 90),
                                                    E("organ_toxicity", 500), E("last_contact", 800)]),
        T("C15", "P15", 20, "AUTO", "", "MM", [E("relapse", 365), E("death", 500)]),
        T("C16", "P16", 450, "ALLO", "MSD", "AML", [E("neutrophil_engraftment", 20), E("death", C - 450)]),
        T("C17", "P17", 80, "ALLO", "MSD", "ALL", [E("death", 100), E("last_contact", 100)]),
        T("C18", "P18", 500, "AUTO", "", "MM", [E("last_contact", 46)]),
    ]
    write_case("cutoff", out, conf="log", args="--cutoff 2001-06-30", seed=13, min_group=0)


# ------------------------------------------------------------------ multi
def case_multi():
    out = [
        # two ALLO: the earlier is the cohort's; the second's death is reported only under it
        T("M01", "P01", 0, "ALLO", "MSD", "AML", [E("agvhd", 15, "1"), E("agvhd", 25, "2"), E("agvhd", 40, "3"),
                                                 E("relapse", 180), E("second_transplant", 213),
                                                 E("last_contact", 600)]),
        T("M02", "P01", 213, "ALLO", "MUD", "AML", [E("death", 210)]),
        # two ALLO on the same day: the smaller transplant_id as text ("MX-10" < "MX-9")
        T("MX-9", "P02", 30, "ALLO", "MUD", "ALL", [E("last_contact", 1000)]),
        T("MX-10", "P02", 30, "ALLO", "MUD", "ALL", [E("agvhd", 20, "II"), E("death", 300)]),
        # tandem AUTO then ALLO: both in the cohort (first of each type)
        T("M05", "P03", 31, "AUTO", "", "MM", [E("neutrophil_engraftment", 12), E("relapse", 150),
                                               E("second_transplant", 213), E("last_contact", 213)]),
        T("M06", "P03", 244, "ALLO", "MSD", "MM", [E("agvhd", 30, "II"), E("cgvhd", 200, ""), E("death", 500)]),
        # AUTO, AUTO, ALLO: the second AUTO is left out
        T("M07", "P04", 60, "AUTO", "", "MM", [E("neutrophil_engraftment", 10), E("second_transplant", 92),
                                               E("last_contact", 900)]),
        T("M08", "P04", 152, "AUTO", "", "MM", [E("death", 20)]),
        T("M09", "P04", 366, "ALLO", "MUD", "MM", [E("agvhd", 18, "IV"), E("relapse", 240), E("last_contact", 700)]),
        # ungraded agvhd before a graded one / ungraded only
        T("M10", "P10", 70, "ALLO", "MUD", "AML", [E("agvhd", 20, ""), E("agvhd", 35, "III"), E("last_contact", 900)]),
        T("M11", "P11", 75, "ALLO", "MUD", "AML", [E("agvhd", 20, ""), E("last_contact", 400)]),
        # ungraded cgvhd counts for cgvhd, not for grfs; MILD counts for cgvhd, not for grfs
        T("M12", "P12", 80, "ALLO", "MSD", "ALL", [E("cgvhd", 150, ""), E("cgvhd", 250, "MODERATE"),
                                                   E("last_contact", 800)]),
        T("M13", "P13", 85, "ALLO", "MSD", "ALL", [E("cgvhd", 120, "MILD"), E("last_contact", 700)]),
        # death, then cgvhd, relapse and a second death after it
        T("M14", "P14", 90, "ALLO", "MUD", "ALL", [E("death", 90), E("cgvhd", 120, "MODERATE"), E("relapse", 130),
                                                   E("death", 140)]),
        # GVHD in an AUTO transplant (ignored); last contact before an event
        T("M15", "P15", 95, "AUTO", "", "NHL", [E("agvhd", 30, "2"), E("relapse", 100), E("last_contact", 50)]),
        # agvhd rows out of order: IV on day 22 listed before 2 on day 18
        T("M16", "P16", 100, "ALLO", "MSD", "AML", [E("agvhd", 22, "IV"), E("agvhd", 18, "2"), E("death", 800)]),
        # two relapses out of order: the first (day 100) counts
        T("M17", "P17", 105, "ALLO", "MUD", "ALL", [E("relapse", 200), E("relapse", 100), E("death", 400)]),
        # ALLO first, AUTO later for the same patient: both in the cohort
        T("M18", "P18", 110, "ALLO", "HAPLO", "AML", [E("neutrophil_engraftment", 21), E("relapse", 150),
                                                      E("second_transplant", 235), E("last_contact", 1200)]),
        T("M19", "P18", 345, "AUTO", "", "AML", [E("neutrophil_engraftment", 11), E("death", 700)]),
        T("M20", "P20", 120, "AUTO", "", "NHL", [E("neutrophil_engraftment", 9), E("platelet_engraftment", 15),
                                                 E("infection", 40), E("last_contact", 1500)]),
        T("M21", "P21", 125, "ALLO", "MSD", "AML", [E("neutrophil_engraftment", 16), E("agvhd", 45, "I"),
                                                    E("agvhd", 60, "I"), E("cgvhd", 300, "SEVERE"),
                                                    E("last_contact", 1300)]),
        T("M22", "P22", 130, "AUTO", "", "MM", [E("neutrophil_engraftment", 13), E("relapse", 400),
                                                E("relapse", 500), E("death", 650), E("last_contact", 640)]),
        T("M23", "P23", 135, "ALLO", "HAPLO", "AML", [E("neutrophil_engraftment", 25), E("death", 70)]),
        T("M24", "P24", 140, "AUTO", "", "NHL", [E("neutrophil_engraftment", 10), E("relapse", 220),
                                                 E("last_contact", 1000)]),
    ]
    write_case("multi", out, conf="log-log", mixed=True, shuffle=True, seed=17,
               columns=["patient_id", "indication", "transplant_type", "sex", "transplant_id",
                        "transplant_date", "donor_type", "registry_note", "age_years"],
               upper_header=True, min_group=0)


# ------------------------------------------------------------------ confs
def case_confs():
    """A realistic mixed cohort of 80 transplants, written twice (log and plain)."""
    rng = random.Random(4242)
    out = []
    allo_ind = ["AML"] * 6 + ["ALL"] * 3 + ["MDS"] * 3 + ["NHL", "HL"]
    auto_ind = ["MM"] * 5 + ["NHL"] * 3 + ["HL"] * 2 + ["AML"]
    donors = ["MSD"] * 4 + ["MUD"] * 4 + ["MMUD", "HAPLO", "HAPLO", "CORD"]
    for i in range(1, 81):
        allo = i <= 50
        tt = "ALLO" if allo else "AUTO"
        ind = rng.choice(allo_ind if allo else auto_ind)
        dn = rng.choice(donors) if allo else ""
        tday = rng.randrange(0, 1500)
        fu = int(rng.expovariate(1 / 900)) + rng.randrange(0, 60)
        death = int(rng.expovariate(1 / (700 if allo else 1100)))
        relapse = int(rng.expovariate(1 / (800 if allo else 500)))
        ev = []
        end = min(fu, death)
        if rng.random() < 0.92 and 8 < end:
            ev.append(E("neutrophil_engraftment", rng.randrange(9, 28)))
        if rng.random() < 0.8 and 14 < end:
            ev.append(E("platelet_engraftment", rng.randrange(12, 60)))
        if allo and rng.random() < 0.45:
            ev.append(E("agvhd", rng.randrange(10, 100), rng.choice(["1", "2", "2", "3", "4", "II", "III"])))
        if allo and rng.random() < 0.35:
            ev.append(E("cgvhd", rng.randrange(100, 700), rng.choice(["MILD", "MODERATE", "SEVERE", ""])))
        if relapse <= end:
            ev.append(E("relapse", relapse))
        if rng.random() < 0.3:
            ev.append(E("infection", rng.randrange(5, 200), detail="bacterial"))
        if rng.random() < 0.15:
            ev.append(E("organ_toxicity", rng.randrange(3, 60)))
        ev = [e for e in ev if e[1] <= end]
        if death <= fu:
            ev.append(E("death", death))
        else:
            ev.append(E("last_contact", fu))
        out.append(T("CF%03d" % i, "PCF%03d" % i, tday, tt, dn, ind, ev,
                     age_years=str(rng.randrange(18, 72)), sex=rng.choice("MF")))
    write_case("confs_log", out, conf="log", seed=19)
    write_case("confs_plain", out, conf="plain", seed=19, min_group=0)


# ------------------------------------------------------------------ tests
def case_tests():
    out = []
    # ALLO: four indications; SAA has deaths but no relapse, agvhd only in AML/ALL
    allo = [
        ("AML", "MSD", [E("neutrophil_engraftment", 15), E("agvhd", 30, "2"), E("relapse", 200), E("death", 400)]),
        ("AML", "MSD", [E("neutrophil_engraftment", 18), E("relapse", 120), E("last_contact", 900)]),
        ("AML", "MUD", [E("neutrophil_engraftment", 20), E("agvhd", 25, "3"), E("death", 60)]),
        ("AML", "MUD", [E("neutrophil_engraftment", 16), E("cgvhd", 200, "MODERATE"), E("last_contact", 1200)]),
        ("AML", "HAPLO", [E("neutrophil_engraftment", 22), E("infection", 40), E("death", 150)]),
        ("AML", "HAPLO", [E("neutrophil_engraftment", 19), E("relapse", 300), E("last_contact", 500)]),
        ("AML", "MSD", [E("neutrophil_engraftment", 14), E("last_contact", 1500)]),
        ("AML", "MUD", [E("agvhd", 35, "4"), E("death", 45)]),
        ("ALL", "MSD", [E("neutrophil_engraftment", 17), E("relapse", 90), E("death", 250)]),
        ("ALL", "MUD", [E("neutrophil_engraftment", 21), E("agvhd", 28, "2"), E("cgvhd", 150, "SEVERE"),
                        E("last_contact", 1100)]),
        ("ALL", "MUD", [E("neutrophil_engraftment", 15), E("relapse", 400), E("last_contact", 800)]),
        ("ALL", "HAPLO", [E("death", 30)]),
        ("ALL", "MSD", [E("neutrophil_engraftment", 13), E("organ_toxicity", 20), E("last_contact", 700)]),
        ("ALL", "MSD", [E("neutrophil_engraftment", 16), E("relapse", 180), E("last_contact", 365)]),
        ("MDS", "MUD", [E("neutrophil_engraftment", 24), E("death", 110)]),
        ("MDS", "MUD", [E("neutrophil_engraftment", 20), E("relapse", 250), E("death", 500)]),
        ("MDS", "MSD", [E("neutrophil_engraftment", 18), E("cgvhd", 300, "MILD"), E("last_contact", 1000)]),
        ("MDS", "HAPLO", [E("last_contact", 600)]),
        ("MDS", "MSD", [E("neutrophil_engraftment", 23), E("agvhd", 40, "2"), E("last_contact", 950)]),
        ("SAA", "MSD", [E("neutrophil_engraftment", 25), E("death", 80)]),
        ("SAA", "MUD", [E("neutrophil_engraftment", 28), E("last_contact", 1300)]),
        ("SAA", "MUD", [E("death", 35)]),
        ("SAA", "MSD", [E("neutrophil_engraftment", 21), E("infection", 60), E("last_contact", 740)]),
        # ALLO transplants for indications that also have AUTO ones
        ("MM", "MUD", [E("neutrophil_engraftment", 17), E("relapse", 200), E("death", 330)]),
        ("NHL", "MSD", [E("neutrophil_engraftment", 16), E("death", 100)]),
        ("NHL", "MUD", [E("neutrophil_engraftment", 19), E("agvhd", 50, "3"), E("last_contact", 900)]),
    ]
    for i, (ind, dn, ev) in enumerate(allo, start=1):
        out.append(T("TS-A%02d" % i, "P-A%02d" % i, 7 * i, "ALLO", dn, ind, ev))
    # AUTO: MM, NHL and HL. Every AUTO death comes after a relapse (no AUTO NRM),
    # and both HL transplants leave before the first AUTO death (day 20): HL's
    # log-rank expected count for os is 0, so survdiff's df drops to 1 while
    # Gray's df stays at 2 for the incidence endpoints, where HL has events.
    # The two AUTO organ toxicities come after HL has left too: HL's row of
    # Gray's variance is zero, cuminc's qr() finds it rank-deficient and
    # reports the statistic as -1 (p = 1, df 3) for toxicity within AUTO.
    auto = [
        ("MM", [E("neutrophil_engraftment", 11), E("relapse", 15), E("death", 20)]),
        ("MM", [E("neutrophil_engraftment", 12), E("relapse", 200), E("death", 600)]),
        ("MM", [E("neutrophil_engraftment", 10), E("platelet_engraftment", 18), E("last_contact", 1400)]),
        ("MM", [E("neutrophil_engraftment", 13), E("relapse", 400), E("last_contact", 900)]),
        ("MM", [E("neutrophil_engraftment", 11), E("platelet_engraftment", 25), E("relapse", 300),
                E("death", 700)]),
        ("MM", [E("neutrophil_engraftment", 14), E("organ_toxicity", 50), E("last_contact", 1000)]),
        ("NHL", [E("neutrophil_engraftment", 10), E("platelet_engraftment", 16), E("relapse", 100),
                 E("death", 180)]),
        ("NHL", [E("neutrophil_engraftment", 11), E("organ_toxicity", 70), E("last_contact", 1200)]),
        ("NHL", [E("neutrophil_engraftment", 9), E("relapse", 60), E("last_contact", 600)]),
        ("NHL", [E("neutrophil_engraftment", 12), E("platelet_engraftment", 20), E("last_contact", 850)]),
        ("HL", [E("neutrophil_engraftment", 2), E("platelet_engraftment", 5), E("relapse", 3), E("last_contact", 8)]),
        ("HL", [E("neutrophil_engraftment", 4), E("relapse", 5), E("platelet_engraftment", 6),
                E("last_contact", 9)]),
        ("AML", [E("neutrophil_engraftment", 12), E("relapse", 150), E("death", 420)]),
        ("AML", [E("neutrophil_engraftment", 11), E("platelet_engraftment", 30), E("last_contact", 1000)]),
    ]
    for i, (ind, ev) in enumerate(auto, start=1):
        out.append(T("TS-U%02d" % i, "P-U%02d" % i, 5 * i + 2, "AUTO", "", ind, ev))
    write_case("tests", out, conf="log-log", mixed=True, shuffle=True, seed=23, min_group=0)


# ------------------------------------------------------------------ mingroup
def random_course(rng, allo, end_scale=900):
    """Events of one transplant drawn like the confs cases."""
    fu = int(rng.expovariate(1 / end_scale)) + rng.randrange(0, 60)
    death = int(rng.expovariate(1 / 700))
    relapse = int(rng.expovariate(1 / 800))
    end = min(fu, death)
    ev = []
    if rng.random() < 0.9 and 8 < end:
        ev.append(E("neutrophil_engraftment", rng.randrange(9, 28)))
    if allo and rng.random() < 0.4:
        ev.append(E("agvhd", rng.randrange(10, 100), rng.choice(["1", "2", "3", "4"])))
    if allo and rng.random() < 0.3:
        ev.append(E("cgvhd", rng.randrange(100, 700), rng.choice(["MILD", "MODERATE", "SEVERE"])))
    if relapse <= end:
        ev.append(E("relapse", relapse))
    if rng.random() < 0.3:
        ev.append(E("infection", rng.randrange(5, 200)))
    ev = [e for e in ev if e[1] <= end]
    if death <= fu:
        # a death from relapse reported with the relapse on the death day
        if relapse > death and rng.random() < 0.3:
            ev.append(E("relapse", death))
        ev.append(E("death", death))
    else:
        ev.append(E("last_contact", fu))
    return ev


def case_mingroup():
    """Default min_group (10): groups of 1-9 transplants are left out of the
    tests and named in excluded; a group of exactly 10 stays."""
    rng = random.Random(31)
    out = []
    # (type, indication, n, donor choices)
    plan = [("ALLO", "AML", 16, ["MSD", "MUD", "HAPLO"]), ("ALLO", "ALL", 12, ["MSD", "MUD"]),
            ("ALLO", "MDS", 4, ["MUD"]), ("ALLO", "SAA", 9, ["MSD"]), ("ALLO", "MM", 10, ["MUD", "MSD"]),
            ("AUTO", "MM", 14, [""]), ("AUTO", "NHL", 3, [""]), ("AUTO", "HL", 1, [""]),
            ("AUTO", "AML", 2, [""])]
    i = 0
    for tt, ind, n, donors in plan:
        for _ in range(n):
            i += 1
            ev = random_course(rng, tt == "ALLO")
            if ind == "MDS":
                # organ toxicity only in an excluded group: no toxicity test within ALLO
                ev.append(E("organ_toxicity", rng.randrange(3, 30)))
            out.append(T("MG%03d" % i, "PMG%03d" % i, rng.randrange(0, 1500), tt, rng.choice(donors),
                         ind, ev))
    # Five CORD transplants that all relapse on distinct days up to day 100:
    # cmprsk's Aalen-Johansen sum lands at 1.0000000000000002 (one ulp above
    # 1) on day 100, where both limits are 1.
    for k, d in enumerate([30, 50, 70, 85, 100]):
        i += 1
        out.append(T("MG%03d" % i, "PMG%03d" % i, rng.randrange(0, 1500), "ALLO", "CORD", "ALL",
                     [E("neutrophil_engraftment", 14 + 3 * k), E("relapse", d), E("last_contact", 400 + 50 * k)]))
    write_case("mingroup", out, conf="log-log", shuffle=True, seed=37, min_group=10)


# ------------------------------------------------------------------ notcomputable
def case_notcomputable():
    """Gray's test with a singular variance under the default min_group: all
    ten HL transplants leave before the first organ toxicity of the other
    AUTO groups, so HL's row of the variance is zero and cuminc reports -1:
    statistic and p_value empty, df as R gives it."""
    rng = random.Random(41)
    out = []
    i = 0
    for ind, n in [("MM", 14), ("NHL", 12), ("HL", 10)]:
        for k in range(n):
            i += 1
            if ind == "HL":
                ev = [E("neutrophil_engraftment", 3 + k % 4)]
                if k < 4:
                    ev.append(E("relapse", 5 + k))
                ev.append(E("last_contact", 8 + k % 3))
            else:
                ev = random_course(rng, False)
                ev = [e for e in ev if e[0] != "organ_toxicity"]
                end = max(e[1] for e in ev)
                if k < 3 and end > 40 + 10 * k:
                    ev.append(E("organ_toxicity", 40 + 10 * k))
            out.append(T("NC%03d" % i, "PNC%03d" % i, rng.randrange(0, 1500), "AUTO", "", ind, ev))
    write_case("notcomputable", out, conf="log-log", shuffle=True, seed=43, min_group=10)


if __name__ == "__main__":
    case_ties()
    case_day0()
    case_sameday()
    case_shortstrata()
    case_alldie()
    case_cutoff()
    case_multi()
    case_confs()
    case_tests()
    case_mingroup()
    case_notcomputable()
