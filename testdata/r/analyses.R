#!/usr/bin/env Rscript
# analyses.R -- R's answers for marrow's declared endpoints and analyses
# (SPEC §5), written as marrow writes results/analyses/<name>/.
#
# usage:
#   Rscript analyses.R CASE_DIR
#       reads CASE_DIR/extract/{transplants,events}.csv, CASE_DIR/args
#       (optional "--cutoff YYYY-MM-DD") and CASE_DIR/config.toml ([[endpoint]],
#       [[analysis]], landmarks, conf_type); writes, for every [[analysis]],
#       CASE_DIR/want/analyses/<name>/{landmarks,medians,tests}.csv
#
# Everything analysis-specific is derived here from the SPEC, independently
# of marrow's Go and SQL: the endpoint definitions (event codes with grades,
# competing codes, same-day rule, population), the cohort columns, the
# dimensions (MISSING for an empty value, NONE for an AUTO transplant's
# donor_type, transplant_year, bands), the where filters (a missing value
# never passes a range), every subset of `by`, and the tests of each
# dimension within each combination of the other dimensions' real groups
# (min_group 10). The estimators are reference.R's (survfit, cuminc), sourced
# from it, so the boundary conventions are the same as for the default
# analysis.
#
# The config is read by a small TOML reader for the subset marrow's examples
# use (tables of arrays, strings, numbers, arrays and inline tables): each
# value is turned into an R expression ([ ] -> c( ), { } -> list( )).

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else "testdata/r"
})
source(file.path(here, "reference.R"))

MIN_GROUP <- 10  # SPEC §3's default; the config's min_group overrides it

# ---------------------------------------------------------------- config
read_config <- function(path) {
  cfg <- list(endpoint = list(), analysis = list())
  cur <- NULL
  flush <- function() if (!is.null(cur)) cfg[[cur$kind]][[length(cfg[[cur$kind]]) + 1]] <<- cur$v
  if (!file.exists(path)) return(cfg)
  for (l in readLines(path, warn = FALSE)) {
    l <- trimws(sub("#.*$", "", l))
    if (l == "") next
    m <- regmatches(l, regexec("^\\[\\[(endpoint|analysis)\\]\\]$", l))[[1]]
    if (length(m) == 2) {
      flush()
      cur <- list(kind = m[2], v = list())
      next
    }
    m <- regmatches(l, regexec("^([a-z_]+)\\s*=\\s*(.*)$", l))[[1]]
    if (length(m) != 3) die("config: cannot read ", l)
    expr <- gsub("\\[", "c(", gsub("\\]", ")", gsub("\\{", "list(", gsub("\\}", ")", m[3]))))
    v <- eval(parse(text = expr))
    if (is.null(cur)) cfg[[m[2]]] <- v else cur$v[[m[2]]] <- v
  }
  flush()
  cfg
}

# ---------------------------------------------------------------- endpoints
# A term "code" or "code:g1,g2" -> list(code, grades) with agvhd grades as
# numbers 1-4 and cgvhd grades upper-case.
parse_term <- function(s) {
  p <- strsplit(s, ":", fixed = TRUE)[[1]]
  code <- tolower(p[1])
  grades <- if (length(p) > 1) toupper(trimws(strsplit(p[2], ",", fixed = TRUE)[[1]])) else character(0)
  if (code == "agvhd" && length(grades)) grades <- as.character(agvhd_grade(grades))
  list(code = code, grades = grades)
}

endpoint_defs <- function(cfg) {
  lapply(cfg$endpoint, function(e) {
    list(name = e$name, km = e$estimator == "kaplan_meier",
         event = lapply(e$event, parse_term),
         competing = lapply(if (is.null(e$competing)) character(0) else e$competing, parse_term),
         same_day = if (is.null(e$same_day)) "event" else e$same_day,
         population = if (is.null(e$population)) "all" else e$population)
  })
}

