#!/usr/bin/env Rscript
# bench-r.R -- the R half of the analyze benchmark: the estimates `marrow
# analyze` makes, done by R's reference implementations on the same cohort,
# timed.
#
# usage: Rscript scripts/bench-r.R [--conf-type log-log|log|plain] [--base-reader]
#                                  COHORT_CSV [OUT_DIR]
#
# COHORT_CSV is the warehouse cohort table as CSV (e.g. `marrow query
# --warehouse W 'SELECT * FROM cohort ORDER BY transplant_id'`, or a refdata
# expected/cohort.csv): transplant_type, donor_type, indication and
# <endpoint>_time, <endpoint>_status for every endpoint of SPEC §3 (other
# columns are ignored). Status 0 censored, 1 event, 2 competing event;
# donor_type and the ALLO-only endpoints are empty for AUTO rows. With a
# transplant_year column (scripts/bench.sh adds it) the built-in by_year
# analysis is estimated too, after the default one and timed apart, so
# that R does the estimates marrow's estimation phase does.
#
# For every endpoint and every SPEC §3 stratum -- (*,*,*), (type,*,*),
# (*,*,ind), (type,*,ind), (ALLO,donor,*), (ALLO,donor,ind); ALLO-only
# endpoints only where the type is ALLO -- it computes, as
# testdata/r/reference.R does:
#   * Kaplan-Meier endpoints (os, lfs, grfs): survival::survfit (conf.type
#     "log-log" unless --conf-type says otherwise), summary(times = landmarks, extend = FALSE), quantile(0.5);
#   * the others: cmprsk::cuminc(cencode = 0) and timepoints() at the
#     landmarks for cause 1, with the log(-log) interval of SPEC §3;
#   * n, n_risk and n_events at each landmark;
# and the tests: survdiff (rho = 0) / cuminc's Gray test (rho = 0) across
# indications within each transplant type and ALLO vs AUTO within each
# indication, where there are >= 2 groups and >= 1 event of interest.
#
# Prints R_SECONDS_READ, R_SECONDS_ESTIMATES and R_SECONDS_TOTAL (read +
# estimates; package loading and writing OUT_DIR are not counted) and an
# R_SECONDS_PARTS line splitting the estimates (strata = row sets, km =
# survfit + summary + quantile, cuminc = cuminc + timepoints, counts = n_risk
# and n_events, logrank = survdiff, gray = cuminc with groups). The
# cohort is read with data.table::fread when installed (Debian
# r-cran-data.table), else -- or with --base-reader -- with read.csv. With
# OUT_DIR it also writes landmarks.csv, medians.csv and tests.csv there in
# the refdata layout, so they can be checked with tools/compare.py.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
have_dt_pkg <- suppressWarnings(suppressPackageStartupMessages(
  requireNamespace("data.table", quietly = TRUE)))

# The estimators, constants and output helpers are testdata/r/reference.R's
# (the script that made the reference answers), so both measure and compute
# the same thing.
script_file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)[1])
source(file.path(dirname(normalizePath(script_file)), "..", "testdata", "r", "reference.R"))
STRATUM_COLS <- c("transplant_type", "donor_type", "indication")
NUM_COLS <- c(paste0(ENDPOINTS, "_time"), paste0(ENDPOINTS, "_status"))

usage <- function() {
  cat("usage: Rscript bench-r.R [--conf-type log-log|log|plain] [--base-reader]",
      "COHORT_CSV [OUT_DIR]\n", file = stderr())
  quit(status = 2)
}
argv <- commandArgs(trailingOnly = TRUE)
CONF_TYPE <- "log-log"
have_dt <- have_dt_pkg
while (length(argv) > 0 && startsWith(argv[1], "--")) {
  if (argv[1] == "--conf-type" && length(argv) >= 2) {
    CONF_TYPE <- argv[2]
    argv <- argv[-(1:2)]
  } else if (argv[1] == "--base-reader") {
    have_dt <- FALSE
    argv <- argv[-1]
  } else {
    usage()
  }
}
if (!CONF_TYPE %in% c("log-log", "log", "plain")) usage()
if (length(argv) < 1 || length(argv) > 2) usage()
cohort_path <- argv[1]
out_dir <- if (length(argv) == 2) argv[2] else NULL

elapsed <- function() unname(proc.time()[["elapsed"]])

