// Stripe -> Resend (POST /emails): one email to your team (config.to) per
// payment, refund and dispute, from config.from. Stripe amounts are in the
// smallest unit with lower-case currency codes; formatAmount handles both.
function handler(webhook) {
  const { type, data, created } = webhook.payload;
  const { from, to } = webhook.env;
  if (!from || !to) {
    throw new Error('set config.from and config.to on this Resend destination');
  }
  const obj = data?.object;
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);
  let subject;
  switch (type) {
    case 'payment_intent.succeeded':
      subject = `Payment succeeded: ${formatAmount(obj.amount_received ?? obj.amount, obj.currency)}${obj.receipt_email ? ' from ' + obj.receipt_email : ''}`;
      break;
    case 'refund.created':
      subject = `Refunded ${formatAmount(obj.amount, obj.currency)}`;
      break;
    case 'charge.dispute.created':
      subject = `Dispute opened: ${formatAmount(obj.amount, obj.currency)} (${String(obj.reason ?? '').replace(/_/g, ' ')})`;
      break;
    case 'charge.dispute.closed':
      subject = `Dispute ${obj.status}: ${formatAmount(obj.amount, obj.currency)}`;
      break;
    default:
      return null;
  }
  const when = new Date(created * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  webhook.payload = {
    from,
    to: to.split(',').map((a) => a.trim()).filter(Boolean),
    subject,
    html: `<p>${esc(subject)}</p><p>${esc(type)} · ${esc(obj.id)} · ${esc(when)}</p>`,
    text: `${subject}\n\n${type} · ${obj.id} · ${when}`,
    tags: [{ name: 'event', value: type.replace(/[^A-Za-z0-9_-]/g, '_') }],
  };
  return webhook;
}
