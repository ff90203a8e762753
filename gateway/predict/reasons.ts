/**
 * Why a subject is at risk, in plain words with what to do ("battery falling 9 %/h, empty in
 * about 40 min: put lane 7 on its charger"). The model says which detectors push the risk up (each
 * feature's contribution to the log-odds); the detectors' facts supply the numbers. A family
 * (battery, wifi, errors, outbox, rtt; the WAN's rtt and loss) speaks when its contributions add
 * up to at least REASON_MIN_LOGODDS; at most MAX_ALERT_REASONS, strongest first.
 */
import { MAX_ALERT_REASONS, MAX_REASON_CHARS } from '../../protocol/prediction.js';
import type { TerminalFacts, TerminalFeature } from './features/terminal.js';
import type { WanFacts, WanFeature } from './features/wan.js';

/** A family must add this much to the log-odds to be named (about a 1.35× odds ratio). */
export const REASON_MIN_LOGODDS = 0.3;

const round = (x: number) => Math.round(x);

/** "about 40 min", "about 2 h 10 min", "less than 5 min". */
export function aboutDuration(minutes: number): string {
  if (minutes < 5) return 'less than 5 min';
  if (minutes < 60) return `about ${round(minutes / 5) * 5} min`;
  const h = Math.floor(minutes / 60);
  const m = round((minutes - h * 60) / 10) * 10;
  return m === 0 || m === 60 ? `about ${m === 60 ? h + 1 : h} h` : `about ${h} h ${m} min`;
}

function familyScores<F extends string>(features: readonly F[], c: Float64Array): [string, number][] {
  const byFamily = new Map<string, number>();
  features.forEach((f, j) => {
    const family = f.slice(0, f.indexOf('.'));
    byFamily.set(family, (byFamily.get(family) ?? 0) + Math.max(0, c[j] ?? 0));
  });
  return [...byFamily].filter(([, v]) => v >= REASON_MIN_LOGODDS).sort((a, b) => b[1] - a[1]);
}

function bounded(sentences: string[]): string[] {
  return sentences.slice(0, MAX_ALERT_REASONS).map((s) => (s.length > MAX_REASON_CHARS ? `${s.slice(0, MAX_REASON_CHARS - 1)}…` : s));
}

export function terminalReasons(terminal: string, f: TerminalFacts, features: readonly TerminalFeature[], c: Float64Array): string[] {
  const out: string[] = [];
  for (const [family] of familyScores(features, c)) {
    const sentence = terminalSentence(family, terminal, f);
    if (sentence !== null && !out.includes(sentence)) out.push(sentence);
  }
  return bounded(out);
}

function terminalSentence(family: string, terminal: string, f: TerminalFacts): string | null {
  switch (family) {
    case 'battery': {
      if (f.batteryPct === null) return null;
      const drain = f.drainPctPerH !== null && f.drainPctPerH >= 1 ? `, falling ${round(f.drainPctPerH)} %/h` : '';
      const empty = f.emptyInMin !== null ? `, empty in ${aboutDuration(f.emptyInMin)}` : '';
      // Against the terminal's own usual drain once it is known; until then, against what a shift on
      // one charge allows (a handheld that loses a quarter of its charge an hour will not last one).
      const usual = f.usualDrainPctPerH !== null && f.usualDrainPctPerH > 0 ? f.usualDrainPctPerH : null;
      const times = f.drainPctPerH !== null && usual !== null ? f.drainPctPerH / usual : 0;
      const worn = times >= 2
        ? ` (it drains ${round(times)}× faster than usual: the battery is worn, replace it)`
        : usual === null && f.drainPctPerH !== null && f.drainPctPerH >= 25 ? ' (the battery drains unusually fast: replace it if this repeats)' : '';
      return `battery at ${round(f.batteryPct)} %${drain}${empty}: put ${terminal} on its charger${worn}`;
    }
    case 'wifi': {
      const signal = f.rssiDbm === null ? 'WiFi signal fading' : `WiFi signal weak and fading (${round(f.rssiDbm)} dBm${f.rssiUsualDbm === null ? '' : `, usually ${round(f.rssiUsualDbm)} dBm`})`;
      const drops = f.reconnects15Min >= 1 ? `, ${round(f.reconnects15Min)} reconnects in 15 min` : '';
      return `${signal}${drops}: move ${terminal} closer to the access point, or check the access point`;
    }
    case 'errors': {
      const usual = f.errorsUsualPerH < 1 ? 'usually under 1 an hour' : `usually about ${round(f.errorsUsualPerH)} an hour`;
      const fw = f.firmware === null ? '' : ` (firmware ${f.firmware})`;
      return `errors piling up: ${round(f.errors15Min)} in the last 15 min, ${usual}: restart ${terminal} before it hangs, and report its firmware${fw} if this repeats`;
    }
    case 'outbox':
      if (f.outboxDepth === 0) return null;
      return `${f.outboxDepth} payment${f.outboxDepth === 1 ? '' : 's'} waiting on ${terminal}${f.outboxOldestAgeS >= 60 ? ` for ${aboutDuration(f.outboxOldestAgeS / 60).replace('about ', '')}` : ''}: check its network connection`;
    case 'rtt':
      if (f.rttMs === null) return null;
      return `slow to reach the gateway (${round(f.rttMs)} ms${f.rttUsualMs === null ? '' : `, usually ${round(f.rttUsualMs)} ms`}): check ${terminal}'s WiFi and restart it if it is sluggish`;
    default:
      return null;
  }
}

export function wanReasons(f: WanFacts, features: readonly WanFeature[], c: Float64Array): string[] {
  const out: string[] = [];
  const action = 'check the router and call the internet provider';
  for (const [family] of familyScores(features, c)) {
    if (family === 'rtt' && f.rttMs !== null) {
      out.push(`internet round trip rising: ${round(f.rttMs)} ms${f.rttUsualMs === null ? '' : `, usually ${round(f.rttUsualMs)} ms`}: ${action}`);
    } else if (family === 'loss') {
      const pct = (x: number) => (x < 0.01 ? 'under 1 %' : `${round(x * 100)} %`);
      out.push(`probes to the cloud failing: ${pct(f.lossRecent)} of the last 10 min, usually ${pct(f.lossUsual)}: ${action}`);
    }
  }
  return bounded(out);
}
