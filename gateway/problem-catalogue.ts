/**
 * Every problem the gateway can name, in one table: its stable code, how urgent it is, its title
 * and what a technician standing in the store does about it, in plain words. The status page, the
 * status API (`problems` in /api/status) and the operator guide all read this table, so they say
 * the same thing (the table in `docs/status-page.md` is generated from it by
 * `npm run docs:problems`, and a test keeps them in step).
 *
 * The order of the table is the order of urgency: the page's headline is the first problem that
 * applies. Codes are an open set for readers of the API: a script meeting a code it does not know
 * shows its title and action as given.
 */

export type ProblemLevel = 'alarm' | 'warn';
/** What a problem is about: a terminal (by id), the internet link, the cloud, or the gateway itself. */
export type ProblemSubject = 'terminal' | 'wan' | 'cloud' | 'gateway';

export interface ProblemInfo {
  readonly level: ProblemLevel;
  readonly subject: ProblemSubject;
  /** A few words, as a list or a history entry shows it. */
  readonly title: string;
  /** What to do, for a technician in the store (the page may add facts of the moment, e.g. limits). */
  readonly action: string;
}

export const PROBLEM_CATALOGUE = {
  STORE_DAMAGED: {
    level: 'alarm',
    subject: 'gateway',
    title: 'Storage damaged',
    action:
      "Do not delete, wipe or reset anything. Back up the gateway's data directory, then call support: the gateway needs repaired storage and a restart. Meanwhile the tills keep every payment on their own devices.",
  },
  STORE_FULL: {
    level: 'alarm',
    subject: 'gateway',
    title: 'Storage full',
    action:
      "Free space on the gateway's disk (remove other files, or give it a larger disk); never delete tillgate's data directory. The gateway takes payments again by itself once there is room; meanwhile the tills keep payments on their own devices.",
  },
  STORE_LOST: {
    level: 'alarm',
    subject: 'gateway',
    title: 'Storage lost data',
    action:
      "Keep the named tills switched on and connected: they send again what they still hold, and this clears by itself once they have. If it does not clear within an hour, back up the gateway's data directory and call support.",
  },
  RESTORE_UNCONFIRMED: {
    level: 'warn',
    subject: 'gateway',
    title: 'Restored from a backup, confirming tills',
    action:
      "Keep the internet line up and the tills on: the gateway asks the cloud which of their payments it already has, and this clears by itself. The named tills keep their new payments meanwhile; do not reset them. If it stays for more than an hour, check the cloud token and call support.",
  },
  WAN_OFFLINE: {
    level: 'alarm',
    subject: 'wan',
    title: 'Internet down',
    action:
      "Check the router and the internet line: power, cables and the router's lights; call the internet provider if it stays down. Payments are safe on this gateway and go to the cloud by themselves when the line is back.",
  },
  CLOUD_AUTH: {
    level: 'alarm',
    subject: 'cloud',
    title: 'The cloud refuses this gateway',
    action:
      "Nothing reaches the cloud until this is fixed: the operator must check this gateway's cloud token and the cloud's list of gateways. Payments stay safe on this gateway meanwhile.",
  },
  TERMINAL_BLOCKED: {
    level: 'alarm',
    subject: 'terminal',
    title: 'Till refusing payments',
    action:
      'Take payments on another till meanwhile. Do not reset or wipe this till: it holds payments. Call support with the code shown; once the gateway takes the held payment, the till carries on by itself.',
  },
  DEAD_LETTERS: {
    level: 'alarm',
    subject: 'cloud',
    title: 'Payments refused by the cloud',
    action:
      'Read the reason in the alarms below and have it fixed (often a till key the cloud does not trust: enroll the till again with its endorsement). Then log in as admin and press "Retry refused payments". They stay on this gateway until the cloud takes them.',
  },
  CONFLICT: {
    level: 'alarm',
    subject: 'terminal',
    title: 'Two different payments under one number',
    action:
      'The till may have been restored from a backup, cloned or replaced, or someone is tampering. Do not reset or wipe the till or the gateway. Note which till it is and call support; the payment stored first is kept, and the till moves the other one on by itself.',
  },
  SECURITY_REJECTS: {
    level: 'alarm',
    subject: 'terminal',
    title: 'Possible tampering',
    action:
      "Check the till is genuine and was enrolled with the operator's endorsement, and call support with the codes shown. Nothing from these was stored or sent.",
  },
  OFFLINE_REFUSED: {
    level: 'warn',
    subject: 'terminal',
    title: 'Till refused payments over its offline limits',
    action:
      'While a till cannot confirm payments it approves card payments only within its offline limits. Fix what keeps it offline (the internet link, or the till\'s WiFi); until then take cash or another way for what it refuses.',
  },
  OFFLINE_LIMIT_NEAR: {
    level: 'warn',
    subject: 'terminal',
    title: 'Till near its offline limit',
    action:
      'The till is holding payments this gateway has not stored, and refuses card payments once they pass its offline limits. Fix what keeps the gateway from storing them first (a full disk, damaged storage, a blocked till or a restore being confirmed, above); the till then sends them by itself. Past the limit take cash or another way.',
  },
  KEYS_NOT_ENDORSED: {
    level: 'warn',
    subject: 'terminal',
    title: "Till key without the operator's endorsement",
    action:
      "A cloud that checks endorsements refuses this till's payments. Have the operator endorse the till's key (tillgate provision endorse) and enroll the till again (tillgate enroll).",
  },
  TERMINAL_SILENT: {
    level: 'warn',
    subject: 'terminal',
    title: 'Till not seen',
    action:
      'Check the till is switched on, charged and on the store WiFi (signal, password). It keeps its payments itself and sends them when it is back.',
  },
  FAILURE_PREDICTED: {
    level: 'warn',
    subject: 'terminal',
    title: 'Failure predicted',
    action:
      'Nothing has failed yet: the health of the till (or of the internet link) says it is likely to within the next two hours. Do what the reason says (charge the till, move it closer to the access point, restart it, or check the router) while payments still go through; see Failure risk below.',
  },
  DISK_RESERVE: {
    level: 'warn',
    subject: 'gateway',
    title: 'Disk nearly full',
    action:
      "Free space on the gateway's disk now: it has started using the small reserve it keeps for this, and stops taking payments when the disk is full.",
  },
  DISK_FILLING: {
    level: 'warn',
    subject: 'gateway',
    title: 'Disk filling up',
    action:
      "Free space on the gateway's disk before then: remove other files on it, or give it a larger disk; never delete tillgate's data directory. If the internet is down, the payments waiting to be sent are what fills it: they leave by themselves once it is back.",
  },
  TERMINAL_DISCONNECTED: {
    level: 'warn',
    subject: 'terminal',
    title: 'Till disconnected',
    action:
      'Often a restart or a WiFi blip: it should be back within a few minutes. If it is not, check it is switched on and on the store WiFi.',
  },
  CLOCK_SKEW: {
    level: 'warn',
    subject: 'terminal',
    title: "Till's clock is wrong",
    action:
      "Set the till's date and time (turn on automatic time). Payment times from this till are off by that much until then.",
  },
  WAN_DEGRADED: {
    level: 'warn',
    subject: 'wan',
    title: 'Internet unreliable',
    action: 'Payments still go out, more slowly. Check the router and the line; call the internet provider if it lasts.',
  },
  NO_CLOUD: {
    level: 'warn',
    subject: 'cloud',
    title: 'No cloud configured',
    action:
      "The operator must set the cloud's address and this gateway's token (--cloud-url, --cloud-token); until then payments stay on this gateway. A gateway kept store-only on purpose (--store-only) says so: nothing to do.",
  },
  FORWARD_BEHIND: {
    level: 'warn',
    subject: 'cloud',
    title: 'Sending to the cloud is behind',
    action: 'It usually catches up by itself. If the number waiting keeps growing, check the internet speed; an admin can press "Send now".',
  },
  REJECTS: {
    level: 'warn',
    subject: 'terminal',
    title: 'Transactions refused',
    action: 'The till sends transactions the gateway cannot take. Note the code and call support; the till keeps them aside, nothing is lost.',
  },
} as const satisfies Record<string, ProblemInfo>;

export type ProblemCode = keyof typeof PROBLEM_CATALOGUE;

/** Codes in order of urgency (the table's order). */
export const PROBLEM_ORDER: readonly ProblemCode[] = Object.keys(PROBLEM_CATALOGUE) as ProblemCode[];

/** Position of `code` in the order of urgency (lower is more urgent). */
export function problemRank(code: ProblemCode): number {
  return PROBLEM_ORDER.indexOf(code);
}

/** The table as Markdown, for the operator guide (`npm run docs:problems`). */
export function problemCatalogueMarkdown(): string {
  const rows = PROBLEM_ORDER.map((code) => {
    const p: ProblemInfo = PROBLEM_CATALOGUE[code];
    const cell = (s: string) => s.replace(/\|/g, '\\|');
    return `| \`${code}\` | ${p.level === 'alarm' ? 'problem' : 'attention'} | ${p.subject} | ${cell(p.title)} | ${cell(p.action)} |`;
  });
  return ['| code | level | about | title | what to do |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
