/**
 * Independent float64 references for the GLMM tests: the per-group log-joint
 * written out from the model definition (not from the library's helpers),
 * adaptive Simpson integration in 1-D and nested 2-D, and a crude mode
 * search by coordinate-wise golden section.
 */
import type { GlmmData } from '../src/glmm/glmm-types.js';

/** log y! as Σ_{k ≤ y} log k. */
export function refLogFactorial(y: number): number {
  let s = 0;
  for (let k = 2; k <= y; k++) s += Math.log(k);
  return s;
}

/** One group's rows copied out of the data, with x β and Σ log y! precomputed. */
export interface RefGroup {
  readonly family: 'poisson' | 'logistic';
  readonly y: number[];
  readonly xb: number[];
  readonly z: number[][];
  readonly q: number;
  readonly logFactorials: number;
}

export function refGroup(data: GlmmData, g: number, beta: ArrayLike<number>): RefGroup {
  const y: number[] = [];
  const xb: number[] = [];
  const z: number[][] = [];
  let logFactorials = 0;
  for (let i = data.groupStart[g]!; i < data.groupStart[g + 1]!; i++) {
    y.push(data.y[i]!);
    if (data.family === 'poisson') logFactorials += refLogFactorial(data.y[i]!);
    let s = 0;
    for (let j = 0; j < data.p; j++) s += data.x[i * data.p + j]! * beta[j]!;
    xb.push(s);
    z.push(Array.from(data.z.subarray(i * data.q, (i + 1) * data.q)));
  }
  return { family: data.family, y, xb, z, q: data.q, logFactorials };
}

/** log p(y | b): Σ y η − A(η) − log y!, with A written out naively but stably. */
export function refLogLikGivenB(grp: RefGroup, b: readonly number[]): number {
  let s = -grp.logFactorials;
  const poisson = grp.family === 'poisson';
  for (let i = 0; i < grp.y.length; i++) {
    const zi = grp.z[i]!;
    let eta = grp.xb[i]!;
    for (let k = 0; k < zi.length; k++) eta += zi[k]! * b[k]!;
    const a = poisson ? Math.exp(eta) : eta > 0 ? eta + Math.log(1 + Math.exp(-eta)) : Math.log(1 + Math.exp(eta));
    s += grp.y[i]! * eta - a;
  }
  return s;
}

/** log N(b; 0, Σ) for q ≤ 2 by explicit formulas. */
export function refLogNormal(b: readonly number[], sigma: readonly number[]): number {
  if (b.length === 1) {
    const v = sigma[0]!;
    return -0.5 * Math.log(2 * Math.PI * v) - (0.5 * b[0]! * b[0]!) / v;
  }
  const [a, c, , d] = sigma as [number, number, number, number];
  const det = a * d - c * c;
  const quad = (d * b[0]! * b[0]! - 2 * c * b[0]! * b[1]! + a * b[1]! * b[1]!) / det;
  return -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * quad;
}

/**
 * Adaptive Simpson on [a, b] to absolute tolerance eps (Richardson-corrected).
 * A panel also stops when its two estimates agree to 1e-12 relative: below
 * that the difference is the integrand's own rounding (log-joints of ~10 rows
 * carry ~1e-14 relative error), and halving further would never end.
 */
