# mclust side of benchmarks/mclust-speed.mjs (run by it; see README.md, section mclust-speed).
#   Rscript mclust_speed.R DATA.csv LABELS.json K ITERS MODELS(comma) GMAX REPEATS
# Writes the hierarchical start (mclust's default: hc with the VVV criterion on the SVD-transformed
# data, cut at K) to LABELS.json for emlab to start from, then times on the same data:
#   - EM from that partition (me(), itmax = ITERS, tolerance never met) per covariance model;
#   - a full BIC selection, mclustBIC(data, G = 1:GMAX) over the 14 models (its own hc included).
# The last line of stdout is a JSON object of the timings.
suppressPackageStartupMessages({ library(mclust) })
args <- commandArgs(trailingOnly = TRUE)
x <- as.matrix(read.csv(args[1]))
labels_file <- args[2]
K <- as.integer(args[3]); iters <- as.integer(args[4])
models <- strsplit(args[5], ",")[[1]]; gmax <- as.integer(args[6]); repeats <- as.integer(args[7])

start <- hclass(hc(x, modelName = "VVV", use = "SVD"), K)[, 1]
writeLines(paste0("[", paste(start - 1L, collapse = ","), "]"), labels_file)
z0 <- unmap(start)

elapsed <- function(f) { t0 <- proc.time()[["elapsed"]]; r <- f(); list(s = proc.time()[["elapsed"]] - t0, r = r) }
per_iter <- list()
for (m in models) {
  best <- Inf; it <- NA; ll <- NA
  for (rep in seq_len(repeats)) {
    # tol = 0: never met before the log-likelihood stops changing exactly, so itmax iterations (inner M-step tolerance: mclust's default √ε)
    e <- elapsed(function() me(x, modelName = m, z = z0, control = emControl(tol = c(0, sqrt(.Machine$double.eps)), itmax = c(iters, .Machine$integer.max))))
    it <- attr(e$r$loglik, "info")
    if (is.null(it)) it <- attr(e$r, "info")[1]
    best <- min(best, e$s); ll <- e$r$loglik
  }
  per_iter[[m]] <- list(seconds = best, iterations = as.numeric(it[1]), loglik = ll)
}
sel <- elapsed(function() mclustBIC(x, G = 1:gmax))
b <- summary(sel$r, x)
cat(sprintf('{"mclust":"%s","R":"%s","perIteration":{%s},"selection":{"seconds":%.6f,"best":"%s,%d","bic":%.10g}}\n',
  as.character(packageVersion("mclust")), paste(R.version$major, R.version$minor, sep = "."),
  paste(sprintf('"%s":{"seconds":%.6f,"iterations":%s,"loglik":%.12g}', names(per_iter),
    sapply(per_iter, `[[`, "seconds"), sapply(per_iter, function(p) ifelse(is.na(p$iterations), "null", p$iterations)),
    sapply(per_iter, `[[`, "loglik")), collapse = ","),
  sel$s, b$modelName, b$G, b$bic))
