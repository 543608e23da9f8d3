// Stripe -> Close: a lead for each successful PaymentIntent with a receipt
// email (POST /api/v1/lead/), with that email as its contact and the amount
// in major units in the description.
function handler(webhook) {
  const { type, data } = webhook.payload;
  const pi = data?.object;
  if (type !== 'payment_intent.succeeded' || !pi?.receipt_email) {
    return null;
  }
  const name = pi.shipping?.name || pi.receipt_email;
  webhook.payload = {
    name,
    description: `Paid ${formatAmount(pi.amount_received ?? pi.amount, pi.currency)} (${pi.id}${pi.customer ? ', Stripe customer ' + pi.customer : ''}).`,
    contacts: [{ name, emails: [{ email: pi.receipt_email, type: 'office' }] }],
  };
  return webhook;
}
