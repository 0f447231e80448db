# Reference numbers from R's glm(family = binomial) for one data set; called by glm_reference.py.
# usage: Rscript glm_reference.R IN.csv OUT.tsv [LEVEL ...]
# IN.csv has the predictors (no intercept) and a last column "y"; every LEVEL (besides 0.95,
# always done) adds the Wald and profile intervals at that level. OUT.tsv has one line per
# quantity: its key, then its values, tab separated, as %.17g; "vcov" takes one line per row.
suppressPackageStartupMessages(library(MASS))
suppressPackageStartupMessages(library(sandwich))  # Debian: r-cran-sandwich
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
out_path <- args[2]
levels <- unique(c(0.95, as.numeric(args[-(1:2)])))

ctl <- glm.control(epsilon = 1e-14, maxit = 100)
warnings_seen <- character(0)
collect <- function(expr) withCallingHandlers(expr, warning = function(w) {
  warnings_seen <<- c(warnings_seen, conditionMessage(w))
  invokeRestart("muffleWarning")
})

fit <- collect(glm(y ~ ., family = binomial, data = d, control = ctl))
if (!fit$converged) stop("glm did not converge")
if (length(warnings_seen)) stop("glm warned: ", paste(warnings_seen, collapse = "; "))
Xm <- model.matrix(fit)
yv <- d$y
names_r <- gsub("`", "", colnames(Xm))
dev0 <- deviance(fit)
b <- coef(fit)
se <- sqrt(diag(vcov(fit)))

# Deviance with coefficient j held at the value cj: the same model as glm(y ~ . - x_j,
# offset = cj * x_j) (for the intercept, y ~ 0 + . with offset = cj), fitted on its design matrix.
constrained_dev <- function(j, cj) {
  f <- glm.fit(Xm[, -j, drop = FALSE], yv, offset = cj * Xm[, j], family = binomial(),
               control = ctl)
  if (!f$converged) stop("constrained fit did not converge")
  f$deviance
}
exact_profile <- function(level) {
  q <- qchisq(level, 1)
  lo <- hi <- numeric(length(b))
  for (j in seq_along(b)) {
    g <- function(cj) constrained_dev(j, cj) - dev0 - q
    hi[j] <- uniroot(g, c(b[j], b[j] + 3 * se[j]), extendInt = "upX", tol = 1e-12, maxiter = 1000)$root
    lo[j] <- uniroot(g, c(b[j] - 3 * se[j], b[j]), extendInt = "downX", tol = 1e-12, maxiter = 1000)$root
  }
  list(lo = lo, hi = hi)
}

lines <- character(0)
num <- function(x) paste(sprintf("%.17g", as.numeric(x)), collapse = "\t")
put <- function(key, x) lines <<- c(lines, paste(key, num(x), sep = "\t"))

lines <- c(lines, paste("r_version", R.version.string, sep = "\t"))
lines <- c(lines, paste(c("coef_names", names_r), collapse = "\t"))
cf <- summary(fit)$coefficients
put("coef", cf[, 1]); put("se", cf[, 2]); put("z", cf[, 3]); put("p", cf[, 4])
for (level in levels) {
  sfx <- if (level == 0.95) "" else sprintf("_%d", round(100 * level))
  w <- confint.default(fit, level = level)
  put(paste0("wald_lower", sfx), w[, 1]); put(paste0("wald_upper", sfx), w[, 2])
  m <- collect(suppressMessages(MASS:::confint.glm(fit, level = level)))
  put(paste0("profile_mass_lower", sfx), m[, 1]); put(paste0("profile_mass_upper", sfx), m[, 2])
  e <- collect(exact_profile(level))
  put(paste0("profile_exact_lower", sfx), e$lo); put(paste0("profile_exact_upper", sfx), e$hi)
}
V <- vcov(fit)
for (i in seq_len(nrow(V))) put("vcov", V[i, ])
# sandwich SEs: HC0, HC1 (x n / (n - k)) and clustered on groups (row number - 1) mod 7 (vcovCL's HC1:
# x G / (G - 1) (n - 1) / (n - k))
put("se_hc0", sqrt(diag(vcovHC(fit, type = "HC0")))); put("se_hc1", sqrt(diag(vcovHC(fit, type = "HC1"))))
put("se_cluster7", sqrt(diag(vcovCL(fit, cluster = (seq_len(nrow(d)) - 1) %% 7, type = "HC1"))))
put("deviance", dev0); put("null_deviance", fit$null.deviance)
put("df_residual", fit$df.residual); put("df_null", fit$df.null)
put("aic", AIC(fit)); put("bic", BIC(fit)); put("loglik", as.numeric(logLik(fit)))
put("nobs", nobs(fit)); put("iter", fit$iter)
for (msg in unique(warnings_seen)) lines <- c(lines, paste("warning", gsub("[\t\n]", " ", msg), sep = "\t"))
writeLines(lines, out_path)
