/** The wire contract of DESIGN §3 as code. Imported by all three programs; imports none of them. */
export * from './errors.js';
export * from './ids.js';
export * as base64url from './base64url.js';
export * from './keys.js';
export * from './signer.js';
export * from './event.js';
export * from './jws.js';
export * from './endorsement.js';
export * from './chain.js';
export * from './pan.js';
export * from './topics.js';
export * from './messages.js';
export * from './ingest-api.js';
export * from './uuid.js';
export * from './adyen.js';
export * from './payments.js';
export * from './psp-api.js';