# ---------------------------------------------------------------- read
# Only the columns the estimates use are read (the ids are skipped).
read_cohort <- function(path) {
  header <- tolower(names(read.csv(path, nrows = 1, check.names = FALSE)))
  missing <- setdiff(c(STRATUM_COLS, NUM_COLS), header)
  if (length(missing) > 0) stop("cohort lacks column(s): ", paste(missing, collapse = " "))
  # transplant_year (optional) is by_year's dimension.
  text_cols <- c(STRATUM_COLS, intersect("transplant_year", header))
  if (have_dt) {
    cc <- list(character = text_cols, numeric = NUM_COLS)
    co <- data.table::fread(path, select = c(text_cols, NUM_COLS), colClasses = cc,
                            na.strings = "", showProgress = FALSE)
    co <- as.list(co)
  } else {
    classes <- rep("NULL", length(header))
    classes[header %in% text_cols] <- "character"
    classes[header %in% NUM_COLS] <- "numeric"
    co <- as.list(read.csv(path, colClasses = classes, na.strings = "",
                           check.names = FALSE))
    names(co) <- tolower(names(co))
  }
  for (c in STRATUM_COLS) co[[c]][is.na(co[[c]])] <- ""
  co
}

# ---------------------------------------------------------------- strata
# List of list(key = c(type, donor, indication), idx = row numbers), in the
# order reference.R builds them.
strata_of <- function(co) {
  ty <- co$transplant_type
  dn <- co$donor_type
  ind <- co$indication
  types <- sort(unique(ty), method = "radix")
  inds <- sort(unique(ind), method = "radix")
  s <- list(list(key = c("*", "*", "*"), idx = seq_along(ty)))
  add <- function(key, idx) if (length(idx) > 0) s[[length(s) + 1]] <<- list(key = key, idx = idx)
  by_type <- split(seq_along(ty), factor(ty, levels = types))
  by_ind <- split(seq_along(ind), factor(ind, levels = inds))
  for (t in types) add(c(t, "*", "*"), by_type[[t]])
  for (i in inds) add(c("*", "*", i), by_ind[[i]])
  for (t in types) {
    r <- by_type[[t]]
    sp <- split(r, factor(ind[r], levels = inds))
    for (i in inds) add(c(t, "*", i), sp[[i]])
  }
  allo <- by_type[["ALLO"]]
  if (!is.null(allo)) {
    donors <- sort(unique(dn[allo]), method = "radix")
    by_donor <- split(allo, factor(dn[allo], levels = donors))
    for (d in donors) {
      r <- by_donor[[d]]
      add(c("ALLO", d, "*"), r)
      sp <- split(r, factor(ind[r], levels = inds))
      for (i in inds) add(c("ALLO", d, i), sp[[i]])
    }
  }
  s
}

# ---------------------------------------------------------------- tests
one_test <- function(ep, time, status, group) {
  if (length(unique(group)) < 2 || !any(status == 1)) return(NULL)
  if (ep %in% KM_ENDPOINTS) {
    sd <- survdiff(Surv(time, status == 1) ~ factor(group), rho = 0)
    c(sd$chisq, sum(sd$exp > 0) - 1, sd$pvalue)
  } else {
    t1 <- cuminc(time, status, group = group, cencode = 0, rho = 0)$Tests["1", ]
    c(t1[["stat"]], t1[["df"]], t1[["pv"]])
  }
}

# Seconds spent per part of the estimates, for the R_SECONDS_PARTS line.
PARTS <- c(strata = 0, km = 0, cuminc = 0, counts = 0, logrank = 0, gray = 0)
timed <- function(part, expr) {
  t <- elapsed()
  v <- expr
  PARTS[[part]] <<- PARTS[[part]] + elapsed() - t
  v
}

# One stratum's estimates at the landmarks (and median), timed by part,
# with n_risk and n_events at each landmark as counts.
stratum_landmarks <- function(ep, time, status) {
  r <- if (ep %in% KM_ENDPOINTS) {
    timed("km", km_landmarks(time, status, CONF_TYPE, strict = FALSE))
  } else {
    timed("cuminc", ci_landmarks(time, status, strict = FALSE))
  }
  r$counts <- timed("counts", {
    ev_time <- time[status == 1]
    list(n_risk = vapply(LANDMARKS, function(t) sum(time >= t), 0),
         n_events = vapply(LANDMARKS, function(t) sum(ev_time <= t), 0))
  })
  r
}

