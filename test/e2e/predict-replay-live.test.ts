/**
 * Proves that `tillgate predict replay` runs the same scoring as the live gateway: a real gateway
 * (real Aedes, LevelDB, HTTP; a fake clock; a hand-made model file) receives health samples from
 * two terminals over real MQTT — one with a battery running out, one on its charger — and warns
 * about the first live; its health history, exported from GET /api/health/records, is replayed by
 * the real `tillgate predict replay` process, which prints exactly the alerts the gateway raised.
 * The same run checks what /api/status, the page and /metrics say about the warned terminal.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/topics.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, TILLGATE_BIN } from '../support/tillgate-process.js';
import { waitFor } from '../support/wait.js';
import { connectTerminal, enroll, startTestGateway, STORE, stopTestGateway, type TestGateway } from '../gateway/support.js';
import { testModel } from '../predict/support/test-model.js';

const run = promisify(execFile);
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const ROUNDS = 100;

describe('failure prediction, live and replayed', () => {
  let dir = '';
  let modelFile = '';
  let t: TestGateway | undefined;
  const clients: MqttClient[] = [];
  const clock = new FakeClock(T0);

  beforeAll(async () => {
    assertBuilt();
    dir = await makeTempDir('tillgate-predict-');
    modelFile = join(dir, 'model.json');
    await writeFile(modelFile, JSON.stringify(testModel()));
    t = await startTestGateway({ dataDir: join(dir, 'gw'), predictModel: modelFile }, { clock });
    for (const id of ['t-07', 't-08']) clients.push(await connectTerminal(t.gw, id, (await enroll(t.gw, id)).password));
    const [dying, docked] = clients as [MqttClient, MqttClient];
    for (let i = 0; i < ROUNDS; i++) {
      const sample = (battery: number, charging: boolean) => JSON.stringify({ at: new Date(clock.now() - 2_000).toISOString(), batteryPct: battery, charging, rssiDbm: -60, rttMs: 9, reconnects: 0, errors: 0, outboxDepth: 0, outboxOldestAgeS: 0 });
      dying.publish(topics.health(STORE, 't-07'), sample(Math.round(30 - (30 * i * 30) / 3600), false), { qos: 0 });
      await waitFor(() => t!.gw.health.stats.accepted === 2 * i + 1, { what: `sample ${i} of t-07` });
      docked.publish(topics.health(STORE, 't-08'), sample(Math.min(100, 60 + i), true), { qos: 0 });
      await waitFor(() => t!.gw.health.stats.accepted === 2 * i + 2, { what: `sample ${i} of t-08` });
      clock.advance(30_000);
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await stopTestGateway(t);
    if (dir !== '') await removeDir(dir);
  });

  it('predict - the gateway warns live about the battery running out, and not about the one on its charger', () => {
    const live = t!.gw.prediction.recentAlerts(1_000).reverse();
    expect(live.map((a) => `${a.subject} ${a.level}`)).toEqual(['terminal/t-07 warning', 'terminal/t-07 critical']);
    expect(live[0]!.reasons[0]).toMatch(/^battery at \d+ %, falling \d+ %\/h, empty in .+: put t-07 on its charger/);
  });

  it('predict - replaying the exported health history prints exactly the alerts the gateway raised live', async () => {
    const res = await t!.gw.app.request(`/api/health/records?since=${T0 - 60_000}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await res.text();
    expect(text.trim().split('\n')).toHaveLength(2 * ROUNDS);
    const file = join(dir, 'history.jsonl');
    await writeFile(file, text);
    const { stdout, stderr } = await run(process.execPath, [TILLGATE_BIN, 'predict', 'replay', '--input', file, '--model', modelFile], { timeout: 30_000 });
    const replayed = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const live = t!.gw.prediction.recentAlerts(1_000).reverse().map(({ atMs: _atMs, ...alert }) => alert);
    expect(replayed).toEqual(live);
    expect(JSON.parse(stderr.trim())).toMatchObject({ replay: { records: 2 * ROUNDS, alerts: live.length, model: 'test-1' } });
  });

  it('predict - /api/status, the page and /metrics show the risk, its level and the reasons', async () => {
    const status = (await (await t!.gw.app.request('/api/status')).json()) as {
      terminals: { terminal: string; risk: { level: string; risk: number; reasons: string[] } | null }[];
      prediction: { modelVersion: string; atRisk: { subject: string }[]; recentAlerts: { level: string }[] };
    };
    const dying = status.terminals.find((x) => x.terminal === 't-07')!;
    expect(dying.risk).toMatchObject({ level: 'critical' });
    expect(dying.risk!.reasons[0]).toMatch(/put t-07 on its charger/);
    expect(status.terminals.find((x) => x.terminal === 't-08')!.risk).toMatchObject({ level: 'clear', reasons: [] });
    expect(status.prediction).toMatchObject({ modelVersion: 'test-1', atRisk: [{ subject: 'terminal/t-07' }] });
    const page = await (await t!.gw.app.request('/')).text();
    expect(page).toMatch(/<h1 id="headline">Terminal t-07 is likely to fail soon — battery at \d+ %/);
    expect(page).toContain('id="risk-terminal-t-07"');
    expect(page).toMatch(/RISK_CRITICAL/);
    const metrics = await (await t!.gw.app.request('/metrics')).text();
    expect(metrics).toMatch(/^tillgate_predict_risk\{subject="terminal\/t-07"\} 0\.9\d*$/m);
    expect(metrics).toMatch(/^tillgate_predict_level\{subject="terminal\/t-07"\} 2$/m);
    expect(metrics).toContain('tillgate_predict_model_info{version="test-1"} 1');
    expect(metrics).toMatch(/^tillgate_predict_alerts_total\{level="critical"\} 1$/m);
    expect(metrics).not.toMatch(/=""/);
  });
});
