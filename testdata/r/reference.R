#!/usr/bin/env Rscript
# reference.R -- R's answers for a marrow extract, written in the refdata format.
#
# usage:
#   Rscript reference.R CASE_DIR
#       reads CASE_DIR/extract/{transplants,events}.csv, CASE_DIR/args (optional,
#       e.g. "--cutoff 2001-06-30") and CASE_DIR/config.toml (optional,
#       conf_type = "log-log" | "log" | "plain", min_group = N); writes
#       CASE_DIR/want/{landmarks,medians,tests,cohort}.csv and CASE_DIR/want/info.txt
#   Rscript reference.R --extract DIR --out DIR [--cutoff YYYY-MM-DD] [--conf-type X]
#                       [--min-group N]
#       the same for an extract anywhere (used for the refdata self-check)
#
# The cohort and every endpoint's time/status are derived here independently of
# marrow, following /work/shared/SPEC.md section 3 literally:
#   * cohort = each patient's first transplant of each type (earliest
#     transplant_date, then the smallest transplant_id as text, byte order);
#     transplants dated after the cutoff are left out;
#   * cutoff = --cutoff if given, else the latest event_date in events.csv;
#     events after the cutoff are ignored;
#   * follow-up = latest of the transplant's event dates (any event,
#     last_contact included, also those after the cutoff) capped at the cutoff;
#     0 days when the transplant has no event rows;
#   * only the first occurrence of an event counts; an event of interest and a
#     competing event on the same day: the event of interest counts (GVHD,
#     engraftment, infection, toxicity before death), except that a relapse and
#     a death on the same day are a relapse for `nrm` too: nrm is death without
#     prior or same-day relapse, so relapse and nrm split the failures of lfs;
#   * agvhd without grade does not count for agvhd24/agvhd34/grfs; cgvhd without
#     grade counts for cgvhd, not for grfs; agvhd grades 1-4 or I-IV;
#   * second_transplant does not censor; events are attached to the
#     transplant_id they are reported under.
# status: 0 censored, 1 event of interest, 2 competing event (death; relapse for nrm).
#
# Estimators: survival::survfit / summary(extend = FALSE) / quantile / survdiff
# and cmprsk::cuminc / timepoints, with the SPEC's conventions for the boundary
# cases (S = 1: std_err 0, limits empty; S = 0: std_err and limits empty;
# incidence 0: std_err 0, limits empty; incidence >= 1: limits 1).
#
# Tests (SPEC section 3): a group with fewer than min_group transplants (default
# 10, 0 keeps every group) in the endpoint's population is left out and named in
# `excluded` (codes ';'-joined, byte order); a test is written where two or more
# groups remain and an event of interest occurred among them. A negative
# statistic (cuminc's -1 for a singular variance, or a negative quadratic form
# from rounding) is "not computable": statistic and p_value empty, df as R gives.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

LANDMARKS <- c(100, 180, 365, 730, 1095, 1825)
Z <- qnorm(0.975)
KM_ENDPOINTS <- c("os", "lfs", "grfs")
ALLO_ONLY <- c("agvhd24", "agvhd34", "cgvhd", "grfs")
ENDPOINTS <- sort(c("os", "lfs", "relapse", "nrm", "agvhd24", "agvhd34", "cgvhd",
                    "grfs", "neutrophil", "platelet", "infection", "toxicity"),
                  method = "radix")

die <- function(...) {
  cat("reference.R: ", ..., "\n", sep = "", file = stderr())
  quit(status = 1)
}

# ---------------------------------------------------------------- arguments
parse_cli <- function(argv) {
  o <- list(extract = NULL, out = NULL, cutoff = NULL, conf_type = NULL, min_group = NULL,
            case = NULL)
  i <- 1
  while (i <= length(argv)) {
    a <- argv[i]
    if (a %in% c("--extract", "--out", "--cutoff", "--conf-type", "--min-group")) {
      if (i == length(argv)) die("missing value after ", a)
      key <- switch(a, "--extract" = "extract", "--out" = "out",
                    "--cutoff" = "cutoff", "--conf-type" = "conf_type",
                    "--min-group" = "min_group")
      o[[key]] <- argv[i + 1]
      i <- i + 2
    } else if (startsWith(a, "--")) {
      die("unknown option ", a)
    } else {
      o$case <- a
      i <- i + 1
    }
  }
  o
}

