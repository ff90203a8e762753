import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/logger.js';

function logged(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l) }).error('x', fields);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('logger redaction', () => {
  it('logger - keeps a payment id whose hex groups hold many digits readable', () => {
    const id = '01920712-3456-7123-a083-0f4b362db599';
    expect(logged({ id }).id).toBe(id);
  });

  it('logger - still masks a card-shaped digit run, with or without separators, anywhere else', () => {
    expect(logged({ note: 'card 4111 1111 1111 1111 used' }).note).toBe('card [card-number?] used');
    expect(logged({ note: '4111111111111111' }).note).toBe('[card-number?]');
    expect(logged({ note: 'id 01920712-3456-7123-a083 truncated' }).note).toContain('[card-number?]');
  });

  it('logger - replaces fields whose names look secret', () => {
    expect(logged({ adminToken: 'abc', password: 'p' })).toMatchObject({ adminToken: '[redacted]', password: '[redacted]' });
  });
});
