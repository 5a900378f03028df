# mclust side of benchmarks/mclust-speed.mjs (run by it; see README.md, section mclust-speed).
#   Rscript mclust_speed.R DATA.csv LABELS.json K ITERS MODELS(comma) GMAX REPEATS
# Writes the hierarchical start (mclust's default: hc with the VVV criterion on the SVD-transformed
# data, cut at K) to LABELS.json for emlab to start from, then times on the same data:
#   - EM from that partition (me(), tolerance never met) per covariance model: (time of 2·ITERS
#     iterations − time of ITERS iterations), best of REPEATS;
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
# tol = 0: never met before the log-likelihood stops changing exactly, so itmax iterations (inner
# M-step tolerance: mclust's default √ε). Per iteration: (best time of 2·iters − best time of iters)
# / the difference of the iterations run (bests of `repeats`), so fixed costs cancel (as on
# emlab's side).
# "seconds" is per iteration.
run_me <- function(m, n) me(x, modelName = m, z = z0, control = emControl(tol = c(0, sqrt(.Machine$double.eps)), itmax = c(n, .Machine$integer.max)))
per_iter <- list()
for (m in models) {
  b1 <- Inf; b2 <- Inf; it1 <- NA; it2 <- NA; ll <- NA
  invisible(run_me(m, iters))
  for (rep in seq_len(repeats)) {
    one <- elapsed(function() run_me(m, iters))
    two <- elapsed(function() run_me(m, 2L * iters))
    b1 <- min(b1, one$s); b2 <- min(b2, two$s)
    # iterations actually run (mclust stops early if the log-likelihood stops changing exactly)
    it1 <- abs(attr(one$r, "info")[1]); it2 <- abs(attr(two$r, "info")[1]); ll <- two$r$loglik
  }
  per <- if (it2 > it1) max(0, b2 - b1) / (it2 - it1) else b2 / it2
  per_iter[[m]] <- list(seconds = per, iterations = as.numeric(it2), loglik = ll)
}
sel <- elapsed(function() mclustBIC(x, G = 1:gmax))
b <- summary(sel$r, x)
cat(sprintf('{"mclust":"%s","R":"%s","perIteration":{%s},"selection":{"seconds":%.6f,"best":"%s,%d","bic":%.10g}}\n',
  as.character(packageVersion("mclust")), paste(R.version$major, R.version$minor, sep = "."),
  paste(sprintf('"%s":{"seconds":%.6f,"iterations":%s,"loglik":%.12g}', names(per_iter),
    sapply(per_iter, `[[`, "seconds"), sapply(per_iter, function(p) ifelse(is.na(p$iterations), "null", p$iterations)),
    sapply(per_iter, `[[`, "loglik")), collapse = ","),
  sel$s, b$modelName, b$G, b$bic))