# The case's args file holds marrow CLI arguments; only --cutoff matters here.
read_args_file <- function(path) {
  if (!file.exists(path)) return(NULL)
  toks <- scan(path, what = "", quiet = TRUE, comment.char = "#")
  cut <- NULL
  for (i in seq_along(toks)) {
    if (toks[i] == "--cutoff" && i < length(toks)) cut <- toks[i + 1]
    if (startsWith(toks[i], "--cutoff=")) cut <- sub("^--cutoff=", "", toks[i])
  }
  cut
}

read_conf_type <- function(path) {
  if (!file.exists(path)) return(NULL)
  for (l in readLines(path, warn = FALSE)) {
    l <- sub("#.*$", "", l)
    m <- regmatches(l, regexec('^\\s*conf_type\\s*=\\s*"([^"]*)"\\s*$', l))[[1]]
    if (length(m) == 2) return(m[2])
  }
  NULL
}

read_min_group <- function(path) {
  if (!file.exists(path)) return(NULL)
  for (l in readLines(path, warn = FALSE)) {
    l <- sub("#.*$", "", l)
    m <- regmatches(l, regexec('^\\s*min_group\\s*=\\s*([0-9]+)\\s*$', l))[[1]]
    if (length(m) == 2) return(m[2])
  }
  NULL
}

# ---------------------------------------------------------------- input
read_extract_csv <- function(path) {
  d <- read.csv(path, colClasses = "character", na.strings = character(0),
                check.names = FALSE, encoding = "UTF-8", strip.white = FALSE)
  names(d) <- tolower(names(d))
  d
}

agvhd_grade <- function(g) {
  g <- toupper(g)
  map <- c("1" = 1, "2" = 2, "3" = 3, "4" = 4, "I" = 1, "II" = 2, "III" = 3, "IV" = 4)
  out <- unname(map[g])
  bad <- is.na(out) & g != ""
  if (any(bad)) die("unexpected agvhd grade(s): ", paste(unique(g[bad]), collapse = " "))
  out
}

