import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatBytes,
  formatDuration,
  formatMoney,
  formatMoneyByCurrency,
  minorUnitExponent,
  plural,
} from '../../gateway/status-page/format.js';

describe('status page formatting', () => {
  it('format - shows money from minor units with thousands separators', () => {
    expect(formatMoney(421_050, 'EUR')).toBe('EUR 4,210.50');
    expect(formatMoney(5, 'EUR')).toBe('EUR 0.05');
    expect(formatMoney(0, 'USD')).toBe('USD 0.00');
    expect(formatMoney(123_456_789_012, 'GBP')).toBe('GBP 1,234,567,890.12');
  });

  it('format - respects ISO 4217 exponents that are not 2', () => {
    expect(minorUnitExponent('JPY')).toBe(0);
    expect(formatMoney(1200, 'JPY')).toBe('JPY 1,200');
    expect(formatMoney(1_234_567, 'KWD')).toBe('KWD 1,234.567');
    expect(formatMoney(10_000, 'CLF')).toBe('CLF 1.0000');
    expect(formatMoney(7, 'eur')).toBe('EUR 0.07');
  });

  it('format - refuses amounts that are not safe integers', () => {
    expect(() => formatMoney(1.5, 'EUR')).toThrow(TypeError);
    expect(() => formatMoney(2 ** 60, 'EUR')).toThrow(TypeError);
  });

  it('format - lists money per currency, never summed, in a stable order', () => {
    expect(formatMoneyByCurrency({ USD: 1200, EUR: 421_050 })).toBe('EUR 4,210.50 + USD 12.00');
    expect(formatMoneyByCurrency({})).toBe('');
    expect(formatMoneyByCurrency({ EUR: 1, USD: 1, GBP: 1, JPY: 1, CHF: 1 })).toBe('CHF 0.01 + EUR 0.01 + GBP 0.01 + 2 more currencies');
  });

  it('format - says durations the way people do', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_900)).toBe('45 s');
    expect(formatDuration(12 * 60_000 + 59_000)).toBe('12 min');
    expect(formatDuration(2 * 3_600_000)).toBe('2 h');
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(formatDuration(86_400_000)).toBe('1 day');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 days 4 h');
    expect(formatDuration(-5)).toBe('0 s');
  });

  it('format - says how long ago, and never for unknown times', () => {
    expect(formatAgo(null, 1_000_000)).toBe('never');
    expect(formatAgo(999_500, 1_000_000)).toBe('just now');
    expect(formatAgo(996_000, 1_000_000)).toBe('4 s ago');
    expect(formatAgo(1_000_000 - 3 * 60_000, 1_000_000)).toBe('3 min ago');
  });

  it('format - counts with the right plural and byte sizes in binary units', () => {
    expect(plural(1, 'payment')).toBe('1 payment');
    expect(plural(1342, 'payment')).toBe('1,342 payments');
    expect(plural(2, 'payment was', 'payments were')).toBe('2 payments were');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 1024 ** 3)).toBe('12.0 GiB');
  });
});

describe('status page words', () => {
  it('words - cloud failure codes and sender states read as words, the code kept for support', async () => {
    const { cloudErrorWords, forwarderStateWords } = await import('../../gateway/status-page/words.js');
    expect(cloudErrorWords('NETWORK')).toBe('cannot reach the cloud (NETWORK)');
    expect(cloudErrorWords('HTTP_503')).toBe('the cloud had an error (HTTP_503)');
    expect(cloudErrorWords('HTTP_401')).toBe("the cloud refused this gateway's token (HTTP_401)");
    expect(cloudErrorWords('SOMETHING_NEW')).toBe('SOMETHING_NEW');
    expect(forwarderStateWords('backoff')).toBe('waiting to retry');
    expect(forwarderStateWords('not running')).toBe('off — no cloud configured');
  });
});
