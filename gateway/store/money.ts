/**
 * What an event means in money, decided once and kept with the record so no figure needs a scan.
 *
 * Only an approved payment is takings. A refund is money going back to a card: shown on its own,
 * never netted against takings. A void cancels an earlier transaction: counted on its own (it is not
 * money taken, and netting it needs the original, which may be long gone), never as takings. A
 * declined transaction moved no money: counted as an event, never in an amount. A type this gateway
 * does not know (types are an open set, DESIGN §3.2) is stored and forwarded untouched and shown as
 * "other", never as takings. Events written by a release that did not record the type or outcome are
 * `unclassified`: their amounts are shown apart, never as takings.
 */
export const TX_CLASSES = ['takings', 'refunds', 'voids', 'other', 'declined', 'unclassified'] as const;
export type TxClass = (typeof TX_CLASSES)[number];

/** A count of events and, for classes that carry money, their amounts per ISO 4217 currency. */
export interface MoneyBucket {
  readonly count: number;
  /** Minor units per currency; always empty for `declined` (a declined transaction moved no money). */
  readonly byCurrency: Readonly<Record<string, number>>;
}

export type MoneyTotals = Readonly<Record<TxClass, MoneyBucket>>;

const EMPTY_BUCKET: MoneyBucket = Object.freeze({ count: 0, byCurrency: Object.freeze({}) });

export const EMPTY_MONEY: MoneyTotals = Object.freeze({
  takings: EMPTY_BUCKET,
  refunds: EMPTY_BUCKET,
  voids: EMPTY_BUCKET,
  other: EMPTY_BUCKET,
  declined: EMPTY_BUCKET,
  unclassified: EMPTY_BUCKET,
});

/** The class of a transaction from its payload's `type` and `outcome` (DESIGN §3.2). */
export function classifyTransaction(type: string | undefined, outcome: string | undefined): TxClass {
  if (type === undefined || outcome === undefined) return 'unclassified';
  if (outcome !== 'approved') return 'declined';
  switch (type) {
    case 'payment':
      return 'takings';
    case 'refund':
      return 'refunds';
    case 'void':
      return 'voids';
    default:
      return 'other';
  }
}

/** Adds (`sign` 1) or removes (-1) one event of `cls` to the totals; currencies reaching 0 drop out. */
export function addToMoney(totals: MoneyTotals, cls: TxClass, currency: string, amount: number, sign: 1 | -1 = 1): MoneyTotals {
  const bucket = totals[cls];
  const byCurrency = cls === 'declined' ? bucket.byCurrency : addAmount(bucket.byCurrency, currency, amount, sign);
  return { ...totals, [cls]: { count: bucket.count + sign, byCurrency } };
}

/** `stored - forwarded` per class: what is still waiting for the cloud. */
export function subtractMoney(stored: MoneyTotals, forwarded: MoneyTotals): MoneyTotals {
  const out = {} as Record<TxClass, MoneyBucket>;
  for (const cls of TX_CLASSES) {
    const a = stored[cls];
    const b = forwarded[cls];
    let byCurrency: Record<string, number> = { ...a.byCurrency };
    for (const [currency, amount] of Object.entries(b.byCurrency)) byCurrency = addAmount(byCurrency, currency, amount, -1);
    out[cls] = { count: a.count - b.count, byCurrency };
  }
  return out;
}

/** Adds `sign * amount` to a per-currency sum, dropping currencies that reach zero. */
export function addAmount(sums: Readonly<Record<string, number>>, currency: string, amount: number, sign: 1 | -1 = 1): Record<string, number> {
  const out = { ...sums };
  const next = (out[currency] ?? 0) + sign * amount;
  if (next === 0) delete out[currency];
  else out[currency] = next;
  return out;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** True when `value` is a well-formed MoneyTotals read back from disk. */
export function isMoneyTotals(value: unknown): value is MoneyTotals {
  if (typeof value !== 'object' || value === null) return false;
  return TX_CLASSES.every((cls) => {
    const b = (value as Record<string, unknown>)[cls] as MoneyBucket | undefined;
    return (
      typeof b === 'object' && b !== null && isCount(b.count) && typeof b.byCurrency === 'object' && b.byCurrency !== null &&
      Object.values(b.byCurrency).every((v) => typeof v === 'number' && Number.isSafeInteger(v))
    );
  });
}

/**
 * Totals for data written before events were classified: everything the old counters knew is
 * `unclassified`, so the old backlog keeps showing (apart) and drains as the forwarder passes it.
 */
export function legacyMoney(events: number, byCurrency: Readonly<Record<string, number>> | undefined): MoneyTotals {
  return { ...EMPTY_MONEY, unclassified: { count: events, byCurrency: { ...(byCurrency ?? {}) } } };
}
