// Dodo Payments -> SendGrid Mail Send (POST /v3/mail/send, Bearer API key):
// one email per event to the team address(es) of the destination's config.
//
// hookshift gives this script the config's sender and recipients as
// webhook.env.sendgrid_from_email, sendgrid_from_name and sendgrid_to (a
// comma-separated list). Amounts are formatted by formatAmount from the
// ISO 4217 table ("29.99 USD", "4500 JPY", "12.500 KWD"). Customer text is
// HTML-escaped in the HTML part. The customer's email and id are in the
// message and in custom_args, so SendGrid's activity feed finds it by
// customer.
//
// SendGrid's Mail Send has no idempotency key: a retry after a timeout may
// send the email twice. X-Message-Id in SendGrid's answer is what to search
// for in its activity feed.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const env = webhook.env;
  const customer = data?.customer ?? {};
  const who = customer.name ? `${customer.name} <${customer.email}>` : (customer.email ?? customer.customer_id ?? 'a customer');
  const amount = (minor) => (minor == null ? 'an unknown amount' : formatAmount(minor, data.currency));

  let subject;
  const lines = [];
  switch (type) {
    case 'payment.succeeded':
      subject = `Payment received: ${amount(data.total_amount)} from ${customer.name ?? customer.email ?? 'a customer'}`;
      lines.push(`Payment ${data.payment_id} of ${amount(data.total_amount)} succeeded.`);
      if (data.subscription_id) lines.push(`Subscription: ${data.subscription_id}`);
      break;
    case 'payment.failed':
      subject = `Payment failed: ${amount(data.total_amount)} from ${customer.name ?? customer.email ?? 'a customer'}`;
      lines.push(`Payment ${data.payment_id} of ${amount(data.total_amount)} failed: ${data.error_message ?? data.error_code ?? 'no reason given'}.`);
      break;
    case 'refund.succeeded':
    case 'refund.failed':
      subject = `Refund ${type === 'refund.succeeded' ? 'issued' : 'failed'}: ${amount(data.amount)}`;
      lines.push(`Refund ${data.refund_id} of ${amount(data.amount)} for payment ${data.payment_id}${data.reason ? `: ${data.reason}` : ''}.`);
      break;
    default:
      if (type.startsWith('dispute.')) {
        subject = `Dispute ${type.slice(8)}: ${data.amount != null ? amount(data.amount) : ''} on ${data.payment_id}`;
        lines.push(`Dispute ${data.dispute_id} on payment ${data.payment_id}: ${data.dispute_status ?? type.slice(8)}.`);
      } else if (type.startsWith('subscription.')) {
        subject = `Subscription ${type.slice(13).replace('_', ' ')}: ${data.subscription_id}`;
        lines.push(`Subscription ${data.subscription_id} (product ${data.product_id}) is now ${data.status}.`);
        if (data.recurring_pre_tax_amount != null) lines.push(`Plan: ${amount(data.recurring_pre_tax_amount)} every ${data.payment_frequency_count ?? 1} ${String(data.payment_frequency_interval ?? '').toLowerCase()}`);
      } else {
        return null;
      }
  }
  lines.push(`Customer: ${who}${customer.customer_id ? ` (${customer.customer_id})` : ''}`);
  lines.push(`Event: ${type} at ${timestamp}`);

  // from and to are required config fields; without them (a test run with
  // no destination) SendGrid refuses the request and says which is missing.
  const to = String(env.sendgrid_to ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  webhook.payload = {
    personalizations: [{ to: to.map((email) => ({ email })) }],
    from: env.sendgrid_from_name ? { email: env.sendgrid_from_email, name: env.sendgrid_from_name } : { email: env.sendgrid_from_email },
    subject,
    content: [
      { type: 'text/plain', value: lines.join('\n') },
      { type: 'text/html', value: lines.map((l) => `<p>${esc(l)}</p>`).join('') },
    ],
    custom_args: { event_type: type, customer_id: customer.customer_id ?? '', customer_email: customer.email ?? '' },
  };
  return webhook;
}
