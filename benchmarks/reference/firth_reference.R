# Reference numbers for Firth's logistic regression on one data set; called by firth_reference.py.
# usage: Rscript firth_reference.R IN.csv OUT.tsv
# IN.csv: the predictors (no intercept) and a last column "y". Coefficients and standard errors from
# brglm2 (brglmFit, type = "AS_mean": Firth's bias reduction); profile penalized-likelihood intervals
# (logistf's kind) by our own reference: the penalized log-likelihood l(b) + log det I(b) / 2 maximized
# with b_j held by optim's BFGS on its analytic modified score, and uniroot on
# 2 (l*max - l*_j(c)) - qchisq(0.95, 1) (tol 1e-10).
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
prof <- function(j, cj, start) {
  full <- function(r) { v <- b; v[-j] <- r; v[j] <- cj; v }
  o <- optim(start, function(r) -lstar(full(r)), function(r) -score(full(r))[-j], method = "BFGS",
             control = list(reltol = 1e-15, maxit = 10000))
  list(l = -o$value, r = o$par)
}
q <- qchisq(0.95, 1)
lo <- hi <- numeric(length(b))
for (j in seq_along(b)) {
  g <- function(cj) 2 * (lmax - prof(j, cj, b[-j])$l) - q
  hi[j] <- uniroot(g, c(b[j], b[j] + 4 * se[j]), extendInt = "upX", tol = 1e-10)$root
  lo[j] <- uniroot(g, c(b[j] - 4 * se[j], b[j]), extendInt = "downX", tol = 1e-10)$root
}
num <- function(x) paste(sprintf("%.17g", as.numeric(x)), collapse = "\t")
lines <- c(paste(c("coef_names", gsub("`", "", colnames(X))), collapse = "\t"),
           paste("coef", num(b), sep = "\t"), paste("se", num(se), sep = "\t"),
           paste("profile_lower", num(lo), sep = "\t"), paste("profile_upper", num(hi), sep = "\t"),
           paste("penalized_loglik", num(lmax), sep = "\t"), paste("iter", num(fit$iter), sep = "\t"))
writeLines(lines, args[2])
