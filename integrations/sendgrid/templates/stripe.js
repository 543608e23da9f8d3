// Stripe -> SendGrid Mail Send: one team email per successful or failed
// payment intent, refund and dispute, with the amount from formatAmount (the
// ISO 4217 table: "29.99 USD", "4500 JPY"). Sender and recipients come from
// the destination's config as webhook.env.sendgrid_from_email,
// sendgrid_from_name and sendgrid_to.
function handler(webhook) {
  const { type, data, id } = webhook.payload;
  const obj = data?.object ?? {};
  const env = webhook.env;
  const money = (minor) => (minor == null || !obj.currency ? 'an unknown amount' : formatAmount(minor, obj.currency.toUpperCase()));
  const who = obj.receipt_email ?? obj.billing_details?.email ?? obj.customer ?? 'a customer';
  let subject;
  let line;
  switch (type) {
    case 'payment_intent.succeeded':
      subject = `Payment received: ${money(obj.amount_received ?? obj.amount)} from ${who}`;
      line = `Payment ${obj.id} of ${money(obj.amount_received ?? obj.amount)} succeeded.`;
      break;
    case 'payment_intent.payment_failed':
      subject = `Payment failed: ${money(obj.amount)} from ${who}`;
      line = `Payment ${obj.id} of ${money(obj.amount)} failed: ${obj.last_payment_error?.message ?? 'no reason given'}.`;
      break;
    case 'refund.created':
      subject = `Refund issued: ${money(obj.amount)}`;
      line = `Refund ${obj.id} of ${money(obj.amount)} for ${obj.payment_intent ?? obj.charge}${obj.reason ? `: ${obj.reason}` : ''}.`;
      break;
    case 'charge.dispute.created':
    case 'charge.dispute.closed':
      subject = `Dispute ${type.endsWith('created') ? 'opened' : obj.status}: ${money(obj.amount)}`;
      line = `Dispute ${obj.id} on ${obj.charge} (${obj.reason ?? 'no reason'}): ${obj.status}.`;
      break;
    default:
      return null;
  }
  const lines = [line, `Customer: ${who}`, `Stripe event: ${id} (${type})`];
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const to = String(env.sendgrid_to ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  webhook.payload = {
    personalizations: [{ to: to.map((email) => ({ email })) }],
    from: env.sendgrid_from_name ? { email: env.sendgrid_from_email, name: env.sendgrid_from_name } : { email: env.sendgrid_from_email },
    subject,
    content: [
      { type: 'text/plain', value: lines.join('\n') },
      { type: 'text/html', value: lines.map((l) => `<p>${esc(l)}</p>`).join('') },
    ],
    custom_args: { event_type: type, stripe_event_id: id },
  };
  return webhook;
}
