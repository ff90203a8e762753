import { describe, expect, it } from 'vitest';
import { parseTopic, topics } from '../../protocol/topics.js';
import { uuidv7 } from '../../protocol/uuid.js';
import { UUID_PATTERN } from '../../protocol/ids.js';

describe('topics', () => {
  it('builds the topics of the wire contract', () => {
    expect(topics.events('s-1', 't-1')).toBe('tillgate/v1/s-1/t-1/events');
    expect(topics.ack('s-1', 't-1')).toBe('tillgate/v1/s-1/t-1/ack');
    expect(topics.gatewayStatus('s-1')).toBe('tillgate/v1/s-1/gateway/status');
  });

  it('parses what it builds and refuses anything else', () => {
    expect(parseTopic('tillgate/v1/s-1/t-1/events')).toEqual({ kind: 'events', store: 's-1', terminal: 't-1' });
    expect(parseTopic('tillgate/v1/s-1/gateway/status')).toEqual({ kind: 'gateway', store: 's-1', rest: 'status' });
    for (const bad of ['tillgate/v1/s-1/t-1/other', 'tillgate/v2/s-1/t-1/events', 'tillgate/v1/S/t-1/events', 'tillgate/v1/s-1/t-1/events/x', 'a/b', '']) {
      expect(parseTopic(bad)).toBeUndefined();
    }
  });
});

describe('uuid v7', () => {
  it('is a v7 UUID whose first 48 bits are the time in ms', () => {
    const id = uuidv7(0x0190_1234_5678, () => new Uint8Array(10).fill(0xff));
    expect(id).toMatch(UUID_PATTERN);
    expect(id.slice(0, 13)).toBe('01901234-5678');
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });
});