# ---------------------------------------------------------------- cohort
derive_cohort <- function(tx, ev, cutoff) {
  tx$transplant_type <- toupper(tx$transplant_type)
  tx$donor_type <- toupper(tx$donor_type)
  tx$indication <- toupper(tx$indication)
  tx$donor_type[tx$transplant_type == "ALLO" & tx$donor_type == ""] <- "UNKNOWN"
  tx$date <- as.Date(tx$transplant_date)
  ev$event <- tolower(ev$event)
  ev$date <- as.Date(ev$event_date)
  if (anyNA(tx$date) || anyNA(ev$date)) die("unparseable date in the extract")
  if (any(!ev$transplant_id %in% tx$transplant_id)) die("event for an unknown transplant")

  tx <- tx[tx$date <= cutoff, ]
  o <- order(tx$patient_id, tx$transplant_type, tx$date, tx$transplant_id, method = "radix")
  tx <- tx[o, ]
  first <- !duplicated(tx[, c("patient_id", "transplant_type")])
  co <- tx[first, ]
  co <- co[order(co$transplant_id, method = "radix"), ]

  rows <- vector("list", nrow(co))
  for (k in seq_len(nrow(co))) {
    t0 <- co$date[k]
    e_all <- ev[ev$transplant_id == co$transplant_id[k], ]
    fu_end <- if (nrow(e_all) == 0) t0 else min(max(e_all$date), cutoff)
    fu <- as.numeric(fu_end - t0)
    e <- e_all[e_all$date <= cutoff, ]
    day <- as.numeric(e$date - t0)
    first_day <- function(sel) if (any(sel)) min(day[sel]) else NA
    D <- first_day(e$event == "death")
    R <- first_day(e$event == "relapse")
    ag <- rep(NA_real_, nrow(e))
    ag[e$event == "agvhd"] <- agvhd_grade(e$grade[e$event == "agvhd"])
    cg <- toupper(e$grade)
    A24 <- first_day(e$event == "agvhd" & !is.na(ag) & ag >= 2)
    A34 <- first_day(e$event == "agvhd" & !is.na(ag) & ag >= 3)
    C <- first_day(e$event == "cgvhd")
    Cms <- first_day(e$event == "cgvhd" & cg %in% c("MODERATE", "SEVERE"))
    NE <- first_day(e$event == "neutrophil_engraftment")
    PE <- first_day(e$event == "platelet_engraftment")
    INF <- first_day(e$event == "infection")
    TOX <- first_day(e$event == "organ_toxicity")

    km <- function(x) if (is.na(x)) c(fu, 0) else c(x, 1)
    # event of interest x, competing event y; same day: x counts
    ci <- function(x, y) {
      if (!is.na(x) && (is.na(y) || x <= y)) c(x, 1)
      else if (!is.na(y)) c(y, 2)
      else c(fu, 0)
    }
    # nrm: death strictly before any relapse; a relapse on the death day is a
    # relapse (the competing event), so relapse and nrm split lfs's failures.
    nrm_of <- function(d, r) {
      if (!is.na(d) && (is.na(r) || d < r)) c(d, 1)
      else if (!is.na(r)) c(r, 2)
      else c(fu, 0)
    }
    firstof <- function(...) {
      v <- c(...)
      if (all(is.na(v))) NA else min(v, na.rm = TRUE)
    }
    allo <- co$transplant_type[k] == "ALLO"
    r <- list(
      os = km(D),
      lfs = km(firstof(R, D)),
      relapse = ci(R, D),
      nrm = nrm_of(D, R),
      neutrophil = ci(NE, D),
      platelet = ci(PE, D),
      infection = ci(INF, D),
      toxicity = ci(TOX, D),
      agvhd24 = if (allo) ci(A24, D) else c(NA, NA),
      agvhd34 = if (allo) ci(A34, D) else c(NA, NA),
      cgvhd = if (allo) ci(C, D) else c(NA, NA),
      grfs = if (allo) km(firstof(A34, Cms, R, D)) else c(NA, NA)
    )
    vals <- list(followup_days = fu)
    for (ep in ENDPOINTS) {
      vals[[paste0(ep, "_time")]] <- r[[ep]][1]
      vals[[paste0(ep, "_status")]] <- r[[ep]][2]
    }
    rows[[k]] <- as.data.frame(vals)
  }
  ep <- do.call(rbind, rows)
  out <- data.frame(transplant_id = co$transplant_id, patient_id = co$patient_id,
                    transplant_type = co$transplant_type,
                    donor_type = ifelse(co$transplant_type == "ALLO", co$donor_type, ""),
                    indication = co$indication, stringsAsFactors = FALSE)
  cbind(out, ep)
}

# ---------------------------------------------------------------- strata
strata_of <- function(co) {
  s <- list(c("*", "*", "*"))
  types <- sort(unique(co$transplant_type), method = "radix")
  inds <- sort(unique(co$indication), method = "radix")
  for (t in types) s[[length(s) + 1]] <- c(t, "*", "*")
  for (i in inds) s[[length(s) + 1]] <- c("*", "*", i)
  for (t in types) for (i in inds)
    if (any(co$transplant_type == t & co$indication == i)) s[[length(s) + 1]] <- c(t, "*", i)
  allo <- co[co$transplant_type == "ALLO", ]
  for (d in sort(unique(allo$donor_type), method = "radix")) {
    s[[length(s) + 1]] <- c("ALLO", d, "*")
    for (i in inds)
      if (any(allo$donor_type == d & allo$indication == i)) s[[length(s) + 1]] <- c("ALLO", d, i)
  }
  s
}

