# centres.R: R's answers for the centre benchmark of SPEC §6, computed
# independently of marrow from one row per cohort transplant.
#
#   Rscript centres.R COHORT.csv CUTOFF OUTDIR [MIN_CENTRE]
#
# COHORT.csv: transplant_id, transplant_type, center_id, transplant_date,
# os_time, os_status, nrm_time, nrm_status and the raw covariates of
# transplants.csv (age_years, indication, disease_status, donor_type,
# graft_source, conditioning, karnofsky, hct_ci, sex); empty = missing.
# (testdata/r/regenerate_centres.sh dumps it from a marrow warehouse: the
# cohort table is itself checked against R in testdata/refdata.)
#
# Writes OUTDIR/centres.csv and OUTDIR/centre_model.csv in the layout of
# marrow's results/, and OUTDIR/design.csv (per benchmark transplant: the
# banded covariates and survival::pseudo's pseudo-values), numbers as %.17g.
#
# Method (the rules of marrow/centre/doc.go, written again here):
#   benchmark cohort = transplant_date <= cutoff - 365, per transplant type;
#   pseudo-values at day 365: survival::pseudo(survfit(Surv(os_time,
#     os_status == 1) ~ 1)) for os, the state "1" column of
#     survival::pseudo(survfit(Surv(nrm_time, factor(nrm_status)) ~ 1)) for nrm;
#   covariates banded; a level with < 20 transplants or < 10 1-year events is
#     merged into POOLED (into the reference if POOLED is itself sparse);
#     reference = the largest level; one-level covariates dropped; a column
#     whose residual sum of squares on the earlier kept columns is < 20
#     dropped as aliased;
#   geepack::geese(pseudo ~ 0 + X, id = id, family = gaussian,
#     mean.link = "logit", corstr = "independence", scale.fix = TRUE),
#     started from the intercept-only fit (qlogis of the mean pseudo-value,
#     other coefficients 0, as marrow starts), with a tight tolerance so the
#     root is found to more digits than the default epsilon = 1e-4 gives
#     (the default stops up to ~1e-5 away from the root);
#   expected = mean plogis(X beta) over the centre; observed = survfit KM
#     (os) or cmprsk::cuminc + timepoints (nrm) at 365; limits
#     plogis(qlogis(E) +- z / sqrt(neff E (1 - E))), neff = min(n, O(1-O)/se^2)
#     (n where that is undefined), a lower (upper) limit 0 (1) where
#     (1-E)^neff (E^neff) is at least the tail, 0.025 or 0.001; Clark's
#     completeness over [0, 365].
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(geepack)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: centres.R COHORT.csv CUTOFF OUTDIR [MIN_CENTRE]")
cohort <- read.csv(args[1], colClasses = "character", na.strings = "")
cutoff <- as.Date(args[2])
outdir <- args[3]
min_centre <- if (length(args) >= 4) as.integer(args[4]) else 20L
day <- 365
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

num <- function(x) as.numeric(x)
for (v in c("os_time", "os_status", "nrm_time", "nrm_status", "age_years", "karnofsky", "hct_ci"))
  cohort[[v]] <- num(cohort[[v]])
cohort$transplant_date <- as.Date(cohort$transplant_date)
bench <- cohort[cohort$transplant_date <= cutoff - day, ]
bench <- bench[order(bench$transplant_type, bench$transplant_id), ]
bench$center_id[is.na(bench$center_id)] <- ""

band <- function(x, edges, labels) {
  out <- rep("MISSING", length(x))
  ok <- !is.na(x)
  out[ok] <- labels[findInterval(x[ok], edges) + 1]
  out
}
code <- function(x) ifelse(is.na(x), "MISSING", x)
year <- as.integer(format(bench$transplant_date, "%Y"))
y5 <- year %/% 5 * 5
covs <- data.frame(
  age = band(bench$age_years, c(18, 40, 60, 70), c("<18", "18-39", "40-59", "60-69", "70+")),
  indication = code(bench$indication),
  disease_status = code(bench$disease_status),
  donor_type = ifelse(bench$transplant_type == "AUTO", "NONE", code(bench$donor_type)),
  graft_source = code(bench$graft_source),
  conditioning = code(bench$conditioning),
  karnofsky = band(bench$karnofsky, c(80, 90), c("<80", "80-89", "90+")),
  hct_ci = band(bench$hct_ci, c(1, 3), c("0", "1-2", "3+")),
  sex = code(bench$sex),
  transplant_year = paste0(y5, "-", y5 + 4),
  stringsAsFactors = FALSE)

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
z95 <- qnorm(0.975)
z998 <- qnorm(0.999)

# Byte-order sort, as Go's sort.Strings.
bsort <- function(x) if (length(x) == 0) character(0) else x[order(x, method = "radix")]

