/**
 * A small, strict parser of the Prometheus text exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats), for tests: it throws on anything a
 * Prometheus server would refuse or that breaks the format's rules — bad names, bad escapes, a
 * sample before its TYPE, a family split in two, duplicate series, histogram buckets that are not
 * cumulative or whose `+Inf` bucket differs from `_count`.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string;
  help: string | null;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Floats as Go's strconv.ParseFloat reads them, which Prometheus' own parser uses: `NaN` and
 * `Inf` in any letter case (prom-client writes `Nan`). */
function parseValue(raw: string, line: number): number {
  if (/^\+?inf$/i.test(raw)) return Number.POSITIVE_INFINITY;
  if (/^-inf$/i.test(raw)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(raw)) return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) throw new Error(`line ${line}: bad value "${raw}"`);
  return Number(raw);
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`line ${line}: bad label name "${name}"`);
    if (name in labels) throw new Error(`line ${line}: duplicate label "${name}"`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let value = '';
    let j = eq + 2;
    for (;; j++) {
      const ch = text[j];
      if (ch === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = text[++j];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`line ${line}: bad escape "\\${next ?? ''}"`);
      } else value += ch;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected ',' or '}' after label`);
  }
}

/** The family a sample name belongs to (histogram/summary suffixes stripped when declared so). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct !== undefined) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f !== undefined && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, index) => {
    const n = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (m === null) return; // a plain comment
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${n}: bad metric name "${name}"`);
      if (closed.has(name)) throw new Error(`line ${n}: family "${name}" appears twice`);
      let f = families.get(name);
      if (f === undefined) {
        if (current !== null) closed.add(current.name);
        f = { name, type: 'untyped', help: null, samples: [] };
        families.set(name, f);
        current = f;
      } else if (f !== current) throw new Error(`line ${n}: "${name}" split`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: bad type "${rest}"`);
        if (f.samples.length > 0) throw new Error(`line ${n}: TYPE after samples of "${name}"`);
        f.type = rest;
      } else {
        if (f.help !== null) throw new Error(`line ${n}: second HELP for "${name}"`);
        f.help = rest;
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (nameMatch === null) throw new Error(`line ${n}: bad sample "${raw}"`);
    const name = nameMatch[0];
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, n));
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`line ${n}: bad sample tail "${rest}"`);
    const value = parseValue(parts[0] ?? '', n);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${n}: bad timestamp`);
    const f = familyOf(name, families);
    if (f === undefined) throw new Error(`line ${n}: sample "${name}" without a TYPE/HELP of its family`);
    if (f !== current) throw new Error(`line ${n}: sample "${name}" outside its family's group`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`line ${n}: duplicate series ${key}`);
    series.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else throw new Error(`${f.name}: unexpected sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    const last = sorted[sorted.length - 1];
    if (last === undefined || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i]?.[1] ?? 0) < (sorted[i - 1]?.[1] ?? 0)) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    if (g.count === undefined || g.sum === undefined) throw new Error(`${f.name}${key}: missing _count or _sum`);
    if (last[1] !== g.count) throw new Error(`${f.name}${key}: +Inf bucket ${last[1]} != _count ${g.count}`);
  }
}

/** The value of one series, or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(labels);
      if (keys.length === Object.keys(s.labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}
