/**
 * L2-regularized logistic regression by Newton's method (IRLS), full batch: the same data in the
 * same order gives the same model to the last bit, which is what makes training deterministic for
 * a seed. Features are standardized (weighted mean and deviation) first; the bias is not
 * penalized. With ~20 features the Newton step is a 21×21 solve; a few dozen iterations converge.
 */

export interface Dataset {
  /** Row-major features, `rows × dims`. */
  readonly x: Float64Array;
  readonly y: Uint8Array;
  /** Sample weights (negatives are subsampled and weighted up). */
  readonly w: Float64Array;
  readonly rows: number;
  readonly dims: number;
}

export interface LogisticFit {
  readonly mean: number[];
  readonly scale: number[];
  readonly weights: number[];
  readonly bias: number;
  readonly iterations: number;
  /** Mean weighted log loss on the training data. */
  readonly logLoss: number;
}

export interface LogisticOptions {
  /** Penalty per unit of total sample weight on the squared standardized weights. */
  readonly l2: number;
  readonly maxIterations: number;
  readonly tolerance: number;
}

/**
 * A light penalty: failures are rare (well under 1 % of samples), so a penalty scaled by the total
 * weight at 1e-3 shrinks the weights of rare but clear signs (a battery minutes from empty) until
 * no risk gets high enough to warn; 1e-5 only tames collinear hinges.
 */
export const DEFAULT_LOGISTIC: LogisticOptions = Object.freeze({ l2: 1e-5, maxIterations: 60, tolerance: 1e-9 });

export function fitLogistic(d: Dataset, o: LogisticOptions = DEFAULT_LOGISTIC): LogisticFit {
  const { rows, dims } = d;
  if (rows === 0) throw new RangeError('no training rows');
  let wSum = 0;
  const mean = new Array<number>(dims).fill(0);
  for (let i = 0; i < rows; i++) {
    wSum += d.w[i]!;
    for (let j = 0; j < dims; j++) mean[j]! += d.w[i]! * d.x[i * dims + j]!;
  }
  for (let j = 0; j < dims; j++) mean[j] = mean[j]! / wSum;
  const scale = new Array<number>(dims).fill(0);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dims; j++) scale[j]! += d.w[i]! * (d.x[i * dims + j]! - mean[j]!) ** 2;
  for (let j = 0; j < dims; j++) {
    const sd = Math.sqrt(scale[j]! / wSum);
    scale[j] = sd > 1e-9 ? sd : 1;
  }
  // Standardized design with a leading 1 for the bias.
  const p = dims + 1;
  const z = new Float64Array(rows * p);
  let yw = 0;
  for (let i = 0; i < rows; i++) {
    z[i * p] = 1;
    for (let j = 0; j < dims; j++) z[i * p + j + 1] = (d.x[i * dims + j]! - mean[j]!) / scale[j]!;
    yw += d.w[i]! * d.y[i]!;
  }
  const beta = new Float64Array(p);
  const prior = Math.min(1 - 1e-6, Math.max(1e-6, yw / wSum));
  beta[0] = Math.log(prior / (1 - prior));
  const lambda = o.l2 * wSum;
  let iterations = 0;
  for (; iterations < o.maxIterations; iterations++) {
    const g = new Float64Array(p);
    const h = new Float64Array(p * p);
    for (let i = 0; i < rows; i++) {
      const off = i * p;
      let eta = 0;
      for (let j = 0; j < p; j++) eta += beta[j]! * z[off + j]!;
      const pr = 1 / (1 + Math.exp(-eta));
      const wi = d.w[i]!;
      const r = wi * (pr - d.y[i]!);
      const c = wi * Math.max(pr * (1 - pr), 1e-12);
      for (let j = 0; j < p; j++) {
        const zj = z[off + j]!;
        g[j]! += r * zj;
        const cz = c * zj;
        for (let k = 0; k <= j; k++) h[j * p + k]! += cz * z[off + k]!;
      }
    }
    for (let j = 1; j < p; j++) {
      g[j]! += lambda * beta[j]!;
      h[j * p + j]! += lambda;
    }
    h[0]! += 1e-9 * wSum;
    for (let j = 0; j < p; j++) for (let k = j + 1; k < p; k++) h[j * p + k] = h[k * p + j]!;
    const step = solveSpd(h, g, p);
    // Newton's step can overshoot far from the optimum: halve it until the objective decreases.
    const before = objective(z, d, beta, p, lambda);
    let t = 1;
    const trial = new Float64Array(p);
    for (let halvings = 0; halvings < 40; halvings++, t /= 2) {
      for (let j = 0; j < p; j++) trial[j] = beta[j]! - t * step[j]!;
      if (objective(z, d, trial, p, lambda) <= before) break;
    }
    let maxStep = 0;
    for (let j = 0; j < p; j++) {
      maxStep = Math.max(maxStep, Math.abs(beta[j]! - trial[j]!));
      beta[j] = trial[j]!;
    }
    if (maxStep < o.tolerance) {
      iterations++;
      break;
    }
  }
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    let eta = 0;
    for (let j = 0; j < p; j++) eta += beta[j]! * z[i * p + j]!;
    const pr = Math.min(1 - 1e-12, Math.max(1e-12, 1 / (1 + Math.exp(-eta))));
    loss -= d.w[i]! * (d.y[i]! === 1 ? Math.log(pr) : Math.log(1 - pr));
  }
  return { mean, scale, weights: Array.from(beta.subarray(1)), bias: beta[0]!, iterations, logLoss: loss / wSum };
}

/** Penalized weighted log loss (what Newton's method minimizes). */
function objective(z: Float64Array, d: Dataset, beta: Float64Array, p: number, lambda: number): number {
  let loss = 0;
  for (let i = 0; i < d.rows; i++) {
    let eta = 0;
    for (let j = 0; j < p; j++) eta += beta[j]! * z[i * p + j]!;
    // log(1 + e^eta) - y·eta, computed without overflow.
    const softplus = eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
    loss += d.w[i]! * (softplus - d.y[i]! * eta);
  }
  let penalty = 0;
  for (let j = 1; j < p; j++) penalty += beta[j]! * beta[j]!;
  return loss + (lambda / 2) * penalty;
}

/** Solves `A x = b` for a symmetric positive definite `A` (Cholesky). */
function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) l[i * n + i] = Math.sqrt(Math.max(sum, 1e-12));
      else l[i * n + j] = sum / l[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * n + k]! * y[k]!;
    y[i] = sum / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * x[k]!;
    x[i] = sum / l[i * n + i]!;
  }
  return x;
}