code_factor <- function(x, event) {
  n <- table(x)
  ev <- tapply(event, x, sum)
  lv <- names(n)
  sparse <- lv[n[lv] < 20 | ev[lv] < 10]
  kept <- bsort(setdiff(lv, sparse))
  merged <- list()
  if (length(kept) == 0) return(NULL)
  cnt <- as.numeric(n[kept])
  ref <- kept[order(-cnt, seq_along(kept))[1]]
  if (length(sparse) > 0) {
    pn <- sum(n[sparse]); pe <- sum(ev[sparse])
    to <- if (pn < 20 || pe < 10) ref else "POOLED"
    for (l in sparse) merged[[l]] <- to
    if (to == "POOLED") kept <- bsort(unique(c(kept, "POOLED")))
  }
  levels <- c(ref, setdiff(kept, ref))
  if (length(levels) < 2) return(NULL)
  y <- x
  for (l in names(merged)) y[x == l] <- merged[[l]]
  list(levels = levels, merged = merged, value = factor(y, levels = levels))
}

centre_est <- function(time, status, incidence) {
  if (max(time) < day) return(c(NA, NA))
  if (incidence) {
    if (!any(status == 1)) return(c(0, 0))  # no event of interest: estimate 0
    ci <- cuminc(time, status, cencode = 0)
    nm <- grep(" 1$", names(ci), value = TRUE)
    if (length(nm) == 0) return(c(0, 0))  # no event of interest: estimate 0
    tp <- timepoints(ci, day)
    est <- tp$est[nm, 1]; v <- tp$var[nm, 1]
    return(c(est, if (est == 0) 0 else sqrt(v)))
  }
  fit <- survfit(Surv(time, status == 1) ~ 1)
  s <- summary(fit, times = day, extend = FALSE)
  if (length(s$surv) == 0) return(c(NA, NA))
  se <- s$std.err
  if (s$surv == 0) se <- NA
  c(s$surv, se)
}

