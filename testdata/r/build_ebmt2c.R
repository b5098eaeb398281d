# build_ebmt2c.R: a real-shaped centre registry from the EBMT cohort ebmt2
# (shared/refdata/ebmt2: 8966 allografts, death by cause; see its README).
#
#   Rscript build_ebmt2c.R SHARED_REFDATA/ebmt2/extract OUTDIR
#
# ebmt2 has no centre, so each transplant is given one of 40 centres
# (C01..C40) with Zipf-like sizes (weights 1/k), 2% with no centre at all;
# age_years is drawn within the source's age_class (<=20: 1-20, 20-40:
# 21-40, >40: 41-70) and left missing for 5%; sex is drawn (55% M) and
# missing for 10%; conditioning is MAC for the 1985-1989 transplants, RIC
# or MAC at random later, missing for 3%. The other covariates stay empty,
# as in the source (so the model drops them as one-level). Events are
# copied unchanged. Seeded: the output is a function of the input.
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]; out <- args[2]
dir.create(out, showWarnings = FALSE, recursive = TRUE)
tx <- read.csv(file.path(src, "transplants.csv"), colClasses = "character", na.strings = "")
set.seed(20261201)
n <- nrow(tx)
w <- 1 / seq_len(40)
cid <- sprintf("C%02d", sample.int(40, n, replace = TRUE, prob = w))
cid[runif(n) < 0.02] <- NA
lo <- c("<=20" = 1, "20-40" = 21, ">40" = 41)[tx$age_class]
hi <- c("<=20" = 20, "20-40" = 40, ">40" = 70)[tx$age_class]
age <- floor(lo + runif(n) * (hi - lo + 1))
age[runif(n) < 0.05] <- NA
sex <- ifelse(runif(n) < 0.55, "M", "F")
sex[runif(n) < 0.10] <- NA
cond <- ifelse(tx$year_group == "1985-1989", "MAC", ifelse(runif(n) < 0.4, "RIC", "MAC"))
cond[runif(n) < 0.03] <- NA
tx$center_id <- cid
tx$age_years <- age
tx$sex <- sex
tx$conditioning <- cond
write.csv(tx, file.path(out, "transplants.csv"), row.names = FALSE, na = "", quote = FALSE)
file.copy(file.path(src, "events.csv"), file.path(out, "events.csv"), overwrite = TRUE)
