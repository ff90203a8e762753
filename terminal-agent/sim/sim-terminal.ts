/**
 * One simulated terminal: a real agent (LevelDB outbox, MQTT.js publisher) on its own directory,
 * behind its own WiFi link (LinkProxy), with Poisson traffic and fault timers: WiFi drops of an
 * exponential length, restarts (stop and reopen from disk), a skewed clock, and optionally health
 * that degrades until it fails (degrader.ts: battery, WiFi or errors).
 */
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { ENDORSEMENT_ERROR_CODES, signEndorsement } from '../../protocol/endorsement.js';
import { TillgateError } from '../../protocol/errors.js';
import type { Signer } from '../../protocol/signer.js';
import { startAgentFromDir, type Agent } from '../agent.js';
import { createDeviceKey } from '../device-key.js';
import { enrollTerminal } from '../enroll.js';
import type { HostReadings } from '../host-readings.js';
import type { OfflineLimits } from '../limits.js';
import { TERMINAL_FILE, writeEndorsement, writePassword, writeTerminalFile } from '../terminal-dir.js';
import { Degrader, type DegradationPlan } from './degrader.js';
import { LinkProxy } from './link-proxy.js';
import { SimPspAuthoriser } from './psp-authoriser.js';
import { exponential } from './random.js';
import { nextTransaction } from './traffic.js';

export interface SimTerminalOptions {
  readonly store: string;
  readonly terminal: string;
  readonly dir: string;
  readonly gatewayUrl: string;
  readonly adminToken: string;
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly ratePerS: number;
  readonly wifiDropMeanS: number;
  readonly wifiUpMeanS: number;
  readonly restartEveryS: number;
  readonly clockSkewMs: number;
  readonly healthIntervalS: number;
  readonly random: () => number;
  readonly logger: Logger;
  readonly limits?: Partial<OfflineLimits>;
  /** Health that degrades until the terminal fails (the demo's prediction that comes true). */
  readonly degradation?: DegradationPlan;
  /** The PSP to authorise online payments with before recording them (psp-authoriser.ts). */
  readonly pspUrl?: string;
  /** The operator's provisioning key: endorses the device key of a new terminal directory. */
  readonly provisioning?: Signer;
}

export interface SimTerminalStats {
  readonly terminal: string;
  recorded: number;
  refused: Record<string, number>;
  restarts: number;
  drops: number;
  maxOutboxDepth: number;
  headSeq: number;
  ackedSeq: number;
  /** Events acknowledged during this run (a reused directory starts above 0). */
  acked: number;
  depth: number;
  rejected: number;
}

export class SimTerminal {
  readonly stats: SimTerminalStats;
  #agent: Agent | undefined;
  #proxy: LinkProxy;
  #timers = new Set<NodeJS.Timeout>();
  #state: 'new' | 'running' | 'draining' | 'stopped' = 'new';
  readonly #clock: Clock;
  #rssi = -55;
  #battery: number;
  /** A healthy terminal goes on its charger when low and comes off when full. */
  #docked = false;
  #restarting: Promise<void> | undefined;
  /** The acked seq when this run began: what was acked before is not this run's. */
  #baseAckedSeq: number | undefined;
  #degrader: Degrader | undefined;
  /** Dead by its degradation (agent stopped or link lost) until fixed. */
  #dead = false;
  readonly #psp: SimPspAuthoriser | undefined;

  constructor(private readonly o: SimTerminalOptions) {
    this.stats = { terminal: o.terminal, recorded: 0, refused: {}, restarts: 0, drops: 0, maxOutboxDepth: 0, headSeq: 0, ackedSeq: 0, acked: 0, depth: 0, rejected: 0 };
    this.#proxy = new LinkProxy(o.mqttHost, o.mqttPort);
    this.#battery = 60 + Math.floor(o.random() * 40);
    this.#clock = { now: () => Date.now() + o.clockSkewMs, monotonicMs: () => performance.now() };
    this.#psp = o.pspUrl === undefined ? undefined : new SimPspAuthoriser(o.pspUrl, o.store, o.terminal);
  }

  get agent(): Agent | undefined {
    return this.#agent;
  }