in_stratum <- function(co, s) {
  (s[1] == "*" | co$transplant_type == s[1]) &
    (s[2] == "*" | co$donor_type == s[2]) &
    (s[3] == "*" | co$indication == s[3])
}

# ---------------------------------------------------------------- estimators
# strict = TRUE (reference answers) stops on values another implementation
# could not match to 1e-9; scripts/bench-r.R calls these with strict = FALSE.
km_landmarks <- function(time, status, conf_type, strict = TRUE) {
  fit <- survfit(Surv(time, status == 1) ~ 1, conf.type = conf_type)
  n <- length(LANDMARKS)
  est <- se <- lo <- up <- rep(NA_real_, n)
  if (any(LANDMARKS <= max(time))) {
    # (summary() stops when extend = FALSE leaves no time at all)
    sm <- summary(fit, times = LANDMARKS, extend = FALSE)
    idx <- match(sm$time, LANDMARKS)
    if (strict) stopifnot(identical(which(LANDMARKS <= max(time)), sort(idx)))
    est[idx] <- sm$surv
    se[idx] <- sm$std.err
    lo[idx] <- sm$lower
    up[idx] <- sm$upper
  }
  one <- !is.na(est) & est == 1
  zero <- !is.na(est) & est == 0
  se[one] <- 0
  lo[one | zero] <- NA
  up[one | zero] <- NA
  se[zero] <- NA
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  list(est = est, se = se, lo = lo, up = up,
       median = c(unname(q$quantile), unname(q$lower), unname(q$upper)))
}

ci_landmarks <- function(time, status, strict = TRUE) {
  n <- length(LANDMARKS)
  inside <- LANDMARKS <= max(time)
  est <- se <- lo <- up <- rep(NA_real_, n)
  if (!any(inside)) return(list(est = est, se = se, lo = lo, up = up))
  if (!any(status == 1)) {
    est[inside] <- 0
    se[inside] <- 0
    return(list(est = est, se = se, lo = lo, up = up))
  }
  fit <- cuminc(time, status, cencode = 0)
  tp <- timepoints(fit, LANDMARKS)
  e <- unname(tp$est["1 1", ])
  v <- unname(tp$var["1 1", ])
  if (strict) {
    stopifnot(identical(!is.na(e), inside))
    # Reference values that hinge on the last bit of the Fortran arithmetic cannot
    # be matched to 1e-9 by another implementation: refuse them, the case must change.
    if (any(v < 0, na.rm = TRUE)) die("negative cuminc variance (rounding): ", paste(v, collapse = " "))
    # (An incidence at or one ulp above 1 is fine: its limits are 1, 1.)
    if (any(!is.na(e) & e < 1 & 1 - e < 1e-12))
      die("cumulative incidence within rounding of 1: ", paste(e, collapse = " "))
  } else {
    v <- pmax(v, 0)
  }
  est <- e
  se <- sqrt(v)
  a <- Z * se / (est * log(est))
  l1 <- est^exp(-a)
  l2 <- est^exp(a)
  lo <- pmin(l1, l2)
  up <- pmax(l1, l2)
  zero <- !is.na(est) & est == 0
  one <- !is.na(est) & est >= 1
  se[zero] <- 0
  lo[zero] <- NA
  up[zero] <- NA
  lo[one] <- 1
  up[one] <- 1
  list(est = est, se = se, lo = lo, up = up)
}