# The declared endpoints' time and status columns for the cohort co
# (reference.R's derive_cohort: the same cohort, follow-up and cutoff rules).
declared_columns <- function(co, tx, ev, cutoff, defs) {
  ev$event <- tolower(ev$event)
  ev$date <- as.Date(ev$event_date)
  t0s <- as.Date(tx$transplant_date[match(co$transplant_id, tx$transplant_id)])
  for (d in defs) {
    tm <- st <- rep(NA_real_, nrow(co))
    for (k in seq_len(nrow(co))) {
      type <- co$transplant_type[k]
      if (d$population != "all" && type != d$population) next
      e <- ev[ev$transplant_id == co$transplant_id[k] & ev$date <= cutoff, ]
      day <- as.numeric(e$date - t0s[k])
      grade <- toupper(e$grade)
      ag <- rep(NA_real_, nrow(e))
      ag[e$event == "agvhd"] <- agvhd_grade(e$grade[e$event == "agvhd"])
      grade[e$event == "agvhd"] <- as.character(ag[e$event == "agvhd"])
      first <- function(terms) {
        v <- NA
        for (t in terms) {
          sel <- e$event == t$code
          if (length(t$grades)) sel <- sel & !is.na(grade) & grade %in% t$grades
          if (any(sel)) v <- min(c(v, day[sel]), na.rm = TRUE)
        }
        v
      }
      x <- first(d$event)
      fu <- co$followup_days[k]
      if (d$km) {
        r <- if (is.na(x)) c(fu, 0) else c(x, 1)
      } else {
        y <- first(d$competing)
        wins <- if (d$same_day == "event") !is.na(x) && (is.na(y) || x <= y) else !is.na(x) && (is.na(y) || x < y)
        r <- if (wins) c(x, 1) else if (!is.na(y)) c(y, 2) else c(fu, 0)
      }
      tm[k] <- r[1]
      st[k] <- r[2]
    }
    co[[paste0(d$name, "_time")]] <- tm
    co[[paste0(d$name, "_status")]] <- st
  }
  co
}

# ---------------------------------------------------------------- dimensions
band_labels <- function(edges) {
  int <- all(edges == round(edges))
  f <- function(x) format(x, scientific = FALSE, trim = TRUE)
  out <- paste0("<", f(edges[1]))
  if (length(edges) > 1) for (i in 2:length(edges))
    out <- c(out, if (int) paste0(f(edges[i - 1]), "-", f(edges[i] - 1)) else paste0(f(edges[i - 1]), "-<", f(edges[i])))
  c(out, paste0(f(edges[length(edges)]), "+"))
}

num_col <- function(d, col) {
  if (col == "transplant_year") return(as.numeric(format(as.Date(d$transplant_date), "%Y")))
  v <- d[[col]]
  ifelse(v == "", NA, suppressWarnings(as.numeric(v)))
}

dim_values <- function(d, dim, bands) {
  if (!is.null(bands[[dim]])) {
    b <- bands[[dim]]
    x <- num_col(d, b$from)
    lab <- band_labels(b$edges)
    g <- lab[findInterval(x, b$edges) + 1]
    g[is.na(x)] <- "MISSING"
    return(g)
  }
  if (dim == "transplant_year") return(as.character(num_col(d, dim)))
  v <- d[[dim]]
  if (dim != "center_id") v <- toupper(v)
  v[v == ""] <- "MISSING"
  if (dim == "donor_type") v[toupper(d$transplant_type) == "AUTO"] <- "NONE"
  v
}

passes <- function(d, where) {
  ok <- rep(TRUE, nrow(d))
  for (col in names(where)) {
    w <- where[[col]]
    if (is.character(w)) {
      v <- dim_values(d, col, list())
      ok <- ok & v %in% (if (col == "center_id") w else toupper(w))
    } else {
      x <- num_col(d, col)
      ok <- ok & !is.na(x) & x >= w[1] & x <= w[2]
    }
  }
  ok
}

