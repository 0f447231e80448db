# Firth's logistic regression by brglm2 (type = "AS_mean"), for benchmarks/bench_firth.py.
# Usage: Rscript benchmarks/firth_brglm2.R DIR N D EPSILON MAXIT
# Reads DIR/X.bin (N*D float64, column-major) and DIR/y.bin (N float64) with readBin; untimed: reading and the
# data.frame. Timed (system.time): the glm(..., method = "brglmFit") call alone. Writes DIR/r_coef.bin
# (intercept first, then the D coefficients) and DIR/r_out.txt (key value lines).
suppressPackageStartupMessages(library(brglm2))
a <- commandArgs(trailingOnly = TRUE)
dir <- a[1]; n <- as.integer(a[2]); d <- as.integer(a[3]); eps <- as.numeric(a[4]); maxit <- as.integer(a[5])
hwm <- function() {
  s <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", s)) / 2^20  # GiB
}
con <- file(file.path(dir, "X.bin"), "rb"); X <- matrix(readBin(con, "double", n * d), nrow = n); close(con)
con <- file(file.path(dir, "y.bin"), "rb"); y <- readBin(con, "double", n); close(con)
df <- data.frame(X, y = y)
rm(X); invisible(gc())
hwm_before <- hwm()
tm <- system.time(fit <- glm(y ~ ., family = binomial, data = df, method = "brglmFit", type = "AS_mean",
                             epsilon = eps, maxit = maxit))
con <- file(file.path(dir, "r_coef.bin"), "wb"); writeBin(as.numeric(coef(fit)), con); close(con)
out <- c(sprintf("elapsed %.6f", tm[["elapsed"]]), sprintf("user %.6f", tm[["user.self"]]),
         sprintf("iter %d", fit$iter), sprintf("converged %s", fit$converged),
         sprintf("hwm_before_gib %.4f", hwm_before), sprintf("hwm_gib %.4f", hwm()),
         sprintf("brglm2 %s", as.character(packageVersion("brglm2"))),
         sprintf("R %s", paste(R.version$major, R.version$minor, sep = ".")),
         sprintf("blas %s", basename(extSoftVersion()[["BLAS"]])))
writeLines(out, file.path(dir, "r_out.txt"))