estimate_all <- function(co) {
  strata <- timed("strata", strata_of(co))
  nl <- length(LANDMARKS)
  lm <- list()
  med <- list()
  tests <- list()
  for (ep in ENDPOINTS) {
    time_all <- co[[paste0(ep, "_time")]]
    status_all <- co[[paste0(ep, "_status")]]
    allo_only <- ep %in% ALLO_ONLY
    for (s in strata) {
      if (allo_only && s$key[1] != "ALLO") next
      time <- time_all[s$idx]
      status <- status_all[s$idx]
      if (anyNA(time) || anyNA(status)) stop("missing ", ep, " time/status in stratum ",
                                              paste(s$key, collapse = ","))
      r <- stratum_landmarks(ep, time, status)
      cnt <- r$counts
      lm[[length(lm) + 1]] <- list(
        endpoint = rep(ep, nl), transplant_type = rep(s$key[1], nl),
        donor_type = rep(s$key[2], nl), indication = rep(s$key[3], nl),
        day = LANDMARKS, n = rep(length(time), nl),
        n_risk = cnt$n_risk, n_events = cnt$n_events,
        estimate = r$est, std_err = r$se, lower = r$lo, upper = r$up)
      if (!is.null(r$median)) {
        med[[length(med) + 1]] <- list(
          endpoint = ep, transplant_type = s$key[1], donor_type = s$key[2],
          indication = s$key[3], n = length(time), median = r$median[1],
          lower = r$median[2], upper = r$median[3])
      }
    }
    # tests: indications within each type; ALLO vs AUTO within each indication
    ty <- co$transplant_type
    test_part <- if (ep %in% KM_ENDPOINTS) "logrank" else "gray"
    types <- if (allo_only) "ALLO" else sort(unique(ty), method = "radix")
    for (t in types) {
      r <- which(ty == t)
      if (length(r) == 0) next
      x <- timed(test_part, one_test(ep, time_all[r], status_all[r], co$indication[r]))
      if (!is.null(x)) tests[[length(tests) + 1]] <- list(ep, "indication", t, x)
    }
    if (!allo_only) {
      for (i in sort(unique(co$indication), method = "radix")) {
        r <- which(co$indication == i)
        x <- timed(test_part, one_test(ep, time_all[r], status_all[r], ty[r]))
        if (!is.null(x)) tests[[length(tests) + 1]] <- list(ep, "transplant_type", i, x)
      }
    }
  }
  list(lm = lm, med = med, tests = tests)
}

# ---------------------------------------------------------------- by_year
# The built-in analysis by_year (README "Declared analyses"): os, lfs,
# relapse, nrm by transplant_type x transplant_year, every subset of the two
# (*,*), (type,*), (*,year), (type,year); landmarks and medians as above;
# tests of the years within each type and of the types within each year,
# groups under MIN_GROUP transplants left out (SPEC section 5).
BY_YEAR_ENDPOINTS <- c("os", "lfs", "relapse", "nrm")
MIN_GROUP <- 10
estimate_by_year <- function(co) {
  ty <- co$transplant_type
  yr <- co$transplant_year
  strata <- timed("strata", {
    types <- sort(unique(ty), method = "radix")
    years <- sort(unique(yr), method = "radix")
    s <- list(list(key = c("*", "*"), idx = seq_along(ty)))
    add <- function(key, idx) if (length(idx) > 0) s[[length(s) + 1]] <<- list(key = key, idx = idx)
    by_type <- split(seq_along(ty), factor(ty, levels = types))
    by_year <- split(seq_along(yr), factor(yr, levels = years))
    for (t in types) add(c(t, "*"), by_type[[t]])
    for (y in years) add(c("*", y), by_year[[y]])
    for (t in types) {
      sp <- split(by_type[[t]], factor(yr[by_type[[t]]], levels = years))
      for (y in years) add(c(t, y), sp[[y]])
    }
    s
  })
  nl <- length(LANDMARKS)
  lm <- list()
  med <- list()
  tests <- list()
  for (ep in BY_YEAR_ENDPOINTS) {
    time_all <- co[[paste0(ep, "_time")]]
    status_all <- co[[paste0(ep, "_status")]]
    for (s in strata) {
      time <- time_all[s$idx]
      status <- status_all[s$idx]
      r <- stratum_landmarks(ep, time, status)
      cnt <- r$counts
      lm[[length(lm) + 1]] <- list(endpoint = rep(ep, nl), transplant_type = rep(s$key[1], nl),
        transplant_year = rep(s$key[2], nl), day = LANDMARKS, n = rep(length(time), nl),
        n_risk = cnt$n_risk, n_events = cnt$n_events,
        estimate = r$est, std_err = r$se, lower = r$lo, upper = r$up)
      if (!is.null(r$median)) med[[length(med) + 1]] <- c(ep, s$key, r$median)
    }
    test_part <- if (ep %in% KM_ENDPOINTS) "logrank" else "gray"
    within <- function(rows, group, comparison, label) {
      size <- table(group[rows])
      keep <- rows[group[rows] %in% names(size)[size >= MIN_GROUP]]
      x <- timed(test_part, one_test(ep, time_all[keep], status_all[keep], group[keep]))
      if (!is.null(x)) tests[[length(tests) + 1]] <<- list(ep, comparison, label, x)
    }
    for (t in sort(unique(ty), method = "radix"))
      within(which(ty == t), yr, "transplant_year", paste0("transplant_type=", t))
    for (y in sort(unique(yr), method = "radix"))
      within(which(yr == y), ty, "transplant_type", paste0("transplant_year=", y))
  }
  list(lm = lm, med = med, tests = tests)
}

