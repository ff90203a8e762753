import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics, type MetricsSources } from '../../gateway/metrics/gateway-metrics.js';
import { EMPTY_MONEY } from '../../gateway/store/money.js';
import { REJECT_CODES } from '../../protocol/errors.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';

function sources(overrides: Partial<MetricsSources> = {}): MetricsSources {
  return {
    ingestTotals: () => ({ stored: 1200, duplicate: 3, rejected: 5 }),
    rejectTotals: () => ({ BAD_SIGNATURE: 2, SEQ_GAP: 3 }),
    backlogEvents: () => 342,
    backlogMoney: () => ({ ...EMPTY_MONEY, takings: { count: 340, byCurrency: { EUR: 420_000 } }, refunds: { count: 1, byCurrency: { EUR: 1_050 } }, declined: { count: 1, byCurrency: {} } }),
    oldestPendingAgeS: () => 720,
    deadLetters: () => 1,
    eventsStored: () => 1200,
    accepting: () => true,
    integrityState: () => 'ok',
    wanState: () => 'offline',
    diskFreeBytes: () => 12 * 1024 ** 3,
    terminalsConnected: () => 11,
    terminals: () => [
      { terminal: 't-02', connected: false, lastSeenAtMs: 1_764_000_000_000, outboxDepth: 14, blocked: true, offlineRefused: 3 },
      { terminal: 't-01', connected: true, lastSeenAtMs: 1_764_000_100_000, outboxDepth: 0, blocked: false, offlineRefused: 0 },
      { terminal: 't-03', connected: false, lastSeenAtMs: null, outboxDepth: null, blocked: false, offlineRefused: null },
    ],
    ...overrides,
  };
}

