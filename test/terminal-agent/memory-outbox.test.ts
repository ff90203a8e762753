/** The in-memory outbox (used by fast tests) passes the same conformance suite. */
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import { outboxConformance } from './outbox-conformance.js';

outboxConformance('memory outbox', async () => ({ outbox: new MemoryOutbox(), cleanup: async () => undefined }), { durable: false });
