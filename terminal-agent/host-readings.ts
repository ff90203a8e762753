/**
 * Signal strength, battery and charging state from the host where Linux exposes them (DESIGN §5.3):
 * `/proc/net/wireless` (the "level" column, dBm), `/sys/class/power_supply/<name>/capacity` (%) and
 * its `status` (Charging, Full, Discharging). Null where the host has none of them (a wired test
 * machine); the simulator supplies its own values.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface HostReadings {
  rssiDbm(): Promise<number | null>;
  batteryPct(): Promise<number | null>;
  /** On a charger or mains power; null when the host cannot tell. */
  charging?(): Promise<boolean | null>;
  /** Firmware version string, when the host knows one. */
  firmware?(): Promise<string | null>;
  /** Device errors outside the agent (card reader, printer) since the agent started; added to `errors`. */
  deviceErrors?(): Promise<number>;
}

/** `status` of a power supply → charging: "Full" counts (it sits on its charger). */
export function parseChargingStatus(text: string): boolean | null {
  const s = text.trim().toLowerCase();
  if (s === 'charging' || s === 'full') return true;
  if (s === 'discharging' || s === 'not charging') return false;
  return null;
}

export interface HostPaths {
  readonly wireless: string;
  readonly powerSupply: string;
}

export const DEFAULT_HOST_PATHS: HostPaths = Object.freeze({ wireless: '/proc/net/wireless', powerSupply: '/sys/class/power_supply' });

/** Parses /proc/net/wireless: `wlan0: 0000   54.  -56.  -256 …` → -56. */
export function parseWireless(text: string): number | null {
  for (const line of text.split('\n').slice(2)) {
    const cols = line.trim().split(/\s+/);
    const level = Number.parseFloat(cols[3] ?? '');
    if (cols[0]?.endsWith(':') && Number.isFinite(level) && level < 0 && level >= -150) return level;
  }
  return null;
}

export function linuxHostReadings(paths: HostPaths = DEFAULT_HOST_PATHS): HostReadings {
  return {
    async rssiDbm() {
      try {
        return parseWireless((await readFile(paths.wireless, 'utf8')).slice(0, 64 * 1024));
      } catch {
        return null;
      }
    },
    async batteryPct() {
      try {
        for (const name of (await readdir(paths.powerSupply)).slice(0, 16)) {
          const text = await readFile(join(paths.powerSupply, name, 'capacity'), 'utf8').catch(() => '');
          const pct = Number.parseInt(text.trim(), 10);
          if (Number.isInteger(pct) && pct >= 0 && pct <= 100) return pct;
        }
      } catch {
        // no power_supply class: a mains-powered host
      }
      return null;
    },
    async charging() {
      try {
        for (const name of (await readdir(paths.powerSupply)).slice(0, 16)) {
          const text = await readFile(join(paths.powerSupply, name, 'status'), 'utf8').catch(() => '');
          const charging = parseChargingStatus(text.slice(0, 64));
          if (charging !== null) return charging;
        }
      } catch {
        // no power_supply class
      }
      return null;
    },
  };
}