describe('gateway metrics', () => {
  it('metrics - /metrics is valid Prometheus text with the conventional names and units', async () => {
    const metrics = createGatewayMetrics(sources());
    metrics.observeForwardBatch('ok', 42);
    metrics.observeForwardBatch('ok', 7);
    metrics.observeForwardBatch('retry', 10_000);
    const app = new Hono();
    metrics.mount(app);
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusText(await res.text());

    expect(families.get('tillgate_ingest_events_total')?.type).toBe('counter');
    expect(valueOf(families, 'tillgate_ingest_events_total', { result: 'stored' })).toBe(1200);
    expect(valueOf(families, 'tillgate_rejects_total', { code: 'BAD_SIGNATURE' })).toBe(2);
    expect(valueOf(families, 'tillgate_forward_backlog_events')).toBe(342);
    // Money by class: approved payments are takings, refunds apart, declined carry no amount.
    expect(valueOf(families, 'tillgate_forward_backlog_amount_minor', { class: 'takings', currency: 'EUR' })).toBe(420_000);
    expect(valueOf(families, 'tillgate_forward_backlog_amount_minor', { class: 'refunds', currency: 'EUR' })).toBe(1_050);
    expect(valueOf(families, 'tillgate_forward_backlog_amount_minor', { class: 'declined', currency: 'EUR' })).toBeUndefined();
    expect(valueOf(families, 'tillgate_forward_backlog_transactions', { class: 'takings' })).toBe(340);
    expect(valueOf(families, 'tillgate_forward_backlog_transactions', { class: 'declined' })).toBe(1);
    expect(valueOf(families, 'tillgate_forward_oldest_pending_age_seconds')).toBe(720);
    expect(valueOf(families, 'tillgate_forward_dead_letters_events')).toBe(1);
    expect(valueOf(families, 'tillgate_forward_batches_total', { outcome: 'ok' })).toBe(2);
    expect(families.get('tillgate_forward_batch_duration_seconds')?.type).toBe('histogram');
    expect(valueOf(families, 'tillgate_forward_batch_duration_seconds_count', { outcome: 'ok' })).toBe(2);
    expect(valueOf(families, 'tillgate_forward_batch_duration_seconds_bucket', { outcome: 'ok', le: '0.01' })).toBe(1);
    expect(valueOf(families, 'tillgate_forward_batch_duration_seconds_sum', { outcome: 'retry' })).toBe(10);
    expect(valueOf(families, 'tillgate_wan_state', { state: 'offline' })).toBe(1);
    expect(valueOf(families, 'tillgate_wan_state', { state: 'online' })).toBe(0);
    expect(valueOf(families, 'tillgate_disk_free_bytes')).toBe(12 * 1024 ** 3);
    expect(valueOf(families, 'tillgate_accepting')).toBe(1);
    expect(valueOf(families, 'tillgate_terminals_connected')).toBe(11);
  });

  it('metrics - reads the sources at scrape time and says NaN for a disk figure not measured yet', async () => {
    let backlog = 10;
    let free: number | null = null;
    const metrics = createGatewayMetrics(sources({ backlogEvents: () => backlog, diskFreeBytes: () => free, rejectTotals: () => ({}) }));
    let families = parsePrometheusText(await metrics.render());
    expect(valueOf(families, 'tillgate_forward_backlog_events')).toBe(10);
    expect(valueOf(families, 'tillgate_disk_free_bytes')).toBeNaN();
    // Every reject code is there from the start, at 0, so rate() works before the first reject.
    expect(families.get('tillgate_rejects_total')?.samples).toHaveLength(REJECT_CODES.length);
    expect(valueOf(families, 'tillgate_rejects_total', { code: 'CONFLICT' })).toBe(0);
    backlog = 0;
    free = 1024;
    families = parsePrometheusText(await metrics.render());
    expect(valueOf(families, 'tillgate_forward_backlog_events')).toBe(0);
    expect(valueOf(families, 'tillgate_disk_free_bytes')).toBe(1024);
  });

  it('metrics - say when a filling disk reaches its mark, and +Inf while it is not filling', async () => {
    let fullIn: number | null = null;
    const metrics = createGatewayMetrics(sources({ diskFullInSeconds: () => fullIn }));
    expect(valueOf(parsePrometheusText(await metrics.render()), 'tillgate_disk_full_in_seconds')).toBe(Number.POSITIVE_INFINITY);
    fullIn = 27_000;
    expect(valueOf(parsePrometheusText(await metrics.render()), 'tillgate_disk_full_in_seconds')).toBe(27_000);
  });

  it('metrics - per terminal: last seen, connected, outbox depth, blocked and offline refusals; build info; runtime', async () => {
    const metrics = createGatewayMetrics(
      sources({ problems: async () => [{ code: 'TERMINAL_BLOCKED', level: 'alarm', subjects: ['t-02'] }, { code: 'TERMINAL_SILENT', level: 'warn', subjects: ['t-02', 't-03'] }] }),
      { version: '0.1.0', node: 'v20.20.0' },
    );
    const families = parsePrometheusText(await metrics.render());
    expect(valueOf(families, 'tillgate_terminal_last_seen_timestamp_seconds', { terminal: 't-02' })).toBe(1_764_000_000);
    expect(valueOf(families, 'tillgate_terminal_last_seen_timestamp_seconds', { terminal: 't-03' })).toBeUndefined();
    expect(valueOf(families, 'tillgate_terminal_connected', { terminal: 't-01' })).toBe(1);
    expect(valueOf(families, 'tillgate_terminal_outbox_events', { terminal: 't-02' })).toBe(14);
    expect(valueOf(families, 'tillgate_terminal_blocked', { terminal: 't-02' })).toBe(1);
    expect(valueOf(families, 'tillgate_terminal_blocked', { terminal: 't-01' })).toBe(0);
    expect(valueOf(families, 'tillgate_terminal_offline_refused_total', { terminal: 't-02' })).toBe(3);
    expect(families.get('tillgate_terminal_offline_refused_total')?.type).toBe('counter');
    expect(valueOf(families, 'tillgate_build_info', { version: '0.1.0', node: 'v20.20.0', program: 'gateway' })).toBe(1);
    expect(valueOf(families, 'tillgate_problem_active', { code: 'TERMINAL_SILENT', level: 'warn' })).toBe(2);
    expect(valueOf(families, 'tillgate_problem_active', { code: 'WAN_OFFLINE', level: 'alarm' })).toBe(0);
    // prom-client's standard process and runtime collectors, on this gateway's own registry.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(families.has(name), name).toBe(true);
    }
  });

  it('metrics - no series has an empty label value', async () => {
    const metrics = createGatewayMetrics(sources({ backlogMoney: () => ({ ...EMPTY_MONEY, takings: { count: 1, byCurrency: { EUR: 100 } } }) }), { version: '', node: '' });
    metrics.observeForwardBatch('ok', 3);
    const families = parsePrometheusText(await metrics.render());
    const empty = [...families.values()].flatMap((f) => f.samples.filter((s) => Object.values(s.labels).some((v) => v === '')).map((s) => `${s.name} ${JSON.stringify(s.labels)}`));
    expect(empty).toEqual([]);
    expect(families.size).toBeGreaterThan(30);
  });

  it('metrics - two gateways in one process keep separate registries', async () => {
    const a = createGatewayMetrics(sources());
    const b = createGatewayMetrics(sources());
    a.observeForwardBatch('ok', 1);
    const fb = parsePrometheusText(await b.render());
    expect(valueOf(fb, 'tillgate_forward_batches_total', { outcome: 'ok' })).toBeUndefined();
  });

  it('metrics - the strict parser refuses broken exposition text', () => {
    expect(() => parsePrometheusText('# TYPE x gauge\nx 1')).toThrow(/newline/);
    expect(() => parsePrometheusText('x 1\n')).toThrow(/without a TYPE/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx{a="\\q"} 1\n')).toThrow(/escape/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx 1\nx 2\n')).toThrow(/duplicate/);
    expect(() => parsePrometheusText('# TYPE x gauge\n# TYPE y gauge\ny 1\nx 1\n')).toThrow(/outside/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx one\n')).toThrow(/bad value/);
  });
});