  /** Creates the key and enrolls on first use; a directory from an earlier run is reused. */
  async prepare(): Promise<void> {
    const { dir, store, terminal } = this.o;
    const exists = await access(join(dir, TERMINAL_FILE)).then(() => true, () => false);
    if (exists) return;
    if (this.o.provisioning === undefined) {
      throw new TillgateError(ENDORSEMENT_ERROR_CODES.missing, `a new simulated terminal needs an endorsement: give the operator's provisioning key (--provisioning-key-file)`);
    }
    await mkdir(dir, { recursive: true });
    const signer = await createDeviceKey(dir);
    await writeTerminalFile(dir, { store, terminal, kid: signer.kid });
    const publicKey = signer.publicKeyRaw.toString('base64url');
    const endorsement = await signEndorsement({ store, terminal, publicKey }, this.o.provisioning, new Date().toISOString());
    await writeEndorsement(dir, endorsement);
    const res = await enrollTerminal({ gatewayUrl: this.o.gatewayUrl, adminToken: this.o.adminToken, terminal, publicKey, endorsement });
    await writePassword(dir, res.password);
    await writeTerminalFile(dir, { store, terminal, kid: signer.kid, gatewayUrl: this.o.gatewayUrl });
  }

  async start(): Promise<void> {
    await this.#proxy.start();
    await this.#startAgent();
    this.refresh(); // fixes the acked base of this run
    this.#state = 'running';
    this.#scheduleTraffic();
    if (this.o.wifiDropMeanS > 0) this.#scheduleDrop();
    if (this.o.restartEveryS > 0) this.#scheduleRestart();
    if (this.o.degradation !== undefined) {
      this.#degrader = new Degrader(this.o.degradation, performance.now(), this.o.random);
      this.#scheduleDegradation();
    }
  }

  /** Where its degradation stands (for the simulator's summary), or null without one. */
  get degradation(): { mode: string; phase: string } | null {
    const d = this.#degrader;
    return d === undefined ? null : { mode: d.plan.mode, phase: d.phase(performance.now()) };
  }

  /** Stops traffic and faults, brings the link up (and a dead terminal back), and lets the outbox drain. */
  stopTraffic(): void {
    this.#state = 'draining';
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#proxy.setUp(true);
    if (this.#dead) this.#revive();
  }

  drained(): boolean {
    const a = this.#agent;
    return a !== undefined && a.outbox.state === 'open' && a.stats().depth === 0;
  }

  refresh(): SimTerminalStats {
    const a = this.#agent;
    if (a !== undefined && a.outbox.state === 'open') {
      const s = a.stats();
      this.#baseAckedSeq ??= s.ackedSeq;
      const acked = Math.max(0, s.ackedSeq - this.#baseAckedSeq);
      Object.assign(this.stats, { headSeq: s.headSeq, ackedSeq: s.ackedSeq, acked, depth: s.depth, rejected: s.rejected });
      this.stats.maxOutboxDepth = Math.max(this.stats.maxOutboxDepth, s.depth);
    }
    return this.stats;
  }

  async stop(): Promise<void> {
    this.stopTraffic();
    await this.#restarting;
    this.refresh();
    this.#state = 'stopped';
    await this.#agent?.stop();
    this.#agent = undefined;
    await this.#proxy.close();
  }

  /** Every second: the link flickers as the signal fades; at the failure it dies; later it is fixed. */
  #scheduleDegradation(): void {
    this.#after(1, () => {
      const d = this.#degrader!;
      const now = performance.now();
      const phase = d.phase(now);
      if (phase === 'degrading' && d.plan.mode === 'wifi' && this.#proxy.up && this.o.random() < d.dropChance(d.rssiDbm(this.#rssi, now), 1, now)) {
        this.stats.drops++;
        this.#proxy.setUp(false);
        this.#after(2 + this.o.random() * 8, () => {
          if (!this.#dead) this.#proxy.setUp(true);
        });
      }
      if (phase === 'dead' && !this.#dead) this.#kill();
      if (phase === 'fixed' && this.#dead) this.#revive();
      if (phase !== 'fixed') this.#scheduleDegradation();
    });
  }

