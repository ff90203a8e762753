/** An evaluation report as a table a person reads (the JSON has everything). */
import type { EvalReport, KindFigures } from './evaluate.js';

const pct = (x: number | null) => (x === null ? '—' : x.toFixed(3));
const num = (x: number | null) => (x === null ? '—' : String(x));

export function formatReport(r: EvalReport): string {
  const rows: [string, (f: KindFigures) => string][] = [
    ['subjects', (f) => String(f.subjects)],
    ['subject-days', (f) => String(f.subjectDays)],
    ['failures (§3.7)', (f) => String(f.failures)],
    ['caught 10 min – 2 h ahead', (f) => String(f.detected)],
    ['alerts raised', (f) => String(f.alerts)],
    ['true alerts', (f) => String(f.trueAlerts)],
    ['precision', (f) => pct(f.precision)],
    ['recall', (f) => pct(f.recall)],
    ['median lead (min)', (f) => num(f.medianLeadMin)],
    ['lead p25–p75 (min)', (f) => (f.leadP25Min === null ? '—' : `${f.leadP25Min}–${f.leadP75Min}`)],
    ['false alerts / 100 subject-days', (f) => String(f.falseAlertsPer100SubjectDays)],
    ['PR-AUC, alerts (§3.7 terms)', (f) => f.prAucAlerts.toFixed(3)],
    ['PR-AUC, samples', (f) => pct(f.prAucSamples)],
    ['alerts censored (last 2 h)', (f) => String(f.censoredAlerts)],
  ];
  const width = Math.max(...rows.map(([n]) => n.length));
  const lines = [
    `source: ${r.source}`,
    `model:  ${r.modelVersion}`,
    `window: ${new Date(r.fromMs).toISOString()} – ${new Date(r.endMs).toISOString()}, ${r.records.toLocaleString('en-US')} records scored`,
    '',
    `${''.padEnd(width)}  ${'terminals'.padStart(10)}  ${'WAN'.padStart(10)}  ${'all'.padStart(10)}`,
    ...rows.map(([name, f]) => `${name.padEnd(width)}  ${f(r.terminal).padStart(10)}  ${f(r.wan).padStart(10)}  ${f(r.all).padStart(10)}`),
  ];
  if (r.byMode !== undefined) {
    lines.push('', 'by what really happened (simulator):');
    for (const [mode, c] of Object.entries(r.byMode).sort()) lines.push(`  ${mode.padEnd(20)} ${String(c.detected).padStart(4)} of ${String(c.failures).padStart(4)} caught`);
  }
  return `${lines.join('\n')}\n`;
}