export function adaptiveSimpson(f: (x: number) => number, a: number, b: number, eps: number, maxDepth = 40): number {
  let evaluations = 0;
  const rec = (a0: number, b0: number, fa: number, fm: number, fb: number, whole: number, tol: number, depth: number): number => {
    const m = 0.5 * (a0 + b0);
    const lm = 0.5 * (a0 + m);
    const rm = 0.5 * (m + b0);
    const flm = f(lm);
    const frm = f(rm);
    evaluations += 2;
    if (evaluations > 5e6) throw new Error('adaptiveSimpson: more than 5e6 evaluations');
    const left = ((m - a0) / 6) * (fa + 4 * flm + fm);
    const right = ((b0 - m) / 6) * (fm + 4 * frm + fb);
    const diff = left + right - whole;
    if (depth <= 0 || Math.abs(diff) <= 15 * tol || Math.abs(diff) <= 1e-12 * Math.abs(left + right)) return left + right + diff / 15;
    return rec(a0, m, fa, flm, fm, left, tol / 2, depth - 1) + rec(m, b0, fm, frm, fb, right, tol / 2, depth - 1);
  };
  // Start from 8 panels so a narrow peak cannot hide between the first samples.
  let total = 0;
  const panels = 8;
  const h = (b - a) / panels;
  for (let k = 0; k < panels; k++) {
    const a0 = a + k * h;
    const b0 = a0 + h;
    const fa = f(a0);
    const fb = f(b0);
    const fm = f(0.5 * (a0 + b0));
    total += rec(a0, b0, fa, fm, fb, (h / 6) * (fa + 4 * fm + fb), eps / panels, maxDepth);
  }
  return total;
}

/** Maximizes a unimodal f on [lo, hi] by golden section. */
export function goldenMax(f: (x: number) => number, lo: number, hi: number, iters = 200): number {
  const r = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - r * (b - a);
  let d = a + r * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let k = 0; k < iters && b - a > 1e-12 * (1 + Math.abs(a) + Math.abs(b)); k++) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - r * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + r * (b - a);
      fd = f(d);
    }
  }
  return 0.5 * (a + b);
}

/** The end of the region where h(x) ≥ h(x0) − drop, searching from x0 in direction dir with doubling steps then bisection. */
export function edge(h: (x: number) => number, x0: number, dir: 1 | -1, drop: number, step0: number): number {
  const target = h(x0) - drop;
  let inside = x0;
  let step = step0;
  let out = x0 + dir * step;
  while (h(out) > target) {
    inside = out;
    step *= 2;
    out = x0 + dir * step;
  }
  for (let k = 0; k < 100; k++) {
    const m = 0.5 * (inside + out);
    if (h(m) > target) inside = m;
    else out = m;
  }
  return out;
}

/** Adaptive Simpson to relative tolerance rel, scaled by a first 64-panel composite Simpson estimate. */
export function adaptiveSimpsonRel(f: (x: number) => number, a: number, b: number, rel: number, maxDepth = 40): number {
  const n = 64;
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let k = 1; k < n; k++) s += (k % 2 === 1 ? 4 : 2) * f(a + k * h);
  const rough = Math.abs((h / 3) * s);
  return adaptiveSimpson(f, a, b, rel * rough, maxDepth);
}

/**
 * log ∫ exp(h(b)) db in 1-D by brute force: the maximum by golden section,
 * the region where h ≥ max − 80 (e^-80 ≈ 2e-35 of the peak), adaptive Simpson
 * of exp(h − max) on it to 1e-14 relative (in practice limited by the
 * integrand's rounding, ~1e-14).
 */
export function bruteLogIntegral1d(h: (b: number) => number): number {
  const mode = goldenMax(h, -60, 60);
  const hm = h(mode);
  const lo = edge(h, mode, -1, 80, 0.01);
  const hi = edge(h, mode, 1, 80, 0.01);
  return hm + Math.log(adaptiveSimpsonRel((b) => Math.exp(h(b) - hm), lo, hi, 1e-14, 50));
}

/**
 * log ∫∫ exp(h(b1, b2)) db in 2-D by nested adaptive Simpson (1e-10 relative
 * inner and outer) over a box found from the maximum (coordinate-wise
 * golden section, repeated) and the region where h ≥ max − 60 along each axis
 * through it, widened 3× so that a tilted posterior is covered too.
 */