# ---------------------------------------------------------------- analysis
run_analysis <- function(a, co, tx, km_names, pop, conf_type, out) {
  d0 <- merge(co, tx[, setdiff(names(tx), c("patient_id", "transplant_type", "donor_type", "indication"))],
              by = "transplant_id", sort = FALSE)
  d0$transplant_type <- co$transplant_type[match(d0$transplant_id, co$transplant_id)]
  d0 <- d0[passes(d0, if (is.null(a$where)) list() else a$where), ]
  by <- a$by
  bands <- if (is.null(a$bands)) list() else a$bands
  for (dim in by) d0[[paste0(".g.", dim)]] <- dim_values(d0, dim, bands)
  eps <- sort(if (is.null(a$endpoints)) names(pop) else a$endpoints, method = "radix")
  nd <- length(by)
  lm_rows <- list(); med_rows <- list(); test_rows <- list()
  for (ep in eps) {
    d <- d0[!is.na(d0[[paste0(ep, "_time")]]), ]
    if (nrow(d) == 0) next
    g <- as.data.frame(lapply(by, function(x) d[[paste0(".g.", x)]]), stringsAsFactors = FALSE)
    names(g) <- by
    for (mask in 0:(2^nd - 1)) {
      keep <- bitwAnd(mask, 2^(0:(nd - 1))) > 0
      if (pop[[ep]] != "all" && "transplant_type" %in% by && !keep[match("transplant_type", by)]) next
      key <- g
      key[, !keep] <- "*"
      combos <- unique(key)
      for (r in seq_len(nrow(combos))) {
        s <- unlist(combos[r, , drop = TRUE])
        sel <- rep(TRUE, nrow(d))
        for (j in seq_len(nd)) sel <- sel & key[[j]] == s[j]
        time <- d[[paste0(ep, "_time")]][sel]
        status <- d[[paste0(ep, "_status")]][sel]
        est <- if (ep %in% km_names) km_landmarks(time, status, conf_type) else ci_landmarks(time, status)
        row <- as.data.frame(as.list(setNames(s, by)), stringsAsFactors = FALSE, check.names = FALSE)
        lm_rows[[length(lm_rows) + 1]] <- cbind(data.frame(endpoint = ep), row,
          data.frame(day = LANDMARKS, n = length(time),
                     n_risk = vapply(LANDMARKS, function(t) sum(time >= t), 0),
                     n_events = vapply(LANDMARKS, function(t) sum(status == 1 & time <= t), 0),
                     estimate = est$est, std_err = est$se, lower = est$lo, upper = est$up))
        if (ep %in% km_names)
          med_rows[[length(med_rows) + 1]] <- cbind(data.frame(endpoint = ep), row,
            data.frame(n = length(time), median = est$median[1], lower = est$median[2], upper = est$median[3]))
      }
    }
    # Tests: each dimension within each combination of the others' groups.
    for (j in seq_len(nd)) {
      others <- setdiff(seq_len(nd), j)
      within_key <- if (nd == 1) rep("*", nrow(d)) else
        do.call(paste, c(lapply(others, function(o) paste0(by[o], "=", g[[o]])), sep = ";"))
      for (w in sort(unique(within_key), method = "radix")) {
        sel <- within_key == w
        grp <- g[[j]][sel]
        sizes <- table(grp)
        small <- sort(names(sizes)[sizes < MIN_GROUP], method = "radix")
        keep <- sel & !(g[[j]] %in% small)
        grp <- g[[j]][keep]
        time <- d[[paste0(ep, "_time")]][keep]
        status <- d[[paste0(ep, "_status")]][keep]
        if (length(unique(grp)) < 2 || !any(status == 1)) next
        if (ep %in% km_names) {
          sd <- survdiff(Surv(time, status == 1) ~ factor(grp), rho = 0)
          stat <- sd$chisq; df <- sum(sd$exp > 0) - 1; p <- sd$pvalue; method <- "logrank"
        } else {
          ci <- cuminc(time, status, group = grp, cencode = 0, rho = 0)
          t1 <- ci$Tests["1", ]
          stat <- t1[["stat"]]; df <- t1[["df"]]; p <- t1[["pv"]]; method <- "gray"
        }
        if (stat < 0) { stat <- NA; p <- NA }  # not computable (SPEC §3)
        test_rows[[length(test_rows) + 1]] <- data.frame(endpoint = ep, comparison = by[j], within = w,
          statistic = stat, df = df, p_value = p, method = method, excluded = paste(small, collapse = ";"))
      }
    }
  }
  lm <- do.call(rbind, lm_rows)
  ord <- function(x, extra) x[do.call(order, c(unname(as.list(x[, c("endpoint", by, extra)])), method = "radix")), ]
  lm <- ord(lm, "day")
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  write_table(lm, file.path(out, "landmarks.csv"), c("day", "n", "n_risk", "n_events", "estimate", "std_err", "lower", "upper"))
  if (length(med_rows)) {
    med <- ord(do.call(rbind, med_rows), character(0))
    write_table(med, file.path(out, "medians.csv"), c("n", "median", "lower", "upper"))
  } else {
    writeLines(paste(c("endpoint", by, "n", "median", "lower", "upper"), collapse = ","), file.path(out, "medians.csv"))
  }
  tests <- if (length(test_rows)) do.call(rbind, test_rows) else
    data.frame(endpoint = character(0), comparison = character(0), within = character(0), statistic = numeric(0),
               df = numeric(0), p_value = numeric(0), method = character(0), excluded = character(0))
  tests <- tests[order(tests$endpoint, tests$comparison, tests$within, method = "radix"), ]
  write_table(tests, file.path(out, "tests.csv"), c("statistic", "df", "p_value"))
  cat(sprintf("%s: %d landmark rows, %d tests\n", a$name, nrow(lm), nrow(tests)))
}