run_tests <- function(co, min_group) {
  out <- list()
  add <- function(ep, comparison, within, stat, df, p, method, excluded) {
    out[[length(out) + 1]] <<- data.frame(endpoint = ep, comparison = comparison,
                                          within = within, statistic = stat, df = df,
                                          p_value = p, method = method, excluded = excluded,
                                          stringsAsFactors = FALSE)
  }
  one_test <- function(ep, comparison, within, d, group) {
    # Groups with fewer than min_group transplants in the endpoint's
    # population (d) are left out and named.
    size <- table(group)
    small <- sort(names(size)[size < min_group], method = "radix")
    keep <- !(group %in% small)
    d <- d[keep, ]
    group <- group[keep]
    time <- d[[paste0(ep, "_time")]]
    status <- d[[paste0(ep, "_status")]]
    if (length(unique(group)) < 2 || !any(status == 1)) return()
    excluded <- paste(small, collapse = ";")
    if (ep %in% KM_ENDPOINTS) {
      sd <- survdiff(Surv(time, status == 1) ~ factor(group), rho = 0)
      df <- sum(sd$exp > 0) - 1
      stat <- sd$chisq
      p <- sd$pvalue
      method <- "logrank"
    } else {
      ci <- cuminc(time, status, group = group, cencode = 0, rho = 0)
      t1 <- ci$Tests["1", ]
      # cuminc flags a singular score variance (qr() rank-deficient) with
      # stat = -1, pv = 1 and df = groups - 1.
      stat <- t1[["stat"]]
      df <- t1[["df"]]
      p <- t1[["pv"]]
      method <- "gray"
    }
    # Not computable: no chi-square below 0 is reported (df as R gives it).
    if (stat < 0) {
      stat <- NA_real_
      p <- NA_real_
    }
    add(ep, comparison, within, stat, df, p, method, excluded)
  }
  for (ep in ENDPOINTS) {
    types <- if (ep %in% ALLO_ONLY) "ALLO" else sort(unique(co$transplant_type), method = "radix")
    for (t in types) {
      d <- co[co$transplant_type == t, ]
      if (nrow(d) > 0) one_test(ep, "indication", t, d, d$indication)
    }
    if (!(ep %in% ALLO_ONLY)) {
      for (i in sort(unique(co$indication), method = "radix")) {
        d <- co[co$indication == i, ]
        one_test(ep, "transplant_type", i, d, d$transplant_type)
      }
    }
  }
  if (length(out) == 0) {
    return(data.frame(endpoint = character(0), comparison = character(0), within = character(0),
                      statistic = numeric(0), df = numeric(0), p_value = numeric(0),
                      method = character(0), excluded = character(0)))
  }
  r <- do.call(rbind, out)
  r[order(r$endpoint, r$comparison, r$within, method = "radix"), ]
}

# ---------------------------------------------------------------- output
# 17 significant digits (C's %.17g, as the refdata); NA -> ""
fmt_num <- function(x) {
  vapply(x, function(v) {
    if (is.nan(v) || is.infinite(v)) stop("non-finite value in output")
    if (is.na(v)) return("")
    sprintf("%.17g", v)
  }, "")
}

write_table <- function(d, path, numeric_cols) {
  for (c in numeric_cols) d[[c]] <- fmt_num(d[[c]])
  write.table(d, path, sep = ",", quote = FALSE, row.names = FALSE, col.names = TRUE,
              na = "", eol = "\n")
}

