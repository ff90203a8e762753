/** A transaction as the payment app hands it to record(). */
export const tx = (amount: number, extra: Record<string, unknown> = {}) => ({
  type: 'payment', amount, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' }, ...extra,
});
