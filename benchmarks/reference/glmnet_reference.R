# Reference regularization paths from glmnet on one data set; called by glmnet_reference.py.
# usage: Rscript glmnet_reference.R IN.csv OUT.tsv ALPHA FAMILY [NLAMBDA [X_TRIPLETS.csv NCOL]]
# IN.csv: the predictors (columns in order), a column "y" (0/1, or 0..K-1 for FAMILY multinomial) and
# optionally a column "w" (observation weights). With X_TRIPLETS.csv (columns i, j, x, 1-based) and NCOL
# the predictors are instead that sparse matrix (Matrix's dgCMatrix, glmnet's sparse code) and IN.csv
# holds only y (and w).
# Fits glmnet(x, y, family = FAMILY, alpha = ALPHA, weights = w, standardize = FALSE, intercept = TRUE,
# thresh = 1e-14, maxit = 1e7, nlambda = NLAMBDA (default 30), type.multinomial = "ungrouped"), the default
# lambda.min.ratio and glmnet.control, and writes, as %.17g TSV lines: the lambdas, dev.ratio, npasses, and
# per lambda the intercept(s) ("a0", one line per lambda) and the dense coefficients ("beta", one line per
# lambda and class, lambda-major), and the penalized objective at glmnet's solution computed here,
#   J = sum_i w_i loss_i / sum_i w_i + lambda (ALPHA ||B||_1 + (1 - ALPHA) / 2 ||B||_F^2)
# (loss the binary or softmax cross-entropy in stable forms; intercepts not penalized), plus
# min_i min(p_i, 1 - p_i) of the fitted probabilities (glmnet clamps them at glmnet.control()$pmin) and the
# warnings glmnet raised (convergence failures) as "warning" lines.
suppressPackageStartupMessages(library(glmnet))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
alpha <- as.numeric(args[3])
family <- args[4]
nlambda <- if (length(args) >= 5) as.integer(args[5]) else 30L
if (length(args) >= 7) {
  tr <- read.csv(args[6])
  x <- sparseMatrix(i = tr$i, j = tr$j, x = tr$x, dims = c(nrow(d), as.integer(args[7])))
} else {
  x <- as.matrix(d[, setdiff(names(d), c("y", "w")), drop = FALSE])
}
y <- d$y
w <- if ("w" %in% names(d)) d$w else rep(1, nrow(d))
warns <- character(0)
fit <- withCallingHandlers(
  glmnet(x, y, family = family, alpha = alpha, weights = w, standardize = FALSE, intercept = TRUE,
         thresh = 1e-14, maxit = 1e7, nlambda = nlambda, type.multinomial = "ungrouped"),
  warning = function(cond) {
    warns <<- c(warns, conditionMessage(cond))
    invokeRestart("muffleWarning")
  })
sw <- w / sum(w)
nl <- length(fit$lambda)
if (family == "multinomial") {
  K <- length(fit$beta)
  A0 <- matrix(fit$a0, nrow = K)                                  # K x nl
  B <- lapply(seq_len(nl), function(l) t(sapply(fit$beta, function(b) as.numeric(b[, l]))))  # K x p each
} else {
  K <- 1
  A0 <- matrix(as.numeric(fit$a0), nrow = 1)
  B <- lapply(seq_len(nl), function(l) matrix(as.numeric(fit$beta[, l]), nrow = 1))
}
J <- pmin <- numeric(nl)
for (l in seq_len(nl)) {
  Z <- as.matrix(x %*% t(B[[l]])) + matrix(A0[, l], nrow(x), K, byrow = TRUE)
  if (family == "multinomial") {
    m <- apply(Z, 1, max)
    lse <- m + log(rowSums(exp(Z - m)))
    loss <- lse - Z[cbind(seq_len(nrow(Z)), y + 1)]
    P <- exp(Z - lse)
  } else {
    z <- Z[, 1]
    loss <- log1p(exp(-abs(z))) + pmax(z, 0) - y * z
    P <- plogis(z)
  }
  J[l] <- sum(sw * loss) + fit$lambda[l] * (alpha * sum(abs(B[[l]])) + (1 - alpha) / 2 * sum(B[[l]]^2))
  pmin[l] <- min(pmin(P, 1 - P))
}
num <- function(x) paste(sprintf("%.17g", as.numeric(x)), collapse = "\t")
lines <- c(paste("r_version", R.version.string, sep = "\t"),
           paste("glmnet_version", as.character(packageVersion("glmnet")), sep = "\t"),
           paste("lambda", num(fit$lambda), sep = "\t"), paste("dev_ratio", num(fit$dev.ratio), sep = "\t"),
           paste("J", num(J), sep = "\t"), paste("min_p", num(pmin), sep = "\t"),
           paste("npasses", num(fit$npasses), sep = "\t"), paste("jerr", num(fit$jerr), sep = "\t"))
for (l in seq_len(nl)) {
  lines <- c(lines, paste("a0", num(A0[, l]), sep = "\t"))
  for (k in seq_len(K)) lines <- c(lines, paste("beta", num(B[[l]][k, ]), sep = "\t"))
}
for (msg in warns) lines <- c(lines, paste("warning", gsub("[\t\n]", " ", msg), sep = "\t"))
writeLines(lines, args[2])