centres_out <- list()
model_out <- list()
design_out <- list()
for (type in sort(unique(bench$transplant_type))) {
  rows <- which(bench$transplant_type == type)
  d <- bench[rows, ]
  cv <- covs[rows, ]
  des <- data.frame(transplant_id = d$transplant_id, transplant_type = type, center_id = d$center_id,
                    os_time = d$os_time, os_status = d$os_status, nrm_time = d$nrm_time,
                    nrm_status = d$nrm_status, cv, stringsAsFactors = FALSE)
  for (ep in c("nrm", "os")) {
    time <- d[[paste0(ep, "_time")]]
    status <- d[[paste0(ep, "_status")]]
    incidence <- ep == "nrm"
    event <- status == 1 & time <= day
    n <- length(time)
    unmodelled <- "no 1-year events in the registry"
    mu <- rep(NA_real_, n)
    ps <- rep(NA_real_, n)
    if (any(event)) {
      if (incidence) {
        fit <- survfit(Surv(time, factor(status)) ~ 1)
        ps <- pseudo(fit, times = day)[, "1"]
      } else {
        fit <- survfit(Surv(time, status == 1) ~ 1)
        ps <- as.vector(pseudo(fit, times = day))
      }
      unmodelled <- if (mean(ps) > 1e-12 && mean(ps) < 1 - 1e-12) "" else "registry 1-year estimate is 0 or 1"
    }
    if (unmodelled == "") {
      X <- matrix(1, n, 1); colnames(X) <- "(intercept)"
      cols <- data.frame(covariate = "(intercept)", level = "", stringsAsFactors = FALSE)
      notes <- list()
      for (v in names(cv)) {
        f <- code_factor(cv[[v]], event)
        if (is.null(f)) {
          notes[[length(notes) + 1]] <- c(v, "", "dropped: one level after pooling")
          next
        }
        for (l in f$levels[-1]) {
          X <- cbind(X, as.numeric(f$value == l))
          cols <- rbind(cols, data.frame(covariate = v, level = l))
        }
        notes[[length(notes) + 1]] <- c(v, f$levels[1], "reference")
        for (l in bsort(names(f$merged))) notes[[length(notes) + 1]] <- c(v, l, paste("merged into", f$merged[[l]]))
      }
      # Aliased columns: in order, a column whose residual sum of squares
      # after regressing it on the kept earlier columns is under 20
      # (0 when exactly aliased, where lm() gives NA) is dropped.
      al <- rep(FALSE, ncol(X))
      for (j in seq_len(ncol(X))[-1]) {
        r <- lm.fit(X[, which(!al[seq_len(j - 1)]), drop = FALSE], X[, j])$residuals
        if (sum(r^2) < 20) al[j] <- TRUE
      }
      for (j in which(al)) notes[[length(notes) + 1]] <- c(cols$covariate[j], cols$level[j], "aliased with earlier terms")
      X <- X[, !al, drop = FALSE]; cols <- cols[!al, ]
      gd <- data.frame(y = ps, id = seq_len(n))
      g <- geese(y ~ 0 + X, id = id, data = gd, family = gaussian, mean.link = "logit",
                 corstr = "independence", scale.fix = TRUE,
                 b = c(qlogis(mean(ps)), rep(0, ncol(X) - 1)),
                 control = geese.control(epsilon = 1e-12, maxit = 200))
      beta <- g$beta
      se <- sqrt(diag(g$vbeta))
      mu <- as.vector(plogis(X %*% beta))
      # Notes: reference and merged levels come per factor in input order,
      # then aliased columns, then dropped covariates (marrow's order).
      note_df <- do.call(rbind, lapply(notes, function(x) data.frame(covariate = x[1], level = x[2], note = x[3])))
      ord <- c(which(note_df$note == "reference" | startsWith(note_df$note, "merged")),
               which(note_df$note == "aliased with earlier terms"),
               which(startsWith(note_df$note, "dropped")))
      note_df <- note_df[ord, ]
      mod <- rbind(
        data.frame(transplant_type = type, endpoint = ep, covariate = cols$covariate, level = cols$level,
                   n = as.integer(round(colSums(X))), estimate = fmt(beta), robust_se = fmt(se), note = ""),
        data.frame(transplant_type = type, endpoint = ep, covariate = note_df$covariate, level = note_df$level,
                   n = "", estimate = "", robust_se = "", note = note_df$note))
      mod$term <- seq_len(nrow(mod))
      model_out[[length(model_out) + 1]] <- mod[, c("transplant_type", "endpoint", "term", "covariate", "level",
                                                    "n", "estimate", "robust_se", "note")]
    }
    des[[paste0("pseudo_", ep)]] <- fmt(ps)
    ids <- bsort(unique(d$center_id[d$center_id != ""]))
    for (id in ids) {
      k <- which(d$center_id == id)
      nk <- length(k)
      ne <- sum(event[k])
      o <- centre_est(time[k], status[k], incidence)
      obs <- o[1]; se <- o[2]
      E <- mean(mu[k])
      ot <- d$os_time[k]; os <- d$os_status[k]
      pot <- sum(ifelse(os == 1 & ot <= day, ot, day))
      comp <- if (pot > 0) sum(pmin(ot, day)) / pot else 1
      lim <- rep(NA_real_, 4)
      if (!is.na(E) && E > 0 && E < 1) {
        neff <- nk
        if (!is.na(obs) && !is.na(se) && obs > 0 && obs < 1 && se > 0) neff <- min(neff, obs * (1 - obs) / se^2)
        s <- 1 / sqrt(neff * E * (1 - E))
        lim <- plogis(qlogis(E) + c(-z95, z95, -z998, z998) * s)
        # Boundary: a limit is 0 (1) where no event (every transplant with
        # the event) has at least the tail probability at E.
        p0 <- (1 - E)^neff; p1 <- E^neff
        if (p0 >= 0.025) lim[1] <- 0
        if (p0 >= 0.001) lim[3] <- 0
        if (p1 >= 0.025) lim[2] <- 1
        if (p1 >= 0.001) lim[4] <- 1
      }
      reason <- ""
      if (unmodelled != "") reason <- unmodelled
      else if (nk < min_centre) reason <- sprintf("fewer than %d transplants", min_centre)
      else if (comp < 0.9) reason <- "follow-up completeness under 0.9"
      else if (is.na(obs)) reason <- sprintf("no estimate at day %d", day)
      if (reason != "") flag <- "not_assessed"
      else {
        hi <- if (incidence) "worse" else "better"
        lo <- if (incidence) "better" else "worse"
        flag <- if (obs > lim[4]) hi else if (obs < lim[3]) lo else if (obs > lim[2]) paste0(hi, "95")
                else if (obs < lim[1]) paste0(lo, "95") else "as_expected"
      }
      centres_out[[length(centres_out) + 1]] <- data.frame(
        center_id = id, transplant_type = type, endpoint = ep, n = nk, n_events = ne,
        observed = fmt(obs), std_err = fmt(se), expected = fmt(E),
        lower95 = fmt(lim[1]), upper95 = fmt(lim[2]), lower998 = fmt(lim[3]), upper998 = fmt(lim[4]),
        completeness = fmt(comp), flag = flag, reason = reason)
    }
  }
  design_out[[length(design_out) + 1]] <- des
}
centres <- do.call(rbind, centres_out)
centres <- centres[order(centres$center_id, centres$transplant_type, centres$endpoint, method = "radix"), ]
write.csv(centres, file.path(outdir, "centres.csv"), row.names = FALSE, quote = FALSE)
model <- do.call(rbind, model_out)
write.csv(model, file.path(outdir, "centre_model.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, design_out), file.path(outdir, "design.csv"), row.names = FALSE, quote = FALSE)