# ---------------------------------------------------------------- output
# The tests of estimate_all / estimate_by_year as a data frame.
tests_frame <- function(tests) {
  data.frame(
    endpoint = vapply(tests, `[[`, "", 1),
    comparison = vapply(tests, `[[`, "", 2),
    within = vapply(tests, `[[`, "", 3),
    statistic = vapply(tests, function(x) x[[4]][1], 0),
    df = vapply(tests, function(x) x[[4]][2], 0),
    p_value = vapply(tests, function(x) x[[4]][3], 0),
    stringsAsFactors = FALSE)
}

write_results <- function(res, dir) {
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  lm <- do.call(rbind, lapply(res$lm, as.data.frame, stringsAsFactors = FALSE))
  lm <- lm[order(lm$endpoint, lm$transplant_type, lm$donor_type, lm$indication, lm$day,
                 method = "radix"), ]
  write_table(lm, file.path(dir, "landmarks.csv"),
              c("day", "n", "n_risk", "n_events", "estimate", "std_err", "lower", "upper"))
  med <- do.call(rbind, lapply(res$med, as.data.frame, stringsAsFactors = FALSE))
  if (is.null(med)) {
    med <- data.frame(endpoint = character(0), transplant_type = character(0),
                      donor_type = character(0), indication = character(0), n = numeric(0),
                      median = numeric(0), lower = numeric(0), upper = numeric(0))
  }
  med <- med[order(med$endpoint, med$transplant_type, med$donor_type, med$indication,
                   method = "radix"), ]
  write_table(med, file.path(dir, "medians.csv"), c("n", "median", "lower", "upper"))
  tests <- tests_frame(res$tests)
  tests$method <- ifelse(tests$endpoint %in% KM_ENDPOINTS, "logrank", "gray")
  tests <- tests[order(tests$endpoint, tests$comparison, tests$within, method = "radix"), ]
  write_table(tests, file.path(dir, "tests.csv"), c("statistic", "df", "p_value"))
}

# by_year's landmarks.csv and tests.csv, as marrow's
# results/analyses/by_year/ (rows in its order).
write_by_year <- function(res, dir) {
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  lm <- do.call(rbind, lapply(res$lm, as.data.frame, stringsAsFactors = FALSE))
  lm <- lm[order(lm$endpoint, lm$transplant_type, lm$transplant_year, lm$day, method = "radix"), ]
  write_table(lm, file.path(dir, "landmarks.csv"),
              c("day", "n", "n_risk", "n_events", "estimate", "std_err", "lower", "upper"))
  tests <- tests_frame(res$tests)
  tests <- tests[order(tests$endpoint, tests$comparison, tests$within, method = "radix"), ]
  write_table(tests, file.path(dir, "tests.csv"), c("statistic", "df", "p_value"))
}

# ---------------------------------------------------------------- main
t0 <- elapsed()
co <- read_cohort(cohort_path)
t1 <- elapsed()
res <- estimate_all(co)
t2 <- elapsed()
# by_year needs the cohort's transplant_year (scripts/bench.sh adds it).
by_year <- NULL
if (!is.null(co$transplant_year)) by_year <- estimate_by_year(co)
t3 <- elapsed()

cat(sprintf("R_ROWS=%d\n", length(co$transplant_type)))
cat(sprintf("R_RESULTS landmark_rows=%d median_rows=%d test_rows=%d\n",
            length(res$lm) * length(LANDMARKS), length(res$med), length(res$tests)))
cat(sprintf("R_READER=%s\n", if (have_dt) "data.table::fread" else "read.csv"))
cat(sprintf("R_SECONDS_READ=%.3f\n", t1 - t0))
if (!is.null(by_year))
  cat(sprintf("R_BY_YEAR landmark_rows=%d median_rows=%d test_rows=%d\n",
              length(by_year$lm) * length(LANDMARKS), length(by_year$med), length(by_year$tests)))
cat(sprintf("R_SECONDS_DEFAULT=%.3f\n", t2 - t1))
cat(sprintf("R_SECONDS_BY_YEAR=%s\n", if (is.null(by_year)) "NA" else sprintf("%.3f", t3 - t2)))
cat(sprintf("R_SECONDS_ESTIMATES=%.3f\n", t3 - t1))
cat(sprintf("R_SECONDS_TOTAL=%.3f\n", t3 - t0))
cat("R_SECONDS_PARTS", sprintf("%s=%.3f", names(PARTS), PARTS), "\n")
if (!is.null(out_dir)) {
  write_results(res, out_dir)
  if (!is.null(by_year)) write_by_year(by_year, file.path(out_dir, "by_year"))
}
