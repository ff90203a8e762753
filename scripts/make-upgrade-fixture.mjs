#!/usr/bin/env node
// Writes the data an earlier release leaves behind, with THAT release's own code, for the upgrade
// test (test/e2e/upgrade.test.ts): a cloud ledger, a gateway store with a backlog it has not yet
// forwarded, and a terminal directory whose outbox holds payments the gateway has not yet acked.
//
//   git worktree add --detach /tmp/prev <release commit> && (cd /tmp/prev && npm ci && npm run build)
//   node scripts/make-upgrade-fixture.mjs /tmp/prev test/fixtures/upgrade/<release>
//
// Only the earlier release's public CLI is used, on 127.0.0.1 and ephemeral ports. What it leaves:
//   cloud/      20 payments of t-01 accepted
//   gateway/    35 payments of t-01 stored, the last 15 not yet forwarded (a WAN outage)
//   terminal/   45 payments recorded, the last 10 not yet acked (the gateway was down)
//   expect.json the ids of all 45, for the test
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const [prevDir, outArg] = process.argv.slice(2);
if (!prevDir || !outArg) {
  console.error('usage: node scripts/make-upgrade-fixture.mjs PREVIOUS_RELEASE_DIR OUT_DIR');
  process.exit(2);
}
const bin = join(resolve(prevDir), 'dist', 'bin', 'tillgate.js');
const out = resolve(outArg);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const ADMIN = 'fixture-admin-token-0123456789';
const CLOUD_TOKEN = 'fixture-cloud-token-0123456789';

function start(args) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((res, rej) => {
    createInterface({ input: child.stdout }).once('line', (l) => res(JSON.parse(l)));
    child.once('exit', (c) => rej(new Error(`${args[0]} exited ${c}`)));
  });
  return { child, ready, stop: () => new Promise((res) => { child.once('exit', res); child.kill('SIGTERM'); }) };
}
function run(args) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.once('exit', (c) => (c === 0 ? res(stdout) : rej(new Error(`${args.join(' ')} exited ${c}`))));
  });
}
async function until(what, fn, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cloud = start(['cloud', '--data-dir', join(out, 'cloud'), '--host', '127.0.0.1', '--http-port', '0', '--admin-token', ADMIN, '--gateways', `g-1:s-1:${CLOUD_TOKEN}`, '--log-level', 'warn']);
const { url: cloudUrl } = await cloud.ready;
console.error('fixture: cloud ready');
let gateway = start(['gateway', '--data-dir', join(out, 'gateway'), '--store', 's-1', '--gateway-id', 'g-1', '--admin-token', ADMIN, '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0', '--cloud-url', cloudUrl, '--cloud-token', CLOUD_TOKEN, '--log-level', 'warn']);
let g = await gateway.ready;
console.error('fixture: gateway ready');
const termDir = join(out, 'terminal');
await run(['terminal', 'init', '--store', 's-1', '--terminal', 't-01', '--dir', termDir]);
await run(['enroll', '--gateway-url', g.httpUrl, '--admin-token', ADMIN, '--dir', termDir]);
const agent = start(['terminal', 'run', '--dir', termDir, '--gateway', `mqtt://127.0.0.1:${g.mqttPort}`, '--api-port', '0', '--health-interval-s', '0', '--log-level', 'warn']);
const { apiUrl } = await agent.ready;
console.error('fixture: terminal ready');
const ids = [];
async function pay(i) {
  const res = await fetch(`${apiUrl}/record`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `fixture-${i}` },
    body: JSON.stringify({ type: i % 10 === 9 ? 'refund' : 'payment', at: new Date().toISOString(), amount: 1000 + i, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242', token: `tok_fixture_${i}` } }),
  });
  if (res.status !== 201) throw new Error(`record ${i}: ${res.status} ${await res.text()}`);
  ids.push((await res.json()).id);
}
const status = async () => (await fetch(`${g.httpUrl}/api/status`)).json();
const cloudHead = async () => {
  const r = await fetch(`${cloudUrl}/v1/stores/s-1/terminals/t-01/events?after=0&limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await r.json()).head;
};
// A fresh terminal refuses payments (NOT_SYNCED) until it has reached its gateway once.
await until('terminal synced', async () => {
  try {
    await pay(1);
    return true;
  } catch (err) {
    if (String(err.message).includes('NOT_SYNCED')) return false;
    throw err;
  }
});
for (let i = 2; i <= 20; i++) await pay(i);
console.error('fixture: 20 recorded');
await until('cloud holds 20', async () => (await cloudHead()) === 20);
// A WAN outage: the next 15 stay in the gateway's backlog.
await fetch(`${g.httpUrl}/api/wan/outage`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 3600 }) });
for (let i = 21; i <= 35; i++) await pay(i);
console.error('fixture: cloud has 20; outage');
await until('gateway holds 35', async () => (await status()).terminals[0].headSeq === 35);
await gateway.stop();
// The gateway is down: the last 10 stay in the terminal's outbox.
for (let i = 36; i <= 45; i++) await pay(i);
await agent.stop();
await cloud.stop();
writeFileSync(join(out, 'expect.json'), `${JSON.stringify({ store: 's-1', terminal: 't-01', adminToken: ADMIN, cloudToken: CLOUD_TOKEN, inCloud: 20, atGateway: 35, recorded: 45, ids }, null, 2)}\n`);
console.log(JSON.stringify({ out, recorded: ids.length }));