export function bruteLogIntegral2d(h: (b1: number, b2: number) => number): number {
  let m1 = 0;
  let m2 = 0;
  for (let k = 0; k < 60; k++) {
    m1 = goldenMax((u) => h(u, m2), m1 - 30, m1 + 30, 120);
    m2 = goldenMax((v) => h(m1, v), m2 - 30, m2 + 30, 120);
  }
  const hm = h(m1, m2);
  const w1 = Math.max(edge((u) => h(u, m2), m1, 1, 60, 0.01) - m1, m1 - edge((u) => h(u, m2), m1, -1, 60, 0.01));
  const w2 = Math.max(edge((v) => h(m1, v), m2, 1, 60, 0.01) - m2, m2 - edge((v) => h(m1, v), m2, -1, 60, 0.01));
  const W1 = 3 * w1;
  const W2 = 3 * w2;
  const inner = (u: number): number => adaptiveSimpsonRel((v) => Math.exp(h(u, v) - hm), m2 - W2, m2 + W2, 1e-10, 30);
  return hm + Math.log(adaptiveSimpsonRel(inner, m1 - W1, m1 + W1, 1e-10, 30));
}

/**
 * Nelder–Mead minimization (standard coefficients: reflection 1, expansion 2,
 * contraction ½, shrink ½), restarted from the best point with a fresh simplex
 * until a restart no longer improves f by more than 1e-13 relative.
 */
export function nelderMead(f: (x: number[]) => number, x0: number[], step = 0.1, maxEvals = 20000): { x: number[]; f: number; evals: number } {
  const n = x0.length;
  let evals = 0;
  const F = (x: number[]): number => {
    evals++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  let best = x0.slice();
  let fBest = F(best);
  for (let restart = 0; restart < 50 && evals < maxEvals; restart++) {
    let simplex: number[][] = [best.slice()];
    for (let i = 0; i < n; i++) {
      const p = best.slice();
      p[i]! += step;
      simplex.push(p);
    }
    let values = simplex.map((p, i) => (i === 0 ? fBest : F(p)));
    for (let it = 0; it < 5000 && evals < maxEvals; it++) {
      const order = values.map((_v, i) => i).sort((a, b) => values[a]! - values[b]!);
      simplex = order.map((i) => simplex[i]!);
      values = order.map((i) => values[i]!);
      const spread = Math.abs(values[n]! - values[0]!);
      if (spread <= 1e-14 * Math.max(1, Math.abs(values[0]!))) break;
      const centroid = new Array<number>(n).fill(0);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) centroid[k]! += simplex[i]![k]! / n;
      const along = (t: number): number[] => centroid.map((c, k) => c + t * (simplex[n]![k]! - c));
      const xr = along(-1);
      const fr = F(xr);
      if (fr < values[0]!) {
        const xe = along(-2);
        const fe = F(xe);
        if (fe < fr) {
          simplex[n] = xe;
          values[n] = fe;
        } else {
          simplex[n] = xr;
          values[n] = fr;
        }
      } else if (fr < values[n - 1]!) {
        simplex[n] = xr;
        values[n] = fr;
      } else {
        const outside = fr < values[n]!;
        const xc = along(outside ? -0.5 : 0.5);
        const fcv = F(xc);
        if (fcv < (outside ? fr : values[n]!)) {
          simplex[n] = xc;
          values[n] = fcv;
        } else {
          for (let i = 1; i <= n; i++) {
            simplex[i] = simplex[i]!.map((v, k) => simplex[0]![k]! + 0.5 * (v - simplex[0]![k]!));
            values[i] = F(simplex[i]!);
          }
        }
      }
    }
    let iBest = 0;
    for (let i = 1; i <= n; i++) if (values[i]! < values[iBest]!) iBest = i;
    const improved = fBest - values[iBest]! > 1e-13 * Math.max(1, Math.abs(fBest));
    if (values[iBest]! < fBest) {
      fBest = values[iBest]!;
      best = simplex[iBest]!.slice();
    }
    if (!improved && restart > 0) break;
    step = Math.max(step * 0.5, 1e-4);
  }
  return { x: best, f: fBest, evals };
}
