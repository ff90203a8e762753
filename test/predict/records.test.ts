/** §3.7 records: parsed with a schema and bounded, coded when refused, and live inputs adapted to the same shape. */
import { describe, expect, it } from 'vitest';
import { healthEntryLine, parseRecordLine, probeLine, recordFromHealthEntry, recordFromProbe } from '../../gateway/predict/records.js';

describe('prediction records', () => {
  it('records - parses a health record and a WAN record, keeping unknown fields', () => {
    const h = parseRecordLine('{"kind":"health","store":"s-1","terminal":"t-1","at":"2026-01-05T10:00:00Z","batteryPct":40,"newThing":1}');
    expect(h).toMatchObject({ ok: true, record: { kind: 'health', subject: 'terminal/t-1', atMs: Date.UTC(2026, 0, 5, 10), sample: { batteryPct: 40, newThing: 1 } } });
    const w = parseRecordLine('{"kind":"wan","store":"s-1","at":"2026-01-05T10:00:00Z","ok":false}');
    expect(w).toMatchObject({ ok: true, record: { kind: 'wan', subject: 'wan', ok: false, rttMs: null } });
  });

  it('records - refuses bad lines with a stable code and skips unknown kinds', () => {
    expect(parseRecordLine('nope')).toEqual({ ok: false, code: 'RECORD_NOT_JSON' });
    expect(parseRecordLine('{"kind":"health","store":"S!","terminal":"t","at":"x"}')).toEqual({ ok: false, code: 'RECORD_SCHEMA' });
    expect(parseRecordLine('{"kind":"health","store":"s","terminal":"t","at":"yesterday"}')).toEqual({ ok: false, code: 'RECORD_BAD_TIME' });
    expect(parseRecordLine('{"kind":"disk","store":"s","at":"2026-01-05T10:00:00Z"}')).toEqual({ ok: false, code: 'RECORD_UNKNOWN_KIND' });
    expect(parseRecordLine(`{"kind":"wan","pad":"${'x'.repeat(9_000)}"}`)).toEqual({ ok: false, code: 'RECORD_TOO_LARGE' });
    expect(parseRecordLine('{"kind":"wan","store":"s","at":"2026-01-05T10:00:00Z","ok":"yes"}')).toEqual({ ok: false, code: 'RECORD_SCHEMA' });
  });

  it('records - a live sample and its exported line parse to the same record (gateway time, terminal time kept)', () => {
    const entry = { terminal: 't-9', receivedAtMs: Date.UTC(2026, 0, 5, 10, 0, 1, 250), sample: { at: '2026-01-05T09:59:58Z', batteryPct: 33, charging: false } };
    const live = recordFromHealthEntry('s-1', entry);
    const line = healthEntryLine('s-1', entry);
    expect(JSON.parse(line)).toMatchObject({ kind: 'health', at: '2026-01-05T10:00:01.250Z', terminalAt: '2026-01-05T09:59:58Z' });
    const parsed = parseRecordLine(line);
    expect(parsed.ok && parsed.record.atMs).toBe(live.atMs);
    expect(parsed.ok && parsed.record.kind === 'health' && parsed.record.sample.batteryPct).toBe(33);
    const probe = { atMs: Date.UTC(2026, 0, 5, 10), ok: true, rttMs: 41 };
    const fromLine = parseRecordLine(probeLine('s-1', probe));
    expect(fromLine.ok && fromLine.record).toEqual(recordFromProbe('s-1', probe));
  });
});