analyze <- function(extract, out, cutoff_arg, conf_type, min_group) {
  tx <- read_extract_csv(file.path(extract, "transplants.csv"))
  ev <- read_extract_csv(file.path(extract, "events.csv"))
  cutoff <- if (is.null(cutoff_arg)) max(as.Date(ev$event_date)) else as.Date(cutoff_arg)
  if (is.na(cutoff)) die("bad cutoff")
  co <- derive_cohort(tx, ev, cutoff)
  if (nrow(co) == 0) die("empty cohort")

  lm_rows <- list()
  med_rows <- list()
  for (ep in ENDPOINTS) {
    for (s in strata_of(co)) {
      if (ep %in% ALLO_ONLY && s[1] != "ALLO") next
      d <- co[in_stratum(co, s), ]
      time <- d[[paste0(ep, "_time")]]
      status <- d[[paste0(ep, "_status")]]
      stopifnot(!anyNA(time), !anyNA(status))
      r <- if (ep %in% KM_ENDPOINTS) km_landmarks(time, status, conf_type) else ci_landmarks(time, status)
      lm_rows[[length(lm_rows) + 1]] <- data.frame(
        endpoint = ep, transplant_type = s[1], donor_type = s[2], indication = s[3],
        day = LANDMARKS, n = nrow(d),
        n_risk = vapply(LANDMARKS, function(t) sum(time >= t), 0),
        n_events = vapply(LANDMARKS, function(t) sum(status == 1 & time <= t), 0),
        estimate = r$est, std_err = r$se, lower = r$lo, upper = r$up,
        stringsAsFactors = FALSE)
      if (ep %in% KM_ENDPOINTS) {
        med_rows[[length(med_rows) + 1]] <- data.frame(
          endpoint = ep, transplant_type = s[1], donor_type = s[2], indication = s[3],
          n = nrow(d), median = r$median[1], lower = r$median[2], upper = r$median[3],
          stringsAsFactors = FALSE)
      }
    }
  }
  lm <- do.call(rbind, lm_rows)
  lm <- lm[order(lm$endpoint, lm$transplant_type, lm$donor_type, lm$indication, lm$day,
                 method = "radix"), ]
  med <- do.call(rbind, med_rows)
  med <- med[order(med$endpoint, med$transplant_type, med$donor_type, med$indication,
                   method = "radix"), ]
  tests <- run_tests(co, min_group)

  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  write_table(lm, file.path(out, "landmarks.csv"),
              c("day", "n", "n_risk", "n_events", "estimate", "std_err", "lower", "upper"))
  write_table(med, file.path(out, "medians.csv"), c("n", "median", "lower", "upper"))
  write_table(tests, file.path(out, "tests.csv"), c("statistic", "df", "p_value"))
  co_out <- co
  num_cols <- setdiff(names(co_out), c("transplant_id", "patient_id", "transplant_type",
                                       "donor_type", "indication"))
  write_table(co_out, file.path(out, "cohort.csv"), num_cols)
  writeLines(c(
    sprintf("cutoff=%s", format(cutoff)),
    sprintf("cutoff_source=%s", if (is.null(cutoff_arg)) "latest_event_date" else "args"),
    sprintf("conf_type=%s", conf_type),
    "rule=endpoint",
    sprintf("min_group=%d", min_group),
    "ci_z=qnorm",
    sprintf("cohort_transplants=%d", nrow(co)),
    sprintf("landmark_rows=%d", nrow(lm)),
    sprintf("median_rows=%d", nrow(med)),
    sprintf("test_rows=%d", nrow(tests)),
    sprintf("R=%s survival=%s cmprsk=%s", paste(R.version$major, R.version$minor, sep = "."),
            packageVersion("survival"), packageVersion("cmprsk"))
  ), file.path(out, "info.txt"))
}

main <- function() {
  o <- parse_cli(commandArgs(trailingOnly = TRUE))
  if (!is.null(o$case)) {
    if (is.null(o$extract)) o$extract <- file.path(o$case, "extract")
    if (is.null(o$out)) o$out <- file.path(o$case, "want")
    if (is.null(o$cutoff)) o$cutoff <- read_args_file(file.path(o$case, "args"))
    if (is.null(o$conf_type)) o$conf_type <- read_conf_type(file.path(o$case, "config.toml"))
    if (is.null(o$min_group)) o$min_group <- read_min_group(file.path(o$case, "config.toml"))
  }
  if (is.null(o$extract) || is.null(o$out)) die("usage: reference.R CASE_DIR | --extract DIR --out DIR")
  if (is.null(o$conf_type)) o$conf_type <- "log-log"
  if (!o$conf_type %in% c("log-log", "log", "plain")) die("bad conf_type ", o$conf_type)
  if (is.null(o$min_group)) o$min_group <- "10"
  if (!grepl("^[0-9]+$", o$min_group)) die("bad min_group ", o$min_group)
  analyze(o$extract, o$out, o$cutoff, o$conf_type, as.integer(o$min_group))
}

# Run only as a script: scripts/bench-r.R sources this file for its estimators.
if (sys.nframe() == 0L) main()
