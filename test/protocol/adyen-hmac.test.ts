/**
 * Adyen's notification HMAC (DESIGN §3.6) checked against the keys and signatures Adyen publishes in
 * its own API libraries' tests, so "exactly as Adyen specifies" is measured against Adyen.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  adyenNotificationSchema,
  adyenSigningString,
  escapedSigningString,
  notificationRequestItemSchema,
  signAdyenItem,
  verifyAdyenItem,
  type NotificationRequestItemInput,
} from '../../protocol/adyen.js';

/** Adyen/adyen-node-api-library, src/__tests__/hmacValidator.spec.ts ("should have valid hmac"). */
const NODE_KEY = 'DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00';
const NODE_ITEM: NotificationRequestItemInput = {
  pspReference: 'pspReference',
  originalReference: 'originalReference',
  merchantAccountCode: 'merchantAccount',
  merchantReference: 'reference',
  amount: { currency: 'EUR', value: 1000 },
  eventCode: 'CAPTURE',
  eventDate: '1970-01-01T00:00:00.000Z',
  success: 'true',
  additionalData: { hmacSignature: 'xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0=' },
};

/** Adyen/adyen-java-api-library, src/test/java/com/adyen/util/HMACValidatorTest.java (testValidateHMAC). */
const JAVA_KEY = '9064450A8892A093D9E97EFCC9639DE31B74F3A7803135555A3C96F5A57915D6';
const JAVA_ITEM: NotificationRequestItemInput = {
  additionalData: { hmacSignature: 'NuEkADFmlCC6VgX+wcoPAegIWxVPNBPCuKlM4Hzo5qc=' },
  amount: { currency: 'EUR', value: '0' },
  eventCode: 'REPORT_AVAILABLE',
  eventDate: '2019-11-20T14:35:36+01:00',
  merchantAccountCode: 'Magento2Rik',
  merchantReference: 'testMerchantRef1',
  pspReference: 'test_REPORT_AVAILABLE',
  reason: 'will contain the url to the report',
  success: 'true',
};

/**
 * Adyen/adyen-java-api-library, src/test/resources/mocks/hmac-validation-webhook.json with the key of
 * testValidateHMACWithoutEscaping (the same vector is Adyen/adyen-dotnet-api-library
 * Adyen.Test/UtilTest.cs TestColonAndBackslashHmacValidator): `\` and `:` in a field are signed as they are.
 */
const SLASHES_KEY = '74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174';
const SLASHES_ITEM: NotificationRequestItemInput = {
  additionalData: { hmacSignature: 'CZErGCNQaSsxbaQfZaJlakqo7KPP+mIa8a+wx3yNs9A=', authCode: '052095', paymentMethod: 'visa' },
  amount: { currency: 'EUR', value: 1000 },
  eventCode: 'AUTHORISATION',
  eventDate: '2023-01-10T13:42:29+01:00',
  merchantAccountCode: 'AntoniStroinski',
  merchantReference: '\\:/\\/slashes are fun',
  pspReference: 'ZVWN7D3WSMK2WN82',
  reason: '052095:1111:03/2030',
  success: 'true',
};

const parse = (item: NotificationRequestItemInput) => notificationRequestItemSchema.parse(item);

