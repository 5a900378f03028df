/**
 * Standard normal upper quantiles z_a = Φ⁻¹(1 − a), by bisection on the
 * complementary error function (Numerical Recipes' erfcc, fractional error
 * below 1.2e-7 everywhere), so z is good to ~1e-7: ample for confidence levels.
 * @module
 */

/** erfc(x) (W. H. Press et al., Numerical Recipes, §6.2: Chebyshev fit, |relative error| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for Z ~ N(0, 1). @internal */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** z with P(Z > z) = a, for a in (0, 1). @internal */
export function upperQuantile(a: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalUpperTail(mid) > a) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
