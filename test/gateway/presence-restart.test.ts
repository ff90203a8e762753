/**
 * "Last seen" survives a gateway restart: a terminal that has not come back after the restart is
 * named with the time it was last seen, not "never". Real gateway, LevelDB and MQTT.js client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logger.js';
import { Presence } from '../../gateway/presence.js';
import { loadLastSeen, PresenceLog } from '../../gateway/presence-log.js';
import { openDb, sectionsOf } from '../../gateway/store/sections.js';
import { SealCodec, staticKeyProvider } from '../../lib/at-rest/index.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { connectTerminal, endClient, enroll, startTestGateway, stopTestGateway, type TestGateway } from './support.js';

let t: TestGateway | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await stopTestGateway(t);
  t = undefined;
  for (const d of dirs.splice(0)) await removeDir(d);
});

interface TerminalJson {
  connected: boolean;
  lastSeenAt: string | null;
}
const terminalOf = async (tg: TestGateway, id: string) => (await (await tg.gw.app.request(`/api/terminals/${id}`)).json()) as TerminalJson;

describe('presence - last seen survives a restart', () => {
  it('presence - a terminal not back after a gateway restart keeps its last-seen time', async () => {
    t = await startTestGateway();
    const { password } = await enroll(t.gw, 't-1');
    const client = await connectTerminal(t.gw, 't-1', password);
    await endClient(client);
    await waitFor(async () => !(await terminalOf(t!, 't-1')).connected, { timeoutMs: 5_000, what: 'the disconnect' });
    const before = (await terminalOf(t, 't-1')).lastSeenAt;
    expect(before).not.toBeNull();
    await t.gw.close();
    t = await startTestGateway({ dataDir: t.dataDir });
    const after = await terminalOf(t, 't-1');
    expect(after).toMatchObject({ connected: false, lastSeenAt: before });
  });

  it('presence - many sightings between flushes write one record per terminal, the latest', async () => {
    const dir = await makeTempDir('tillgate-presence-');
    dirs.push(dir);
    const db = openDb(dir);
    await db.open();
    try {
      const section = sectionsOf(db, new SealCodec(staticKeyProvider([{ id: 'k-1', key: Buffer.alloc(32, 7) }], 'k-1'))).presence;
      const presence = new Presence(2);
      const log = new PresenceLog(db, section, presence, silentLogger);
      for (let i = 1; i <= 1_000; i++) presence.seen(`t-${i % 3}`, i);
      await log.flush();
      const stored = await loadLastSeen(section, 100, silentLogger);
      // Bounded by maxTerminals (2): the third terminal is not tracked at all.
      expect(stored).toEqual(new Map([['t-1', 1000], ['t-2', 998]]));
      expect(presence.takeChanged().size).toBe(0);
      await log.close();
      expect(new Presence(2, stored).get('t-1')).toEqual({ connected: false, lastSeenAtMs: 1000 });
    } finally {
      await db.close();
    }
  });
});
