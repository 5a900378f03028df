/**
 * A Gamma(shape, 1) draw for the Monte Carlo samplers (Student-t proposals): Marsaglia & Tsang (2000),
 * shape < 1 by the u^(1/shape) boost; 1 − u ∈ (0, 1] keeps every logarithm finite.
 * @module
 */

/** What the draw needs of a stream: core's `Rng`, or a sampler's counting stream. */
interface UniformNormal {
  uniform(): number;
  normal(): number;
}

/** A Gamma(shape, 1) draw. */
export function gammaDraw(rng: UniformNormal, shape: number): number {
  if (shape < 1) return gammaDraw(rng, shape + 1) * Math.pow(1 - rng.uniform(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.uniform();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}
