# Reference numbers for Firth's logistic regression on one data set; called by firth_reference.py.
# usage: Rscript firth_reference.R IN.csv OUT.tsv
# IN.csv: the predictors (no intercept) and a last column "y". Coefficients and standard errors from
# brglm2 (brglmFit, type = "AS_mean": Firth's bias reduction); profile penalized-likelihood intervals
# (logistf's kind) by our own reference: the penalized log-likelihood l(b) + log det I(b) / 2 maximized
# with b_j held by optim's BFGS on its analytic modified score (the best of two starts: the estimate and
# the neighbouring held value's maximum), marched out from the estimate on a grid of se / 4 to the first
# point where 2 (l*max - l*_j(c)) passes qchisq(0.95, 1), and uniroot there (tol 1e-10); and the
# penalized likelihood-ratio statistics 2 (l*max - l*_j(0)).
suppressPackageStartupMessages(library(brglm2))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
fit <- glm(y ~ ., family = binomial, data = d, method = "brglmFit", type = "AS_mean", epsilon = 1e-14,
           maxit = 500)
X <- model.matrix(fit)
y <- d$y
lstar <- function(b) {
  eta <- drop(X %*% b); p <- plogis(eta)
  sum(y * eta - log1p(exp(-abs(eta))) - pmax(eta, 0)) +
    0.5 * as.numeric(determinant(crossprod(X, X * (p * (1 - p))), logarithm = TRUE)$modulus)
}
score <- function(b) {
  eta <- drop(X %*% b); p <- plogis(eta); w <- p * (1 - p)
  I <- crossprod(X, X * w)
  h <- w * rowSums((X %*% solve(I)) * X)
  drop(crossprod(X, y - p + h * (0.5 - p)))
}
b <- coef(fit)
lmax <- lstar(b)
se <- sqrt(diag(vcov(fit)))
prof <- function(j, cj, starts) {
  # the best of BFGS runs from each start: the penalized likelihood need not be concave, and on separated
  # data its constrained maxima form several branches
  full <- function(r) { v <- b; v[-j] <- r; v[j] <- cj; v }
  best <- NULL
  for (start in starts) {
    if (!is.finite(lstar(full(start)))) next  # w underflows to 0 at this start
    o <- optim(start, function(r) -lstar(full(r)), function(r) -score(full(r))[-j], method = "BFGS",
               control = list(reltol = 1e-15, maxit = 10000))
    if (is.null(best) || -o$value > best$l) best <- list(l = -o$value, r = o$par)
  }
  best
}
q <- qchisq(0.95, 1)
bound <- function(j, side) {
  # march out from the estimate in steps of se / 4, each refit started from the estimate and from the
  # previous point's maximum; then uniroot between the last point short of the target and the first past it
  g <- function(p) 2 * (lmax - p$l) - q
  step <- side * se[j] / 4
  c_in <- b[j]; p_in <- list(l = lmax, r = b[-j])
  for (k in 1:400) {
    cj <- c_in + step
    p <- prof(j, cj, list(b[-j], p_in$r))
    if (g(p) > 0) break
    c_in <- cj; p_in <- p
  }
  uniroot(function(x) g(prof(j, x, list(b[-j], p_in$r))), sort(c(c_in, cj)), tol = 1e-10)$root
}
lo <- hi <- numeric(length(b))
for (j in seq_along(b)) {
  hi[j] <- bound(j, 1)
  lo[j] <- bound(j, -1)
}
# penalized likelihood-ratio tests of b_j = 0 (logistf's), the refit started from the estimate and from 0
lr <- sapply(seq_along(b), function(j) 2 * (lmax - prof(j, 0, list(b[-j], rep(0, length(b) - 1)))$l))
num <- function(x) paste(sprintf("%.17g", as.numeric(x)), collapse = "\t")
lines <- c(paste(c("coef_names", gsub("`", "", colnames(X))), collapse = "\t"),
           paste("coef", num(b), sep = "\t"), paste("se", num(se), sep = "\t"),
           paste("profile_lower", num(lo), sep = "\t"), paste("profile_upper", num(hi), sep = "\t"),
           paste("lr_chisq", num(lr), sep = "\t"), paste("penalized_loglik", num(lmax), sep = "\t"), paste("iter", num(fit$iter), sep = "\t"))
writeLines(lines, args[2])
