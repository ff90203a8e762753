import { describe, expect, it } from 'vitest';
import { containsPan, luhnValid, valueContainsPan } from '../../protocol/pan.js';
import { uuidv7 } from '../../protocol/uuid.js';

describe('card-number detection', () => {
  it('finds Luhn-valid runs of 13 to 19 digits', () => {
    expect(containsPan('4111111111111111')).toBe(true); // Visa test card, 16
    expect(containsPan('x378282246310005y')).toBe(true); // Amex, 15
    expect(containsPan('4222222222222')).toBe(true); // 13 digits
  });

  it('finds printed groupings with spaces or dashes', () => {
    expect(containsPan('pan 4111 1111 1111 1111 exp 12/30')).toBe(true);
    expect(containsPan('3782-822463-10005')).toBe(true);
  });

  it('ignores Luhn-invalid runs, short runs and windows inside longer numbers', () => {
    expect(containsPan('4111111111111112')).toBe(false);
    expect(containsPan('123456789012')).toBe(false);
    expect(containsPan('41111111111111110000')).toBe(false); // 20 digits
  });

  it('never flags UUIDs or timestamps, whatever their digits', () => {
    for (let i = 0; i < 2000; i++) expect(containsPan(uuidv7(1_700_000_000_000 + i * 7919))).toBe(false);
    expect(containsPan('0123-4567-8901-2345-678901234567'.slice(0, 36))).toBe(false);
    expect(containsPan('2026-11-22T09:00:01.000Z')).toBe(false);
  });

  it('scans keys and values of nested JSON, including escaped digits', () => {
    expect(valueContainsPan(JSON.parse('{"a":{"b":["\\u0034111111111111111"]}}'))).toBe(true);
    expect(valueContainsPan({ amount: 4111111111111111 })).toBe(true);
    expect(valueContainsPan({ amount: 1234, card: { last4: '4242' } })).toBe(false);
  });

  it('implements the Luhn check', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});