describe('Adyen notification HMAC', () => {
  it('adyen hmac - the signing string is the eight fields in Adyen\'s order', () => {
    expect(adyenSigningString(parse(NODE_ITEM))).toBe('pspReference:originalReference:merchantAccount:reference:1000:EUR:CAPTURE:true');
    // A missing originalReference is the empty string (HMACValidatorTest testValidateHMACMissingOptionalField).
    expect(adyenSigningString(parse(JAVA_ITEM))).toBe('test_REPORT_AVAILABLE::Magento2Rik:testMerchantRef1:0:EUR:REPORT_AVAILABLE:true');
  });

  it('adyen hmac - Adyen\'s published vectors verify', () => {
    expect(verifyAdyenItem(parse(NODE_ITEM), NODE_KEY)).toBe(true);
    expect(verifyAdyenItem(parse(JAVA_ITEM), JAVA_KEY)).toBe(true);
    expect(verifyAdyenItem(parse(SLASHES_ITEM), SLASHES_KEY)).toBe(true);
  });

  it('adyen hmac - signing reproduces Adyen\'s signatures byte for byte', () => {
    expect(signAdyenItem(parse(NODE_ITEM), NODE_KEY)).toBe(NODE_ITEM.additionalData!.hmacSignature);
    expect(signAdyenItem(parse(SLASHES_ITEM), SLASHES_KEY)).toBe(SLASHES_ITEM.additionalData!.hmacSignature);
  });

  it('adyen hmac - the key is case-insensitive hex', () => {
    expect(verifyAdyenItem(parse(NODE_ITEM), NODE_KEY.toLowerCase())).toBe(true);
  });

  it('adyen hmac - any change to a signed field, a wrong key or a mangled signature fails', () => {
    const item = parse(NODE_ITEM);
    for (const changed of [
      { ...item, pspReference: 'pspReferenceX' },
      { ...item, originalReference: undefined },
      { ...item, merchantAccountCode: 'other' },
      { ...item, merchantReference: 'reference2' },
      { ...item, amount: { value: 1001, currency: 'EUR' } },
      { ...item, amount: { value: 1000, currency: 'USD' } },
      { ...item, eventCode: 'REFUND' },
      { ...item, success: 'false' as const },
    ]) {
      expect(verifyAdyenItem(changed, NODE_KEY)).toBe(false);
    }
    expect(verifyAdyenItem(item, JAVA_KEY)).toBe(false);
    expect(verifyAdyenItem({ ...item, additionalData: {} }, NODE_KEY)).toBe(false);
    expect(verifyAdyenItem({ ...item, additionalData: { hmacSignature: 'notValidSign' } }, NODE_KEY)).toBe(false);
    // Base64 that decodes to 32 bytes only by skipping junk characters is refused too.
    expect(verifyAdyenItem({ ...item, additionalData: { hmacSignature: `!${NODE_ITEM.additionalData!.hmacSignature}` } }, NODE_KEY)).toBe(false);
  });

  it('adyen hmac - fields that are not signed may change (they are not covered by Adyen\'s HMAC)', () => {
    const item = parse({ ...NODE_ITEM, eventDate: '2030-01-01T00:00:00Z', reason: 'anything' });
    expect(verifyAdyenItem(item, NODE_KEY)).toBe(true);
  });

  it('adyen hmac - the escaped form DESIGN §3.6 describes is accepted as well, and differs only for `\\` and `:`', () => {
    const item = parse({ ...SLASHES_ITEM, additionalData: {} });
    expect(escapedSigningString(item)).toBe('ZVWN7D3WSMK2WN82::AntoniStroinski:\\\\\\:/\\\\/slashes are fun:1000:EUR:AUTHORISATION:true');
    expect(escapedSigningString(parse(NODE_ITEM))).toBe(adyenSigningString(parse(NODE_ITEM)));
    const escapedSignature = createHmac('sha256', Buffer.from(SLASHES_KEY, 'hex')).update(escapedSigningString(item)).digest('base64');
    expect(escapedSignature).not.toBe(SLASHES_ITEM.additionalData!.hmacSignature);
    expect(verifyAdyenItem({ ...item, additionalData: { hmacSignature: escapedSignature } }, SLASHES_KEY)).toBe(true);
  });

  it('adyen hmac - a notification body parses with unknown fields kept and unknown event codes allowed', () => {
    const body = adyenNotificationSchema.parse({
      live: 'false',
      notificationItems: [{ NotificationRequestItem: { ...SLASHES_ITEM, eventCode: 'SOMETHING_NEW', operations: ['CANCEL'] } }],
      extra: 1,
    });
    expect(body.notificationItems[0]!.NotificationRequestItem.eventCode).toBe('SOMETHING_NEW');
    expect((body.notificationItems[0]!.NotificationRequestItem as Record<string, unknown>).operations).toEqual(['CANCEL']);
    expect(adyenNotificationSchema.safeParse({ live: 'false', notificationItems: [] }).success).toBe(false);
    expect(notificationRequestItemSchema.safeParse({ ...NODE_ITEM, eventCode: 'lower' }).success).toBe(false);
    expect(notificationRequestItemSchema.safeParse({ ...NODE_ITEM, amount: { value: -1, currency: 'EUR' } }).success).toBe(false);
  });
});