  /** The failure: a dead battery or a hang stops the device; a lost signal cuts its link. */
  #kill(): void {
    this.#dead = true;
    this.o.logger.info('simulated terminal failed (degradation)', { mode: this.#degrader?.plan.mode });
    if (this.#degrader?.plan.mode === 'wifi') {
      this.#proxy.setUp(false);
      return;
    }
    const a = this.#agent;
    this.#agent = undefined;
    this.#restarting = (async () => {
      this.refresh();
      await a?.stop();
    })().finally(() => {
      this.#restarting = undefined;
    });
  }

  /** Someone fixes it: on its charger, access point back, restarted. */
  #revive(): void {
    this.#dead = false;
    this.#proxy.setUp(true);
    if (this.#agent !== undefined) return;
    const before = this.#restarting ?? Promise.resolve();
    this.#restarting = before
      .then(() => this.#startAgent())
      .catch((err: unknown) => this.o.logger.error('simulated terminal failed to come back', { err }))
      .finally(() => {
        this.#restarting = undefined;
      });
  }

  async #startAgent(): Promise<void> {
    this.#agent = await startAgentFromDir(this.o.dir, `mqtt://127.0.0.1:${this.#proxy.port}`, {
      clock: this.#clock,
      random: this.o.random,
      logger: this.o.logger,
      healthIntervalS: this.o.healthIntervalS,
      host: this.#host(),
      ...(this.o.limits === undefined ? {} : { limits: this.o.limits }),
    });
  }

  #after(seconds: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.#state === 'running') fn();
    }, Math.max(1, seconds * 1000));
    this.#timers.add(t);
  }

  #scheduleTraffic(): void {
    if (this.o.ratePerS <= 0) return;
    this.#after(exponential(this.o.random, 1 / this.o.ratePerS), () => {
      void this.#recordOne();
      this.#scheduleTraffic();
    });
  }

  async #recordOne(): Promise<void> {
    const a = this.#agent;
    if (a === undefined || a.outbox.state !== 'open') return; // rebooting: the cashier waits
    try {
      let tx = nextTransaction(this.o.random);
      const pays = this.#psp !== undefined && tx.type === 'payment' && tx.outcome === 'approved';
      // Online: authorise with the PSP first, under the id the event is recorded with.
      const authorised = pays && !a.isOffline() ? await this.#psp!.authorise(tx, this.#clock.now()) : null;
      if (authorised !== null) tx = authorised;
      const result = await a.record(tx);
      if (pays && authorised === null) this.#psp!.defer(result.id, tx);
      if (this.#psp !== undefined && !a.isOffline()) await this.#psp.flush();
      this.stats.recorded++;
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? 'ERROR');
      this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
    }
    this.refresh();
  }

  #scheduleDrop(): void {
    this.#after(exponential(this.o.random, this.o.wifiUpMeanS), () => {
      this.stats.drops++;
      this.#proxy.setUp(false);
      this.#after(exponential(this.o.random, this.o.wifiDropMeanS), () => {
        this.#proxy.setUp(true);
        this.#scheduleDrop();
      });
    });
  }

  #scheduleRestart(): void {
    this.#after(this.o.restartEveryS * (0.5 + this.o.random()), () => {
      this.#restarting = this.#restart().finally(() => {
        this.#restarting = undefined;
      });
    });
  }

  /** A reboot: the agent stops (outbox closed, link gone) and starts again from its directory. */
  async #restart(): Promise<void> {
    const a = this.#agent;
    this.refresh();
    this.#agent = undefined;
    await a?.stop();
    this.stats.restarts++;
    try {
      await this.#startAgent();
    } catch (err) {
      this.o.logger.error('simulated terminal failed to restart', { err });
      return;
    }
    this.#scheduleRestart();
  }

  /**
   * Simulated radio and battery: RSSI wanders and falls while the link is down; battery drains.
   * A degrading terminal's readings follow its degradation instead.
   */
  #host(): HostReadings {
    const now = () => performance.now();
    return {
      rssiDbm: async () => {
        this.#rssi = Math.max(-72, Math.min(-45, this.#rssi + (this.o.random() - 0.5) * 3));
        const rssi = this.#degrader?.rssiDbm(this.#rssi, now()) ?? this.#rssi;
        return Math.round(this.#proxy.up ? rssi : Math.min(rssi, -82));
      },
      batteryPct: async () => {
        const degraded = this.#degrader?.batteryPct(now()) ?? null;
        if (degraded !== null) return Math.round(degraded);
        if (this.#battery < 30) this.#docked = true;
        if (this.#battery > 95) this.#docked = false;
        this.#battery = Math.min(100, this.#battery + (this.#docked ? 0.3 : -this.o.random() * 0.03));
        return Math.round(this.#battery);
      },
      charging: async () => this.#degrader?.charging(now()) ?? this.#docked,
      firmware: async () => 'sim-4.2.3',
      deviceErrors: async () => this.#degrader?.deviceErrors(now()) ?? 0,
    };
  }
}
