import { describe, expect, it } from 'vitest';
import { IngestBodyWriter } from '../../gateway/forwarder/ingest-body.js';
import type { IngestRequest } from '../../protocol/ingest-api.js';
import { signChain, testSigner } from '../support/events.js';

const request = (events: string[]): IngestRequest => ({
  gateway: 'g-1',
  store: 's-1',
  batch: '01936a1b-0000-7000-8000-000000000001',
  enrollments: [{ terminal: 't-1', kid: 'k'.repeat(43), publicKey: 'p'.repeat(43), at: '2026-11-22T09:00:00.000Z' }],
  events,
});

describe('ingest body writer', () => {
  it('writes exactly the bytes of JSON.stringify of the request, with and without events', async () => {
    const chain = await signChain(testSigner('t-1'), 's-1', 't-1', 5);
    const writer = new IngestBodyWriter();
    for (const req of [request(chain.map((e) => e.jws)), request([])]) {
      const body = writer.take(req);
      expect(body.toString('utf8')).toBe(JSON.stringify(req));
      writer.release(body);
    }
  });

  it('reuses its buffer for the next batch only after the last one was released', async () => {
    const chain = await signChain(testSigner('t-1'), 's-1', 't-1', 3);
    const writer = new IngestBodyWriter();
    const first = writer.take(request(chain.map((e) => e.jws)));
    const second = writer.take(request(chain.slice(0, 1).map((e) => e.jws)));
    expect(second.buffer).not.toBe(first.buffer); // first still in use: a fresh buffer
    const firstText = first.toString('utf8');
    writer.release(first);
    const third = writer.take(request(chain.slice(0, 2).map((e) => e.jws)));
    expect(third.buffer).toBe(first.buffer);
    expect(JSON.parse(third.toString('utf8'))).toEqual(request(chain.slice(0, 2).map((e) => e.jws)));
    expect(firstText).toBe(JSON.stringify(request(chain.map((e) => e.jws))));
  });
});
