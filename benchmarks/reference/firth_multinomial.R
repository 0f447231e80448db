# Multinomial Firth (brglm2::brmultinom, type = "AS_mean") on one data set; called by firth_reference.py.
# usage: Rscript firth_multinomial.R IN.csv OUT.tsv   (IN.csv: predictors and a last column "y", the class)
suppressPackageStartupMessages(library(brglm2))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
d$y <- factor(d$y)
f <- brmultinom(y ~ ., data = d, type = "AS_mean", epsilon = 1e-12, maxit = 500)
B <- coef(f)  # (K - 1) x (d + 1), class by class
V <- vcov(f)
num <- function(x) paste(sprintf("%.17g", as.numeric(x)), collapse = "\t")
lines <- c(paste(c("coef_names", colnames(B)), collapse = "\t"), paste(c("vcov_names", rownames(V)), collapse = "\t"))
for (k in seq_len(nrow(B))) lines <- c(lines, paste("coef", num(B[k, ]), sep = "\t"))
lines <- c(lines, paste("se", num(sqrt(diag(V))), sep = "\t"))
writeLines(lines, args[2])