# The declared endpoints in the default analysis (SPEC §5: "estimated in the
# default analysis too"): the §3 strata of reference.R's strata_of, an
# ALLO-only (AUTO-only) endpoint in strata of that type only; written as
# want/default/{landmarks,medians}.csv with the declared endpoints' rows.
declared_default <- function(co, defs, conf_type, out) {
  lm_rows <- list(); med_rows <- list()
  for (d in defs[order(vapply(defs, function(x) x$name, ""), method = "radix")]) {
    ep <- d$name
    for (s in strata_of(co)) {
      if (d$population != "all" && s[1] != d$population) next
      x <- co[in_stratum(co, s) & !is.na(co[[paste0(ep, "_time")]]), ]
      if (nrow(x) == 0) next
      time <- x[[paste0(ep, "_time")]]
      status <- x[[paste0(ep, "_status")]]
      r <- if (d$km) km_landmarks(time, status, conf_type) else ci_landmarks(time, status)
      lm_rows[[length(lm_rows) + 1]] <- data.frame(endpoint = ep, transplant_type = s[1], donor_type = s[2],
        indication = s[3], day = LANDMARKS, n = nrow(x),
        n_risk = vapply(LANDMARKS, function(t) sum(time >= t), 0),
        n_events = vapply(LANDMARKS, function(t) sum(status == 1 & time <= t), 0),
        estimate = r$est, std_err = r$se, lower = r$lo, upper = r$up, stringsAsFactors = FALSE)
      if (d$km) med_rows[[length(med_rows) + 1]] <- data.frame(endpoint = ep, transplant_type = s[1],
        donor_type = s[2], indication = s[3], n = nrow(x), median = r$median[1], lower = r$median[2],
        upper = r$median[3], stringsAsFactors = FALSE)
    }
  }
  lm <- do.call(rbind, lm_rows)
  lm <- lm[order(lm$endpoint, lm$transplant_type, lm$donor_type, lm$indication, lm$day, method = "radix"), ]
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  write_table(lm, file.path(out, "landmarks.csv"), c("day", "n", "n_risk", "n_events", "estimate", "std_err", "lower", "upper"))
  if (length(med_rows)) {
    med <- do.call(rbind, med_rows)
    med <- med[order(med$endpoint, med$transplant_type, med$donor_type, med$indication, method = "radix"), ]
    write_table(med, file.path(out, "medians.csv"), c("n", "median", "lower", "upper"))
  }
  cat(sprintf("default (declared endpoints): %d landmark rows\n", nrow(lm)))
}

analyses_main <- function() {
  argv <- commandArgs(trailingOnly = TRUE)
  if (length(argv) != 1) die("usage: analyses.R CASE_DIR")
  case <- argv[1]
  cfg <- read_config(file.path(case, "config.toml"))
  tx <- read_extract_csv(file.path(case, "extract", "transplants.csv"))
  ev <- read_extract_csv(file.path(case, "extract", "events.csv"))
  cut_arg <- read_args_file(file.path(case, "args"))
  cutoff <- if (is.null(cut_arg)) max(as.Date(ev$event_date)) else as.Date(cut_arg)
  conf_type <- if (is.null(cfg$conf_type)) "log-log" else cfg$conf_type
  if (!is.null(cfg$min_group)) MIN_GROUP <<- cfg$min_group
  co <- derive_cohort(tx, ev, cutoff)
  # SPEC §3: a relapse and a death on the same day are a relapse, nrm's
  # competing event (nrm's same_day = "competing"), whatever rule this
  # version of reference.R's derive_cohort applies.
  same <- co$nrm_status == 1 & co$relapse_status == 1 & co$nrm_time == co$relapse_time
  co$nrm_status[same] <- 2
  defs <- endpoint_defs(cfg)
  co <- declared_columns(co, tx, ev, cutoff, defs)
  pop <- setNames(as.list(ifelse(ENDPOINTS %in% ALLO_ONLY, "ALLO", "all")), ENDPOINTS)
  km_names <- KM_ENDPOINTS
  for (d in defs) {
    pop[[d$name]] <- d$population
    if (d$km) km_names <- c(km_names, d$name)
  }
  default_landmarks <- if (is.null(cfg$landmarks)) LANDMARKS else sort(unique(cfg$landmarks))
  if (length(defs)) {
    LANDMARKS <<- default_landmarks
    declared_default(co, defs, conf_type, file.path(case, "want", "default"))
  }
  for (a in cfg$analysis) {
    LANDMARKS <<- if (is.null(a$landmarks)) default_landmarks else sort(unique(a$landmarks))
    run_analysis(a, co, tx, km_names, pop, conf_type, file.path(case, "want", "analyses", a$name))
  }
}

if (sys.nframe() == 0L) analyses_main()
