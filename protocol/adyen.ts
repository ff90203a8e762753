/**
 * PSP notifications in Adyen's standard webhook format (DESIGN §3.6): the body schema with bounds,
 * and the HMAC-SHA256 signature Adyen puts in each item's `additionalData.hmacSignature`.
 *
 * The signature covers eight fields joined by `:` —
 * `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`
 * (a missing field is the empty string) — with the merchant's hex key, base64-encoded.
 *
 * Escaping: Adyen's own libraries join these eight fields as they are, without escaping `\` or `:`
 * (Adyen/adyen-java-api-library src/main/java/com/adyen/util/HMACValidator.java, and its test
 * vector `testValidateHMACWithoutEscaping` whose merchantReference is `\:/\/slashes are fun`;
 * Adyen/adyen-node-api-library src/utils/hmacValidator.ts; Adyen/adyen-dotnet-api-library
 * Adyen.Test/UtilTest.cs `TestColonAndBackslashHmacValidator`). Their escaping of `\` and `:` belongs
 * to the key/value (hosted payment page) signature. DESIGN §3.6 describes the eight fields "with
 * `\` and `:` escaped". The two strings are identical unless a field holds `\` or `:`, so a
 * signature is accepted when it matches either: Adyen's notifications verify, and so does a PSP
 * that followed the DESIGN text. Signing (the PSP simulator) uses Adyen's form.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Adyen's event codes tillgate acts on. The set is open: any other code is stored and ignored. */
export const ADYEN_EVENT_CODES = ['AUTHORISATION', 'CANCELLATION', 'CANCEL_OR_REFUND', 'REFUND', 'CAPTURE'] as const;

/** What an event code looks like on the wire, known or not: bounded, log-safe. */
export const ADYEN_EVENT_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The merchant's HMAC key: hex, as Adyen's Customer Area shows it (32 bytes = 64 hex digits). */
export const ADYEN_HMAC_KEY_PATTERN = /^(?:[0-9A-Fa-f]{2}){16,64}$/;

/** Bounds of one item: Adyen's references are 16–80 characters; room to spare. */
const MAX_REFERENCE_CHARS = 256;
const MAX_ADDITIONAL_DATA_ENTRIES = 64;
const MAX_ADDITIONAL_DATA_VALUE_CHARS = 2048;
/** HMAC-SHA256 in base64 is 44 characters; anything much longer is not a signature. */
const MAX_SIGNATURE_CHARS = 128;

const reference = z.string().max(MAX_REFERENCE_CHARS);

/** Adyen sends `value` as a JSON number; some of its own test fixtures have it as a digit string. */
const amountValueSchema = z.union([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^(?:0|[1-9]\d{0,15})$/).transform(Number),
]);

/** `success` is the string "true" or "false" in Adyen's JSON; a boolean is read the same way. */
const successSchema = z.union([z.enum(['true', 'false']), z.boolean().transform((b) => (b ? 'true' : 'false'))]);

export const notificationRequestItemSchema = z
  .object({
    eventCode: z.string().regex(ADYEN_EVENT_CODE_PATTERN, 'must be an upper-case event code'),
    success: successSchema,
    pspReference: reference.min(1),
    originalReference: reference.optional(),
    merchantAccountCode: reference,
    merchantReference: reference,
    amount: z.object({ value: amountValueSchema, currency: z.string().regex(/^[A-Z]{3}$/) }).loose(),
    eventDate: z.string().max(64),
    additionalData: z
      .record(z.string().max(128), z.string().max(MAX_ADDITIONAL_DATA_VALUE_CHARS))
      .refine((d) => Object.keys(d).length <= MAX_ADDITIONAL_DATA_ENTRIES, `at most ${MAX_ADDITIONAL_DATA_ENTRIES} entries`)
      .optional(),
    reason: z.string().max(MAX_ADDITIONAL_DATA_VALUE_CHARS).optional(),
  })
  // Other fields (paymentMethod, operations, …) are kept as they came and ignored.
  .loose();
export type NotificationRequestItem = z.output<typeof notificationRequestItemSchema>;
export type NotificationRequestItemInput = z.input<typeof notificationRequestItemSchema>;

export const adyenNotificationSchema = z
  .object({
    live: z.union([z.enum(['true', 'false']), z.boolean().transform((b) => (b ? 'true' : 'false'))]),
    notificationItems: z.array(z.object({ NotificationRequestItem: notificationRequestItemSchema }).loose()).min(1),
  })
  .loose();
export type AdyenNotification = z.output<typeof adyenNotificationSchema>;

/** Adyen's answer to a notification it should not send again (DESIGN §3.6). */
export const ADYEN_ACCEPTED = '[accepted]';

type SignedFields = Pick<NotificationRequestItemInput, 'pspReference' | 'originalReference' | 'merchantAccountCode' | 'merchantReference' | 'eventCode'> & {
  readonly amount: { readonly value: number | string; readonly currency: string };
  readonly success: string | boolean;
};

function fieldsOf(item: SignedFields): string[] {
  return [
    item.pspReference,
    item.originalReference ?? '',
    item.merchantAccountCode,
    item.merchantReference,
    String(item.amount.value),
    item.amount.currency,
    item.eventCode,
    String(item.success),
  ];
}

/** The string Adyen signs: the eight fields joined by `:`, as they are. */
export function adyenSigningString(item: SignedFields): string {
  return fieldsOf(item).join(':');
}

/** The eight fields with `\` and `:` escaped, as DESIGN §3.6 words it. */
export function escapedSigningString(item: SignedFields): string {
  return fieldsOf(item)
    .map((f) => f.replace(/\\/g, '\\\\').replace(/:/g, '\\:'))
    .join(':');
}

function hmacOf(keyHex: string, data: string): Buffer {
  if (!ADYEN_HMAC_KEY_PATTERN.test(keyHex)) throw new TypeError('the HMAC key must be hex (16–64 bytes)');
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(data, 'utf8').digest();
}

/** `additionalData.hmacSignature` for an item: what a PSP (the simulator) puts there. */
export function signAdyenItem(item: SignedFields, keyHex: string): string {
  return hmacOf(keyHex, adyenSigningString(item)).toString('base64');
}

/**
 * True when the item carries a signature made with `keyHex` over its eight fields (either form,
 * see the file comment). Constant-time: every candidate is computed and compared in full.
 */
export function verifyAdyenItem(item: SignedFields & { readonly additionalData?: Readonly<Record<string, string>> | undefined }, keyHex: string): boolean {
  const presented = item.additionalData?.hmacSignature;
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > MAX_SIGNATURE_CHARS) return false;
  const given = Buffer.from(presented, 'base64');
  // Re-encoding catches base64 that decodes to 32 bytes only because junk was skipped.
  if (given.length !== 32 || given.toString('base64') !== presented) return false;
  const plain = timingSafeEqual(given, hmacOf(keyHex, adyenSigningString(item)));
  const escaped = timingSafeEqual(given, hmacOf(keyHex, escapedSigningString(item)));
  return plain || escaped;
}
