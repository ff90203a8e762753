/** What every benchmark returns, and how the runner prints it (JSON and a readable table). */
export interface Figure {
  /** What was measured, e.g. "verified durable ingest, 50 terminals". */
  readonly metric: string;
  readonly value: number;
  /** Unit, e.g. "events/s", "ms", "MB". */
  readonly unit: string;
  /** The target the figure is held to, if any, e.g. ">= 5000". */
  readonly target?: string;
  /** A reference measured in the same run, e.g. "raw Ed25519 verify, 1 core". */
  readonly reference?: string;
}

export interface BenchReport {
  readonly name: string;
  readonly figures: readonly Figure[];
  readonly notes?: readonly string[];
}

export interface Bench {
  readonly name: string;
  run(): Promise<BenchReport>;
}

export function formatTable(reports: readonly BenchReport[]): string {
  const rows: string[][] = [['bench', 'metric', 'value', 'unit', 'target']];
  for (const r of reports) for (const f of r.figures) rows.push([r.name, f.metric, fmt(f.value), f.unit, f.target ?? '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const r of reports) for (const n of r.notes ?? []) out.push(`note (${r.name}): ${n}`);
  return out.join('\n');
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

/** Percentile of a sorted-or-not sample (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
