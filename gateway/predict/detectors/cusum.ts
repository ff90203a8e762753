/**
 * One-sided CUSUM on standardized residuals (Page 1954): `S = max(0, S + z - k)`, so small lasting
 * shifts add up while noise (|z| < k) drains away. `direction` picks the side that matters (RSSI
 * falling, round trip rising). `S` is capped so one long episode cannot take hours to forget.
 * O(1) state.
 */
export class Cusum {
  readonly #k: number;
  readonly #cap: number;
  readonly #sign: 1 | -1;
  #s = 0;

  /** `k`: allowance in deviations per sample; `cap`: the largest S kept. */
  constructor(options: { readonly k: number; readonly cap: number; readonly direction: 'up' | 'down' }) {
    this.#k = options.k;
    this.#cap = options.cap;
    this.#sign = options.direction === 'up' ? 1 : -1;
  }

  get value(): number {
    return this.#s;
  }

  update(z: number): number {
    this.#s = Math.min(this.#cap, Math.max(0, this.#s + this.#sign * z - this.#k));
    return this.#s;
  }

  reset(): void {
    this.#s = 0;
  }
}
